"""The distribution the container image installs: a wheel of the project that carries the
migrations and the data files, not only the code (deploy/Dockerfile installs it)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_migrations_and_data(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("adoption_register-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {f"migrations/versions/{v}" for v in versions} <= names
    assert {
        "migrations/env.py",
        "migrations/script.py.mako",
        "services/register/seed/agencies.csv",
        "services/cli.py",
        "services/adopter_app/templates/base.html",
        "services/adopter_app/static/app.css",
    } <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "adoption-register = services.cli:app" in zipfile.ZipFile(wheel).read(entry_points).decode()
