"""The code stays lint-clean, formatted and type-checked (ruff and mypy as configured in pyproject)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = ["hardgen", "agents", "graphs", "environment", "prompts", "tests", "benchmarks", "scripts"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)


RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.skipif(
    not RUFF.exists(), reason="ruff is not installed beside this Python (pip install -e '.[dev]')"
)
def test_ruff_finds_nothing() -> None:
    ruff = str(RUFF)
    lint = run(ruff, "check", *CODE)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run(ruff, "format", "--check", *CODE)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_finds_nothing() -> None:
    result = run(sys.executable, "scripts/typecheck.py")
    assert result.returncode == 0, result.stdout + result.stderr
