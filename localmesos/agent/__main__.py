"""`python -m localmesos.agent ...` (same flags as `localmesos agent`)."""

from __future__ import annotations

import asyncio
import logging
import sys

from localmesos.agent.errors import FlagError
from localmesos.agent.flags import parse_flags
from localmesos.agent.server import run_agent


def main(argv: list[str] | None = None) -> None:
    try:
        flags = parse_flags(sys.argv[1:] if argv is None else argv)
    except FlagError as e:
        raise SystemExit(f"localmesos agent: {e}") from None
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s agent[{flags.ip}] %(levelname)s %(message)s")
    try:
        asyncio.run(run_agent(flags))
    except OSError as e:
        raise SystemExit(f"localmesos agent: cannot serve on {flags.ip}:{flags.port}: {e}") from None


if __name__ == "__main__":
    main()
