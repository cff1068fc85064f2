"""The Mesos fetcher for `CommandInfo.uris` (reference §7.5): local paths, file:// and http(s) URLs.

Runs before the executor starts; any failure raises `LaunchError` (the agent turns it into
TASK_FAILED / REASON_CONTAINER_LAUNCH_FAILED). What it did is appended to the sandbox `stderr`,
as the real fetcher does.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from localmesos.agent.errors import LaunchError

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz")


def _basename(uri: str) -> str:
    path = urllib.parse.urlparse(uri).path if "://" in uri else uri
    name = os.path.basename(path.rstrip("/"))
    if not name:
        raise LaunchError(f"Malformed URI (no file name): {uri}")
    return name


def _download(uri: str, dest: Path) -> None:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in ("", "file"):
        source = Path(urllib.parse.unquote(parsed.path) if parsed.scheme else uri)
        if not source.is_absolute():
            raise LaunchError(f"Failed to fetch '{uri}': relative local paths are not supported")
        if not source.is_file():
            raise LaunchError(f"Failed to fetch '{uri}': no such file")
        shutil.copyfile(source, dest)
    elif parsed.scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(uri, timeout=30) as resp, open(dest, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as e:
            raise LaunchError(f"Failed to fetch '{uri}': {e}") from e
    else:
        raise LaunchError(f"Failed to fetch '{uri}': unsupported scheme '{parsed.scheme}'")


def _inside(root: Path, member: str) -> bool:
    target = (root / member).resolve()
    return target == root.resolve() or root.resolve() in target.parents


def _extract(archive: Path, sandbox: Path) -> bool:
    name = archive.name
    if name.endswith(_TAR_SUFFIXES):
        with tarfile.open(archive) as tar:
            tar.extractall(sandbox, filter="data")
        return True
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            bad = [m for m in zf.namelist() if not _inside(sandbox, m)]
            if bad:
                raise LaunchError(f"Failed to extract '{archive}': member escapes the sandbox: {bad[0]}")
            zf.extractall(sandbox)
        return True
    if name.endswith(".gz"):
        with gzip.open(archive, "rb") as src, open(sandbox / name[: -len(".gz")], "wb") as out:
            shutil.copyfileobj(src, out)
        return True
    return False


def fetch_uri(uri: dict[str, Any], sandbox: Path) -> str:
    value = uri.get("value")
    if not isinstance(value, str) or not value:
        raise LaunchError("URI has no 'value'")
    output = uri.get("output_file") or _basename(value)
    dest = sandbox / output
    if not _inside(sandbox, str(output)):
        raise LaunchError(f"Failed to fetch '{value}': output_file '{output}' escapes the sandbox")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _download(value, dest)
    if uri.get("executable"):
        dest.chmod(dest.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return f"Fetched '{value}' to '{dest}' (executable)"
    if uri.get("extract", True):
        try:
            if _extract(dest, sandbox):
                return f"Fetched '{value}' to '{dest}' and extracted it into '{sandbox}'"
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as e:
            raise LaunchError(f"Failed to extract '{dest}': {e}") from e
    return f"Fetched '{value}' to '{dest}'"


def fetch_all(uris: list[dict[str, Any]], sandbox: Path, container_id: str) -> None:
    """Fetch sequentially; failures raise LaunchError (the caller prefixes `Failed to launch container: `)."""
    with open(sandbox / "stderr", "a", encoding="utf-8") as log:
        for uri in uris:
            try:
                log.write(fetch_uri(uri, sandbox) + "\n")
            except LaunchError as e:
                log.write(f"{e}\n")
                raise LaunchError(f"Failed to fetch all URIs for container '{container_id}': {e}") from e
            except OSError as e:
                log.write(f"Failed to fetch '{uri.get('value')}': {e}\n")
                raise LaunchError(
                    f"Failed to fetch all URIs for container '{container_id}': {uri.get('value')}: {e}"
                ) from e
