"""A real TCP proxy in front of the Mesos master, to cut or silence connections like a network would."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    subscription: bool = False
    frozen: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; can drop or freeze the connections it carries."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()
        for link in self._links:
            for t in link.tasks:
                t.cancel()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        link = _Link(writer, up_writer)
        self._links.append(link)
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link, to_upstream=True)),
            asyncio.create_task(self._pump(up_reader, writer, link, to_upstream=False)),
        ]

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link, to_upstream: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if to_upstream and b'"SUBSCRIBE"' in data:
                    link.subscription = True
                if link.frozen:
                    continue  # silently swallowed, like packets into a partition
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()

    def subscription_links(self) -> int:
        return sum(1 for link in self._links if link.subscription and not link.client.is_closing())

    def freeze_subscriptions(self) -> None:
        """Existing subscription connections stay open but carry nothing any more."""
        for link in self._links:
            if link.subscription:
                link.frozen = True

    def drop(self) -> None:
        """Close every connection now (both sides see the TCP connection end)."""
        for link in self._links:
            for w in (link.client, link.upstream):
                with contextlib.suppress(OSError, RuntimeError):
                    w.close()
