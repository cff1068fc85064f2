"""ZooKeeper's multiRead (opcode 22, ZooKeeper 3.6+) for kazoo, which lacks it.

kazoo sends one request per turn of its connection loop, about 4,000 per second, so loading
1,000 task records one ``get`` each took half a second. A multiRead carries hundreds of
getData/getChildren in one request and one answer. Built from kazoo's own serialisation
helpers and handed to the client like its ``Transaction`` request; kazoo 2.11 is pinned, and
a server without multiRead (``UnimplementedError``) makes the caller fall back to single reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from kazoo.client import KazooClient
from kazoo.exceptions import EXCEPTIONS
from kazoo.protocol.serialization import (
    GetChildren,
    GetData,
    MultiHeader,
    int_struct,
    multiheader_struct,
    read_buffer,
    read_string,
    stat_struct,
    write_string,
)
from kazoo.protocol.states import ZnodeStat

ReadKind = Literal["data", "children"]
ReadResult = tuple[bytes, ZnodeStat] | list[str] | Exception

OPCODE_MULTI_READ = 22
_ERROR = -1


class MultiRead(NamedTuple):
    """One request of getData/getChildren operations (no watches)."""

    ops: tuple[tuple[ReadKind, str], ...]

    # kazoo's connection reads ``type`` from the request object; a class attribute of a
    # NamedTuple would become a field, hence the property.
    @property
    def type(self) -> int:
        return OPCODE_MULTI_READ

    def serialize(self) -> bytes:
        b = bytearray()
        for kind, path in self.ops:
            opcode = GetData.type if kind == "data" else GetChildren.type
            b += MultiHeader(opcode, False, -1).serialize()
            b += write_string(path)
            b += b"\x00"  # watch: no
        b += multiheader_struct.pack(-1, True, -1)
        return bytes(b)

    @classmethod
    def deserialize(cls, buf: bytes, offset: int) -> list[ReadResult]:
        results: list[ReadResult] = []
        header, offset = MultiHeader.deserialize(buf, offset)
        while not header.done:
            if header.type == GetData.type:
                data, offset = read_buffer(buf, offset)
                stat = ZnodeStat._make(stat_struct.unpack_from(buf, offset))
                offset += stat_struct.size
                results.append((data or b"", stat))
            elif header.type == GetChildren.type:
                count = int_struct.unpack_from(buf, offset)[0]
                offset += int_struct.size
                children: list[str] = []
                for _ in range(max(count, 0)):
                    child, offset = read_string(buf, offset)
                    children.append(child)
                results.append(children)
            elif header.type == _ERROR:
                err = int_struct.unpack_from(buf, offset)[0]
                offset += int_struct.size
                results.append(EXCEPTIONS[err]())
            else:
                raise ValueError(f"multiRead answer with unexpected operation type {header.type}")
            header, offset = MultiHeader.deserialize(buf, offset)
        return results


def multi_read_async(client: KazooClient, ops: Sequence[tuple[ReadKind, str]]) -> Any:
    """Send one multiRead; the async result yields one ``ReadResult`` per op, in order."""
    # Like kazoo's own requests, paths are relative to the chroot of the connection string.
    chroot = client.chroot or ""
    full = tuple((kind, chroot + path if path != "/" or not chroot else chroot) for kind, path in ops)
    async_result = client.handler.async_result()
    client._call(MultiRead(full), async_result)  # the same entry kazoo's transactions use
    return async_result
