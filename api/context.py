"""What every route needs: the scheduler's views, the mutations, the guard and the options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.commands import Commands
from api.queries import SidecarStatus
from api.read_cache import ReadCache
from framework.views import SchedulerView


@dataclass(frozen=True)
class AppContext:
    view: SchedulerView
    commands: Commands
    # Depends(...) on the bearer token: attached to every mutating route.
    guard: Any
    # This instance's public base URL (for the datacenter exchange); None: from the request.
    public_url: str | None
    sidecar_status: SidecarStatus | None
    cache: ReadCache

    def health_fingerprint(self, cluster: str) -> tuple[object, ...]:
        """What cached reads of the cluster depend on besides the store: the observed node health."""
        return tuple(sorted(self.view.node_health(cluster).items()))
