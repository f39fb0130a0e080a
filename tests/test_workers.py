"""run.workers: items in several processes sharing one run directory; the dataset is the one of a
single process, whatever the number of workers and however they are killed (a worker, the parent)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hardgen.config import parse_settings
from hardgen.runner import Runner
from hardgen.store import ResultStore
from hardgen.workers import resolve_workers
from tests.cli import hardgen_cli
from tests.test_faults import config as faults_config

CONFIG = {
    "run": {"seed": 8, "trajectories": 24, "concurrency": 4},
    "environment": {"suites": ["travel", "banking", "messaging", "vehicle"], "suites_per_item": 2},
    "sampling": {"calls_per_trace": {"min": 2, "max": 4}},
}


def test_auto_workers_follow_the_cores_but_not_for_small_runs() -> None:
    assert resolve_workers("auto", 1000, available=2) == 2
    assert resolve_workers("auto", 1000, available=8) == 8
    assert resolve_workers("auto", 150, available=8) == 1  # a worker costs seconds to start
    assert resolve_workers("auto", 60, available=2) == 1
    assert resolve_workers(4, 3) == 3  # never more workers than items
    assert resolve_workers(2, 100) == 2


def test_workers_is_not_part_of_the_run_identity() -> None:
    one = parse_settings({**CONFIG, "run": {**CONFIG["run"], "workers": 1}})
    many = parse_settings({**CONFIG, "run": {**CONFIG["run"], "workers": 4, "executor": "ray"}})
    assert one.identity() == many.identity() == parse_settings(CONFIG).identity()


def children(pid: int) -> list[int]:
    """The worker processes of ``pid`` (multiprocessing's resource tracker left out)."""
    out = []
    path = Path(f"/proc/{pid}/task/{pid}/children")
    for child in path.read_text().split() if path.exists() else []:
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd:
            out.append(int(child))
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def stored(run_dir: Path) -> int:
    path = run_dir / "results.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return int(db.execute("SELECT COUNT(*) FROM trajectories").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def wait_for(cond: object, timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_two_workers_killed_one_way_or_another_give_the_one_process_dataset(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    summary = asyncio.run(
        Runner(parse_settings({**CONFIG, "run": {**CONFIG["run"], "workers": 1}}), ref).run()
    )
    assert summary.kept + summary.discarded == 24
    with ResultStore(ref / "results.sqlite") as store:
        want = store.dataset_hash()

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({**CONFIG, "run": {**CONFIG["run"], "workers": 2}}))
    run_dir = tmp_path / "run"
    cli = [sys.executable, "-m", "hardgen.cli"]

    # 1. kill -9 the parent: its workers end with it (nothing works on the run dir unlocked).
    proc = subprocess.Popen(
        [*cli, "run", str(cfg), "--run-dir", str(run_dir), "-q"], stderr=subprocess.DEVNULL
    )
    wait_for(lambda: len(children(proc.pid)) == 2 and stored(run_dir) >= 2)
    workers = children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not any(alive(w) for w in workers), timeout=10)
    assert stored(run_dir) < 24

    # 2. kill -9 one worker: the other goes on, the run ends with the lost items as errors (exit 1).
    before = stored(run_dir)
    proc = subprocess.Popen([*cli, "resume", str(run_dir), "-q"], stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(children(proc.pid)) == 2 and stored(run_dir) >= before + 1)
    workers = children(proc.pid)
    os.kill(workers[0], signal.SIGKILL)
    at_kill = stored(run_dir)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "raised errors" in err and "hardgen resume" in err
    assert stored(run_dir) > at_kill, "the other worker went on"
    assert "worker process" in (run_dir / "errors.log").read_text()

    # 3. resume to the end: the same dataset as one process, every item once.
    done = subprocess.run([*cli, "resume", str(run_dir), "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with ResultStore(run_dir / "results.sqlite") as store:
        items = [t.item for t in store.trajectories(None)]
        assert sorted(items) == list(range(24))
        assert store.dataset_hash() == want


# ------------------------------------------------------------------ endpoint faults under workers


def llm_config(base_url: str, items: int, workers: int) -> dict[str, Any]:
    """The fault suite's stand-in config, on ``workers`` processes."""
    data = faults_config(base_url, items=items)
    data["run"]["workers"] = workers
    return data


def test_a_refused_key_stops_every_worker_at_once_with_one_message(tmp_path: Path) -> None:
    from hardgen.serve import BackgroundServer, StandInOptions

    cfg = tmp_path / "cfg.yaml"
    with BackgroundServer(StandInOptions(seed=1, api_key="right-key")) as server:
        cfg.write_text(yaml.safe_dump(llm_config(server.base_url, items=8, workers=2)))
        done = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "run"), "-q", "--no-check")
        requests = server.standin.stats.requests
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: stopped:") and "HTTP 401" in last and server.base_url in last
    assert "Traceback" not in done.stderr
    assert "raised" not in done.stderr, "the stop is not reported as item errors"
    assert requests <= 8, "one refused request per item in flight, no retries, in both workers"
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        assert store.count("discarded") == 0, "a permanent fault discards nothing"


@pytest.mark.slow
def test_an_outage_under_workers_defers_then_resume_gives_the_one_process_dataset(tmp_path: Path) -> None:
    from hardgen.serve import BackgroundServer, StandInOptions

    items = 6
    with BackgroundServer(StandInOptions(seed=1)) as server:
        port, base_url = server.port, server.base_url
        ref = asyncio.run(
            Runner(parse_settings(llm_config(base_url, items, workers=1)), tmp_path / "ref").run()
        )
    assert ref.kept > 0 and not ref.deferred
    with ResultStore(tmp_path / "ref" / "results.sqlite") as store:
        want = store.dataset_hash()

    # The server is down: both workers defer every item, nothing is discarded, the run exits 1.
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(llm_config(base_url, items, workers=2)))
    run_dir = tmp_path / "run"
    down = hardgen_cli("run", str(cfg), "--run-dir", str(run_dir), "-q", "--no-check")
    assert down.returncode == 1, down.stderr
    assert f"{items} item(s) deferred after endpoint faults" in down.stderr
    assert "Traceback" not in down.stderr
    with ResultStore(run_dir / "results.sqlite") as store:
        assert store.count("kept") + store.count("discarded") == 0
        assert len(store.deferred()) == items

    # Back up on the same address: resume finishes every item once, as one process would have.
    with BackgroundServer(StandInOptions(seed=1), port=port):
        done = hardgen_cli("resume", str(run_dir), "-q")
    assert done.returncode == 0, done.stderr
    with ResultStore(run_dir / "results.sqlite") as store:
        assert sorted(t.item for t in store.trajectories(None)) == list(range(items))
        assert not store.deferred()
        assert store.dataset_hash() == want
