"""Status update streams: one in flight per task, retried with doubling backoff until acknowledged."""

from __future__ import annotations

from localmesos.agent.records import TaskRecord
from localmesos.agent.updates import UpdateStreams


def _record(task_id: str, *uuids: str) -> TaskRecord:
    return TaskRecord(
        framework_id="F",
        framework_info={},
        task={"task_id": {"value": task_id}},
        container_id="c",
        sandbox="/sb",
        meta_dir="/meta",
        pending=[{"uuid": u, "state": "TASK_RUNNING"} for u in uuids],
    )


def _sent(streams: UpdateStreams, records: list[TaskRecord], now: float) -> list[tuple[str, str, bool]]:
    return [(r.task_id, u["uuid"], retry) for r, u, retry in streams.due(records, now)]


def test_head_is_sent_at_once_then_retried_with_doubling_backoff_up_to_the_max() -> None:
    streams = UpdateStreams(retry=10, retry_max=25)
    rec = _record("t", "u1", "u2")
    assert _sent(streams, [rec], now=0) == [("t", "u1", False)]
    assert _sent(streams, [rec], now=9.9) == []
    assert _sent(streams, [rec], now=10) == [("t", "u1", True)]  # next in 20 s
    assert _sent(streams, [rec], now=29.9) == []
    assert _sent(streams, [rec], now=30) == [("t", "u1", True)]  # next in 25 s (capped)
    assert _sent(streams, [rec], now=54.9) == []
    assert _sent(streams, [rec], now=55) == [("t", "u1", True)]


def test_ack_releases_the_next_update_immediately_and_stale_acks_do_nothing() -> None:
    streams = UpdateStreams(retry=10, retry_max=600)
    rec = _record("t", "u1", "u2")
    _sent(streams, [rec], now=0)
    assert not streams.acknowledge(rec, "u2"), "only the update in flight can be acknowledged"
    assert streams.acknowledge(rec, "u1")
    assert not streams.acknowledge(rec, "u1"), "a duplicate ack changes nothing"
    assert _sent(streams, [rec], now=0.1) == [("t", "u2", False)]
    assert streams.acknowledge(rec, "u2") and rec.pending == []
    assert _sent(streams, [rec], now=1) == []


def test_streams_are_independent_and_resend_all_restarts_timers() -> None:
    streams = UpdateStreams(retry=10, retry_max=600)
    a, b = _record("a", "ua"), _record("b", "ub")
    assert _sent(streams, [a, b], now=0) == [("a", "ua", False), ("b", "ub", False)]
    streams.resend_all()  # e.g. re-registered with a restarted master
    assert _sent(streams, [a, b], now=1) == [("a", "ua", False), ("b", "ub", False)]
    silent = _record("s", "us")
    silent.silent = True  # framework shut down: nothing is sent
    assert _sent(streams, [silent], now=2) == []


def test_next_retry_at_is_the_earliest_armed_timer() -> None:
    streams = UpdateStreams(retry=10, retry_max=600)
    assert streams.next_retry_at() is None
    a, b = _record("a", "ua"), _record("b", "ub")
    _sent(streams, [a], now=0)
    _sent(streams, [b], now=3)
    assert streams.next_retry_at() == 10
    streams.acknowledge(a, "ua")
    assert streams.next_retry_at() == 13
