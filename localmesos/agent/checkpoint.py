"""Atomic JSON checkpoints (write a temp file, rename) so a killed process never leaves half a file.

No fsync: localmesos' faults are killed processes, not power loss, and the page cache survives
those; an fsync per status update would stall the agent's event loop on a busy disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_json_or(path: Path, default: Any) -> Any:
    try:
        return read_json(path)
    except FileNotFoundError:
        return default
