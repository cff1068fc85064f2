"""`<work_dir>/registry.json`: the agents this master (or a previous one) admitted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ValueError(f"registry {path} is unreadable: {exc}") from exc
    agents = data.get("agents") if isinstance(data, dict) else None
    return [a for a in agents or [] if isinstance(a, dict) and isinstance(a.get("id"), str)]


def save(path: Path, agents: list[dict[str, Any]]) -> None:
    """Atomic replace, so a crash never leaves half a registry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"agents": agents}, indent=1))
    os.replace(tmp, path)
