"""Lint and format: the code CI tests is the code `ruff check` and `ruff format` accept (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    """Run ruff from the environment the tests run in (it comes with the test extras)."""
    return subprocess.run([sys.executable, "-m", "ruff", *arguments], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def ruff_installed():
    """Skip, with the command to fix it, where ruff is missing (it is in the test extras)."""
    try:
        import ruff as _  # noqa: F401
    except ImportError:
        pytest.skip("ruff is not installed: pip install -e '.[test]'")


def test_lint_passes():
    """`ruff check .` finds nothing: pyflakes, pycodestyle, import order, pyupgrade and bugbear rules."""
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    """`ruff format --check .` would change no file; run `ruff format .` after editing."""
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
