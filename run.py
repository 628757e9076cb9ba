#!/usr/bin/env python3
"""Set-up and run in one step, on a machine with nothing but Python 3.11+.

    python3 run.py demo    # install, then migrate + seed + match + serve (embedded PostgreSQL)
    python3 run.py test    # install with test extras, then lint, type-check and run the tests

Anything after the command is passed on (to `adoption-register demo` or to pytest).
`test` runs ruff check and ruff format --check (a failure stops it there), then mypy beside
pytest on every core (pytest-xdist); it exits with the code of the first step that failed.
The virtual environment lives in .venv and is reinstalled only when pyproject.toml changes.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment() -> None:
    # One environment for both commands (the test extras are small), so switching between
    # them never reinstalls.
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py runs before the project's Python is known
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print("creating the virtual environment in .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    print("installing the project and its dependencies (first run only)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    # --no-compile: Python compiles each module when first imported; compiling all of SciPy,
    # Matplotlib and the rest up front costs more than the few modules a run uses.
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--no-compile", "-e", f"{ROOT}[test]"], check=True)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def child_environment() -> dict[str, str]:
    """The environment of every step, with bytecode caching on.

    A test run starts dozens of Python processes (xdist workers, server processes, CLI calls),
    each importing FastAPI, SQLAlchemy and SciPy. With PYTHONDONTWRITEBYTECODE set (some
    machines set it globally) each of them compiles those from source again: about two
    seconds of CPU a process. The caches go to __pycache__ folders inside .venv and the
    checkout, which git ignores.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def pytest_parallel(args: list[str]) -> list[str]:
    """One worker per core, unless the caller chose (-n, --numprocesses, -p no:xdist, --pdb)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--pdb", "-pno:xdist")) or a == "no:xdist" for a in args)
    # By file: a module's fixtures (two server processes, generated registers) are made once.
    return [] if chosen else ["-n", "logical", "--dist", "loadfile"]


def _report(name: str, code: int, seconds: float) -> None:
    print(f"== {name}: {'ok' if code == 0 else f'failed ({code})'} in {seconds:.1f} s", flush=True)


def run_tests(args: list[str]) -> int:
    """Ruff first (a fraction of a second, so a lint error stops the run at once); then mypy
    and pytest side by side. Mypy needs one core for about 12 s and pytest's workers leave
    gaps (start-up, collection, the last module of the slower worker), so mypy runs at a
    lower priority and fills them. Its output is printed when it ends; the exit code is that
    of the first step, in this order, that failed."""
    python = str(PYTHON)
    env = child_environment()
    for name, command in (
        ("ruff check", [python, "-m", "ruff", "check", "."]),
        ("ruff format", [python, "-m", "ruff", "format", "--check", "."]),
    ):
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT, env=env)
        _report(name, code, time.perf_counter() - started)
        if code != 0:
            return code
    started = time.perf_counter()
    with tempfile.TemporaryFile() as mypy_output:
        mypy = subprocess.Popen(
            [python, "-m", "mypy"],
            cwd=ROOT,
            env=env,
            stdout=mypy_output,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.nice(10)) if os.name == "posix" else None,
        )
        mypy_ended: list[float] = []  # noted by a thread, so mypy's own time is reported

        def note_end() -> None:
            mypy.wait()
            mypy_ended.append(time.perf_counter())

        waiter = threading.Thread(target=note_end)
        waiter.start()
        print("== pytest (mypy runs beside it; its result follows)", flush=True)
        pytest_code = subprocess.call([python, "-m", "pytest", *pytest_parallel(args), *args], cwd=ROOT, env=env)
        _report("pytest", pytest_code, time.perf_counter() - started)
        waiter.join()
        print("== mypy", flush=True)
        mypy_output.seek(0)
        sys.stdout.buffer.write(mypy_output.read())
        sys.stdout.flush()
        mypy_code = mypy.returncode
        _report("mypy", mypy_code, mypy_ended[0] - started)
    return mypy_code or pytest_code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "demo":
        ensure_environment()
        return subprocess.call([str(BIN / "adoption-register"), "demo", *rest], cwd=ROOT, env=child_environment())
    ensure_environment()
    return run_tests(rest)


if __name__ == "__main__":
    sys.exit(main())
