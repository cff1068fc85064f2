"""RecordIO decoding: records survive any chunking of the byte stream; garbage is a clear error."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.mesos.errors import RecordIOError
from framework.mesos.recordio import RecordIODecoder, encode

REFERENCE_STREAM = (
    b'139\n{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"5b3c8f5e-9a3e-4a6b-8a7e-2f1d0c9b7a11-0000"},'
    b'"heartbeat_interval_seconds":15.0}}20\n{"type":"HEARTBEAT"}'
)


def test_decodes_the_reference_example_byte_exactly() -> None:
    records = RecordIODecoder().feed(REFERENCE_STREAM)
    assert [len(r) for r in records] == [139, 20]
    assert records[1] == b'{"type":"HEARTBEAT"}'


def test_one_byte_at_a_time() -> None:
    decoder = RecordIODecoder()
    out: list[bytes] = []
    for i in range(len(REFERENCE_STREAM)):
        out += decoder.feed(REFERENCE_STREAM[i : i + 1])
    assert [len(r) for r in out] == [139, 20]
    assert decoder.pending_bytes == 0


@given(
    records=st.lists(st.binary(min_size=1, max_size=300), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=30),
)
def test_any_chunking_yields_the_same_records(records: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode(r) for r in records)
    bounds = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    decoder = RecordIODecoder()
    out: list[bytes] = []
    for a, b in itertools.pairwise(bounds):
        out += decoder.feed(stream[a:b])
    assert out == records
    assert decoder.pending_bytes == 0


def test_multibyte_utf8_lengths_count_bytes() -> None:
    payload = '{"message":"né à"}'.encode()
    assert RecordIODecoder().feed(encode(payload) + encode(b"x")) == [payload, b"x"]


@pytest.mark.parametrize(
    "garbage",
    [b"abc\n{}", b"12x\n", b"0\n", b"\n{}", b"123456789012345678901234567890"],
)
def test_garbage_is_a_recordio_error(garbage: bytes) -> None:
    with pytest.raises(RecordIOError):
        RecordIODecoder().feed(garbage)


def test_oversized_record_is_refused() -> None:
    with pytest.raises(RecordIOError, match="outside"):
        RecordIODecoder(max_record_bytes=10).feed(b"11\n")
