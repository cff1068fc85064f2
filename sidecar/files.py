"""Writing the rendered configuration into the sandbox; atomic so Cassandra never reads half a file."""

from __future__ import annotations

import os
from pathlib import Path

from sidecar.config import NodePaths, RenderedConfig


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def prepare_dirs(paths: NodePaths) -> None:
    for d in (paths.conf, paths.logs, paths.tmp, paths.volume):
        d.mkdir(parents=True, exist_ok=True)


def write_config(rendered: RenderedConfig, paths: NodePaths) -> None:
    prepare_dirs(paths)
    for path, text in rendered.files(paths).items():
        write_atomically(path, text)
