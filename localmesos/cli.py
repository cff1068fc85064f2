"""The `localmesos` command."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("localmesos: not built yet")
