"""The main job as a user runs it: real processes, SQLite files on disk, SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hardgen.store import ResultStore
from tests.cli import hardgen_cli

CONFIG = {
    "run": {"seed": 3, "trajectories": 60, "concurrency": 8},
    "environment": {"suites": ["travel", "banking", "messaging", "vehicle"], "suites_per_item": 2},
    "sampling": {"calls_per_trace": {"min": 2, "max": 4}},
}


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def dataset(run_dir: Path) -> tuple[str, int, set[int]]:
    with ResultStore(run_dir / "results.sqlite") as store:
        items = [t.item for t in store.trajectories(None)]
        assert len(items) == len(set(items)), "no item is stored twice"
        return store.dataset_hash(), len(items), set(items)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_the_same_dataset(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "cfg.yaml", CONFIG)
    started = time.monotonic()
    ref = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "ref"), "-q")
    assert ref.returncode == 0, ref.stderr
    # Kills land at moments spread over an uninterrupted run's span on this machine at its present
    # load, so that a busy machine (slow start-up) does not make every kill land before the start.
    span = time.monotonic() - started
    want_hash, want_n, _ = dataset(tmp_path / "ref")
    assert want_n == 60

    run_dir = tmp_path / "killed"
    rng = random.Random(11)
    kills = 0
    run = [sys.executable, "-m", "hardgen.cli", "run", str(cfg), "--run-dir", str(run_dir), "-q"]
    resume = [sys.executable, "-m", "hardgen.cli", "resume", str(run_dir), "-q"]
    for attempt in range(4):
        # Killed before it wrote its config, the run directory is not a run yet: a user runs again.
        cmd = resume if (run_dir / "config.yaml").exists() else run
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(span * rng.uniform(0.1, 0.3))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        del attempt
    assert kills >= 2, "the run should have been killed mid-way at least twice"
    final = hardgen_cli("resume", str(run_dir), "-q")
    assert final.returncode == 0, final.stderr
    got_hash, got_n, items = dataset(run_dir)
    assert items == set(range(60))
    assert got_n == want_n and got_hash == want_hash


def test_status_reports_progress_and_funnel(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "cfg.yaml", {**CONFIG, "run": {"seed": 1, "trajectories": 8, "concurrency": 4}}
    )
    done = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
    assert done.returncode == 0, done.stderr
    status = hardgen_cli("status", str(tmp_path / "r"), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["done"] == 8 and data["kept"] + data["discarded"] == 8 and data["in_flight"] == 0
    assert data["funnel"]["sample"]["in"] == 8


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("run: {trajectories: 0}\n", "run.trajectories"),
        ("environment: {suites: [nowhere]}\n", "unknown suite 'nowhere'"),
        ("pipeline: {k_max: three}\n", "pipeline.k_max"),
        ("run: [1, 2\n", "not valid YAML"),
        ("agents: {reasoner: {impl: bogus}}\n", "agents.reasoner.impl"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, config_text: str, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(config_text)
    result = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q", timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_config_that_runs(tmp_path: Path) -> None:
    cfg = tmp_path / "starter.yaml"
    assert hardgen_cli("init", str(cfg)).returncode == 0
    data = yaml.safe_load(cfg.read_text())
    data["run"]["trajectories"] = 3
    write_config(cfg, data)
    result = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
    assert result.returncode == 0, result.stderr
    assert "kept" in result.stdout
