"""How the project starts the JVMs it owns (Cassandra, ZooKeeper): they die with their parent."""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for a JVM child: SIGKILL it when the process that started it dies.

    A test runner or sidecar killed without its cleanup must not leave a JVM holding ports,
    volumes and memory. Linux/glibc only; elsewhere the parents' own stop paths still apply.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
