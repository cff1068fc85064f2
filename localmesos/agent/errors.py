"""Errors the localmesos agent raises on purpose."""

from __future__ import annotations


class LocalMesosError(Exception):
    """Base of every error localmesos raises on purpose."""


class FlagError(LocalMesosError):
    """A command-line flag is malformed; the message names the flag and what is wrong."""


class LaunchError(LocalMesosError):
    """A task could not be launched (fetch failure, bad command); becomes REASON_CONTAINER_LAUNCH_FAILED."""
