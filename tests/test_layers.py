"""House rules that a reviewer should not have to check by eye (CONTRIBUTING.md):

- SQL is built only in `repository.py` files (and table definitions in `models.py`; the
  session machinery in `core/database.py`; the matching engine takes arrays, not SQL);
- `services/core` knows no domain: it imports nothing from the register or matching;
- the simulation is pure computation: no SQLAlchemy, no ORM models, no database loader;
- a test module imports helpers only from `tests.fixtures` and `tests.factories` (and its own
  package's helper modules), never from another test module or a conftest;
- Ruff and mypy run on the tree (run.py) and fail on a planted violation.
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "services"
TESTS = ROOT / "tests"

SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
# Files that may build SQL besides repositories: table definitions (server defaults and
# partial indexes use text()), and the core session machinery (request context, snapshot).
SQL_ALLOWED = {"models.py", "repository.py"}
SQL_ALLOWED_PATHS = {
    "services/core/database.py",
    "services/core/audit.py",
    "services/core/app_factory.py",  # the readiness probe's SELECT 1
}


def _imported_names(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(module, name, line) of every `from module import name` in a file."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "", node.lineno) for alias in node.names)
    return found


def sql_outside_repositories(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).as_posix()
        if path.name in SQL_ALLOWED or relative in SQL_ALLOWED_PATHS or "/engine/" in relative:
            continue
        for module, name, line in _imported_names(ast.parse(path.read_text())):
            if module.startswith("sqlalchemy") and name in SQL_BUILDERS:
                problems.append(f"{relative}:{line} imports {name} from {module}: SQL belongs in repository.py")
    return problems


def core_imports_domain(root: Path) -> list[str]:
    problems = []
    for path in sorted((root / "core").rglob("*.py")):
        for module, _, line in _imported_names(ast.parse(path.read_text())):
            if module.startswith(("services.register", "services.matching")):
                problems.append(f"{path.relative_to(root.parent)}:{line} imports {module}: core knows no domain")
    return problems


def simulation_imports_database(root: Path) -> list[str]:
    problems = []
    for path in sorted((root / "matching" / "simulation").rglob("*.py")):
        for module, _, line in _imported_names(ast.parse(path.read_text())):
            if module.startswith(("sqlalchemy", "services.matching.loader", "services.register.models")):
                problems.append(f"{path.relative_to(root.parent)}:{line} imports {module}: the simulation is pure")
    return problems


def imports_of_test_modules(root: Path) -> list[str]:
    """Shared fixtures and helpers live in tests/fixtures (registered in tests/conftest.py):
    importing them from a test module runs and registers that module twice, and importing
    from a conftest bypasses pytest's own lookup."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        for module, _, line in _imported_names(ast.parse(path.read_text())):
            last = module.rsplit(".", 1)[-1]
            if module.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                problems.append(f"{path.relative_to(root.parent)}:{line} imports {module}: use tests/fixtures")
    return problems


def test_the_tree_keeps_the_house_rules():
    assert sql_outside_repositories(SERVICES) == []
    assert core_imports_domain(SERVICES) == []
    assert simulation_imports_database(SERVICES) == []
    assert imports_of_test_modules(TESTS) == []


def _plant(tmp_path: Path, relative: str, source: str) -> Path:
    path = tmp_path / "services" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return tmp_path / "services"


def test_the_layer_checks_catch_planted_violations(tmp_path):
    root = _plant(tmp_path, "register/things/service.py", "from sqlalchemy import select\n")
    _plant(tmp_path, "register/things/repository.py", "from sqlalchemy import select\n")
    _plant(tmp_path, "core/helpers.py", "from services.register.models import Child\n")
    _plant(tmp_path, "matching/simulation/model.py", "import sqlalchemy\n")
    assert sql_outside_repositories(root) == [
        "services/register/things/service.py:1 imports select from sqlalchemy: SQL belongs in repository.py"
    ]
    assert core_imports_domain(root) == [
        "services/core/helpers.py:1 imports services.register.models: core knows no domain"
    ]
    assert simulation_imports_database(root) == [
        "services/matching/simulation/model.py:1 imports sqlalchemy: the simulation is pure"
    ]
    tests = tmp_path / "tests"
    (tests / "things").mkdir(parents=True)
    (tests / "things" / "test_b.py").write_text(
        "from tests.things.test_a import made\n"
        "from tests.things.conftest import thing\n"
        "from tests.fixtures.x import y\n"
    )
    assert imports_of_test_modules(tests) == [
        "tests/things/test_b.py:1 imports tests.things.test_a: use tests/fixtures",
        "tests/things/test_b.py:2 imports tests.things.conftest: use tests/fixtures",
    ]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_and_mypy_fail_on_a_planted_violation(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import os\n\n\ndef half(n: int) -> int:\n    return n / 2\n")
    lint = _run("ruff", "check", "--config", str(ROOT / "pyproject.toml"), str(planted))
    assert lint.returncode == 1 and "F401" in lint.stdout  # the unused import
    types = _run("mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(planted))
    assert types.returncode == 1 and "Incompatible return value type" in types.stdout
