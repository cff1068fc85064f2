"""The localmesos master: `python -m localmesos.master --port P --work-dir D ...`."""

from __future__ import annotations

from localmesos.master.main import main, parse_args, run_master

__all__ = ["main", "parse_args", "run_master"]
