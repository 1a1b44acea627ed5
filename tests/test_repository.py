"""Habits of the repository: what the README cites exists, and the Makefile installs what each target needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_cites_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    cited = set(re.findall(r"`([^`\s]*\.(?:json|py))`", readme)) | set(re.findall(r"\b(bench/[\w./-]+)", readme))
    missing = []
    for name in sorted(cited):
        name = name.rstrip(".,)")
        if name.startswith(("/", ".")) or "{" in name or "<" in name or name in ("peers.json",):
            continue  # URLs of the API and names the reader chooses
        if not ((ROOT / name).exists() or (ROOT / "bench" / "results" / Path(name).name).exists()):
            missing.append(name)
    assert not missing, f"README cites files that do not exist: {missing}"


def _make_dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    make = shutil.which("make")
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [make, "-n", "-B", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_make_run_installs_runtime_requirements_only_and_takes_a_port():
    plan = _make_dry_run("run", "PORT=8080")
    assert "-r requirements.txt" in plan and "requirements-dev.txt" not in plan
    assert "flask run --host 127.0.0.1 --port 8080" in plan


def test_make_test_installs_the_dev_requirements_and_lint_checks_formatting():
    assert "-r requirements-dev.txt" in _make_dry_run("test")
    lint = _make_dry_run("lint")
    assert "ruff check" in lint and "ruff format --check" in lint and "gunicorn.conf.py" in lint
