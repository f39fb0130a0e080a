"""Lean state: environment snapshots stored once by hash, checkpoints that write each value once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hardgen.config import Settings
from hardgen.environment.base import Environment
from hardgen.runner import Runner
from hardgen.snapshots import MemorySnapshots, SnapshotMissing, SqliteSnapshots
from hardgen.store import ResultStore


def test_a_snapshot_comes_back_equal_in_order_and_types(tmp_path: Path) -> None:
    env = Environment.from_suites(["travel", "banking"], seed=5)
    snap = env.snapshot()
    store = SqliteSnapshots(tmp_path / "s.sqlite")
    ref = store.put(snap, owner="a")
    store.close()
    again = SqliteSnapshots(tmp_path / "s.sqlite")  # another connection, as a resumed process
    got = again.get(ref)
    assert repr(got) == repr(snap)  # same keys in the same order, same types
    restored = Environment.from_suites(["travel", "banking"])
    restored.restore(got)
    assert restored.state_hash() == env.state_hash()
    with pytest.raises(SnapshotMissing):
        again.get("0" * 64)
    again.close()


def test_a_suites_starting_state_is_stored_once_whatever_the_seed() -> None:
    store = MemorySnapshots()
    refs = {store.put(Environment.from_suites(["travel"], seed=s).snapshot(), owner=str(s)) for s in range(5)}
    assert len(refs) == 5  # the seeds differ, so the snapshots do
    assert len(store) == 5 + 1  # five small manifests and one copy of the state


def test_release_forgets_an_owners_blobs_but_keeps_shared_ones(tmp_path: Path) -> None:
    store = SqliteSnapshots(tmp_path / "s.sqlite")
    env = Environment.from_suites(["banking"], seed=1)
    shared = store.put(env.snapshot(), owner="one")
    store.put(env.snapshot(), owner="two")
    backend = env.backends["banking"]
    setattr(backend, backend._state_keys[0], ["a state of item one's own"])  # type: ignore[attr-defined]
    own = store.put(env.snapshot(), owner="one")
    store.release("one")
    assert store.get(shared)  # item two still refers to it
    fresh = SqliteSnapshots(tmp_path / "s.sqlite")  # no cache: what the file holds
    with pytest.raises(SnapshotMissing):
        fresh.get(own)
    assert fresh.get(shared)
    fresh.close()
    store.close()


def _run(tmp_path: Path, name: str, **run: object) -> Path:
    settings = Settings.model_validate(
        {
            "run": {"seed": 4, "trajectories": 6, "concurrency": 3, **run},
            "environment": {"suites": ["travel", "banking", "messaging"], "suites_per_item": 2},
        }
    )
    runner = Runner(settings, tmp_path / name, keep_checkpoints=True, write_live=False)
    asyncio.run(runner.run())
    return tmp_path / name


def test_checkpoints_hold_hashes_and_write_each_value_once(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "kept")
    db = sqlite3.connect(run_dir / "checkpoints.sqlite")
    try:
        # the finished turns are written once per new version, not in each of the thread's checkpoints
        checkpoints = db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
        turns = db.execute("SELECT COUNT(*) FROM checkpoint_blobs WHERE channel = 'turns'").fetchone()[0]
        assert turns < checkpoints / 4
        biggest = db.execute("SELECT MAX(LENGTH(checkpoint)) FROM checkpoints").fetchone()[0]
        assert biggest < 8_000  # versions only: no environment snapshot, no turns
    finally:
        db.close()
    snaps = sqlite3.connect(run_dir / "snapshots.sqlite")
    try:
        assert snaps.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] > 0
    finally:
        snaps.close()
    # and the dataset is the one a run without checkpoints (snapshots in memory) makes
    with (
        ResultStore(run_dir / "results.sqlite") as a,
        ResultStore(_run(tmp_path, "none", durability="none") / "results.sqlite") as b,
    ):
        assert a.dataset_hash() == b.dataset_hash()
        assert a.count() == 6
