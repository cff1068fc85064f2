"""Style and architecture gates run with the suite: ruff, mypy and the layering of ARCHITECTURE.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean() -> None:
    r = _run(str(BIN / "mypy"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_layers_respected() -> None:
    r = _run(str(BIN / "lint-imports"))
    assert r.returncode == 0, r.stdout + r.stderr
