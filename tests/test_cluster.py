"""Cluster mode on real engines: a PostgreSQL server (Debian's) holding checkpoints and results, worker
processes and a local Ray instance running the items; the dataset must equal the SQLite run's."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hardgen.config import parse_settings
from hardgen.runner import Runner
from hardgen.storage import PostgresResultStore, run_schema
from hardgen.store import ResultStore
from tests.cluster_services import need, start_postgres

pytestmark = pytest.mark.slow

CONFIG = {
    "run": {"seed": 5, "trajectories": 6, "concurrency": 4},
    "environment": {"suites": ["travel", "banking", "messaging", "vehicle"], "suites_per_item": 2},
    "sampling": {"calls_per_trace": {"min": 2, "max": 3}},
    "self_eval": {"enabled": False},
}


def settings(**run: object) -> object:
    data = {
        **CONFIG,
        "run": {**CONFIG["run"], **{k: v for k, v in run.items() if k in ("workers", "executor")}},
    }
    if "storage" in run:
        data["storage"] = {"url": run["storage"]}
    if "ray" in run:
        data["ray"] = run["ray"]
    return parse_settings(data)


def run(run_dir: Path, **kw: object) -> object:
    runner = Runner(settings(**kw), run_dir)
    summary = asyncio.run(runner.run())
    if summary.new and (kw["workers"] != 1 or kw.get("executor") == "ray"):
        assert runner.workers_used == (kw.get("executor", "local"), kw["workers"]), runner.workers_used
    return summary


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    yield from start_postgres()


@pytest.fixture(scope="module")
def sqlite_reference(tmp_path_factory: pytest.TempPathFactory) -> str:
    run_dir = tmp_path_factory.mktemp("ref")
    summary = run(run_dir, workers=1)
    assert summary.planned == 6 and summary.kept + summary.discarded == 6
    with ResultStore(run_dir / "results.sqlite") as store:
        return store.dataset_hash()


def test_postgres_and_worker_processes_give_the_sqlite_dataset(
    postgres: str, sqlite_reference: str, tmp_path: Path
) -> None:
    summary = run(tmp_path / "pg", workers=2, storage=postgres)
    assert summary.kept + summary.discarded == 6 and summary.errors == 0
    run_id = f"run-{settings().identity()}"
    with PostgresResultStore(postgres, run_id) as store:
        assert store.count() == 6
        assert store.dataset_hash() == sqlite_reference
        assert not store.in_flight_threads(), "finished threads are deleted from the Postgres checkpoints"
    assert not (tmp_path / "pg" / "checkpoints.sqlite").exists(), "nothing was checkpointed to SQLite"
    assert not (tmp_path / "pg" / "snapshots.sqlite").exists(), "environment snapshots live in Postgres"
    with psycopg.connect(postgres) as conn:
        schema = run_schema(run_id)
        left = conn.execute(f'SELECT count(*) FROM "{schema}".snapshot_refs').fetchone()
        assert left == (0,), "a finished item's snapshots are released"
    # The run directory's copy is what export, report and audit read.
    with ResultStore(tmp_path / "pg" / "results.sqlite") as copy:
        assert copy.dataset_hash() == sqlite_reference
    # A second run on the same database and config finds everything done.
    again = run(tmp_path / "pg", workers=2, storage=postgres)
    assert again.new == 0 and again.kept == summary.kept


def test_ray_with_postgres_gives_the_sqlite_dataset(
    postgres: str, sqlite_reference: str, tmp_path: Path
) -> None:
    need("ray", importlib.util.find_spec("ray") is not None, "pip install 'hardgen[cluster]'")
    import ray

    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("CREATE DATABASE on_ray")  # an empty database: the run starts from nothing
    url = postgres.rsplit("/", 1)[0] + "/on_ray"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        summary = run(tmp_path / "ray", workers=2, executor="ray", storage=url)
        assert ray.cluster_resources().get("CPU") == 2
    finally:
        ray.shutdown()
    assert summary.kept + summary.discarded == 6 and summary.errors == 0
    with ResultStore(tmp_path / "ray" / "results.sqlite") as copy:
        assert copy.dataset_hash() == sqlite_reference
