"""The check that no personal name reaches a log line (tests/fixtures/logs.py) is wired in:
it sees the access log, and a name logged during a test fails that test."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def test_the_access_log_reaches_the_check(client, auth, log_scanner):
    before = log_scanner.access_lines
    await client.get("/v1/agencies", headers=auth())
    assert log_scanner.access_lines == before + 1


def test_a_name_in_a_log_line_fails_the_test_that_logged_it(tmp_path):
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent("""
            import logging

            def test_leaks():
                logging.getLogger("adoption_register.somewhere").info("placed Wilhelmina with a family")

            def test_leaks_a_synthetic_name():
                logging.getLogger("adoption_register.somewhere").warning("error for Chloe Baker")

            def test_clean():
                logging.getLogger("adoption_register.somewhere").info("placed C-0000000001")
        """)
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.fixtures.logs", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 passed, 2 errors" in result.stdout, result.stdout
    assert "ERROR at teardown of test_leaks " in result.stdout and "['Wilhelmina']" in result.stdout
    assert "ERROR at teardown of test_leaks_a_synthetic_name" in result.stdout
