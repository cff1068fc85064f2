"""Incremental decoder of RecordIO (``<decimal length>\\n<bytes>``, no trailing delimiter).

HTTP chunk boundaries are unrelated to record boundaries, so the decoder buffers bytes and
emits whole records only.
"""

from __future__ import annotations

from framework.mesos.errors import RecordIOError

# Far above any real event (a large OFFERS event is a few MB), low enough that garbage that
# happens to look like digits cannot make us buffer gigabytes.
MAX_RECORD_BYTES = 256 * 1024 * 1024
_MAX_HEADER_DIGITS = 20  # a uint64 has at most 20 decimal digits


class RecordIODecoder:
    """Feed bytes, get complete records back; keeps any partial record for the next feed."""

    def __init__(self, max_record_bytes: int = MAX_RECORD_BYTES) -> None:
        self._buffer = bytearray()
        self._expected: int | None = None
        self._max = max_record_bytes

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        records: list[bytes] = []
        while True:
            if self._expected is None:
                newline = self._buffer.find(b"\n", 0, _MAX_HEADER_DIGITS + 1)
                if newline < 0:
                    if len(self._buffer) > _MAX_HEADER_DIGITS:
                        raise RecordIOError(f"RecordIO header too long: {bytes(self._buffer[:24])!r}...")
                    self._check_digits(self._buffer)
                    return records
                header = bytes(self._buffer[:newline])
                self._check_digits(header)
                if not header:
                    raise RecordIOError("RecordIO header is empty (expected a decimal length before '\\n')")
                size = int(header)
                if size == 0 or size > self._max:
                    raise RecordIOError(f"RecordIO record length {size} outside 1..{self._max}")
                del self._buffer[: newline + 1]
                self._expected = size
            if len(self._buffer) < self._expected:
                return records
            records.append(bytes(self._buffer[: self._expected]))
            del self._buffer[: self._expected]
            self._expected = None

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete record still buffered (0 at a record boundary)."""
        return len(self._buffer)

    @staticmethod
    def _check_digits(header: bytes | bytearray) -> None:
        if header and not header.isdigit():
            raise RecordIOError(f"RecordIO header is not a decimal length: {bytes(header[:24])!r}")


def encode(record: bytes) -> bytes:
    """Frame one record (used by tests and by anything that must speak RecordIO)."""
    return str(len(record)).encode() + b"\n" + record
