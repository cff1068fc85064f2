"""The config file and the offer-interest rule (suppress when idle, revive on new work)."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.config import ConfigError, load_config
from framework.reconciler.offers import Interest, OfferInterest


def test_a_minimal_config_file_gets_production_defaults(tmp_path: Path) -> None:
    f = tmp_path / "scheduler.yaml"
    f.write_text("masters: [10.0.0.1:5050]\nzookeeper: {hosts: 'zk1:2181'}\n")
    config = load_config(f)
    assert config.zookeeper.store_root == "/cassandra-mesos/dc1"
    assert config.framework.failover_timeout_s == 7 * 24 * 3600
    assert config.timing.refuse_seconds == 120
    assert config.node.command == "python3 -m sidecar"
    assert config.scheduler_url() == "http://127.0.0.1:8080"
    assert config.scheduler_url(9999) == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("zookeeper: {hosts: zk}\n", "masters"),
        ("masters: [m]\nzookeeper: {hosts: zk, root: relative}\n", "zookeeper.root"),
        ("masters: [m]\nzookeeper: {hosts: zk}\nframework: {role: '*'}\n", "framework.role"),
        ("masters: [m]\nzookeeper: {hosts: zk}\ntiming: {refuse_second: 5}\n", "timing.refuse_second"),
        ("masters: [m\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_files_are_refused_naming_the_problem(tmp_path: Path, text: str, names: str) -> None:
    f = tmp_path / "scheduler.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_config(f)


def test_a_missing_config_file_is_named() -> None:
    with pytest.raises(ConfigError, match=r"cannot read scheduler config /nonexistent\.yaml"):
        load_config("/nonexistent.yaml")


@pytest.mark.parametrize(
    ("suppressed", "before", "now_pending", "elapsed", "expected"),
    [
        (None, set(), set(), 0, Interest.SUPPRESS),  # just subscribed, nothing to do
        (True, set(), set(), 0, Interest.NONE),  # already suppressed
        (False, {"a"}, set(), 0, Interest.SUPPRESS),  # work done
        (True, set(), {"a"}, 0, Interest.REVIVE),  # new work
        (False, {"a"}, {"a", "b"}, 0, Interest.REVIVE),  # more new work: clears declines' filters
        (False, {"a"}, {"a"}, 5, Interest.NONE),  # same work, revived recently
        (False, {"a"}, {"a"}, 31, Interest.REVIVE),  # same work still unplaced after a while
    ],
)
def test_offer_interest(
    suppressed: bool | None, before: set[str], now_pending: set[str], elapsed: float, expected: Interest
) -> None:
    interest = OfferInterest(suppressed, frozenset(before), 100.0)
    assert interest.decide(frozenset(now_pending), 100.0 + elapsed, 30.0) is expected


@pytest.mark.parametrize(
    ("suppressed", "sweeping", "elapsed", "expected"),
    [
        (True, False, 899, Interest.NONE),  # suppressed, not time to sweep yet
        (True, False, 900, Interest.REVIVE),  # sweep: offers come back for the orphan cleanup
        (False, True, 5, Interest.NONE),  # sweeping: hold the offers a few allocation rounds
        (False, True, 15, Interest.SUPPRESS),  # sweep over
        (False, False, 5, Interest.SUPPRESS),  # work done: suppress at once, no hold
    ],
)
def test_offer_interest_sweeps_for_orphans_while_idle(
    suppressed: bool, sweeping: bool, elapsed: float, expected: Interest
) -> None:
    interest = OfferInterest(suppressed, frozenset(), 100.0, sweeping=sweeping)
    assert (
        interest.decide(frozenset(), 100.0 + elapsed, 30.0, sweep_every=900.0, sweep_window=15.0) is expected
    )
