"""Where a run keeps its checkpoints and results: SQLite files in the run directory (the default) or
PostgreSQL (``storage.url: postgresql://...``), so that workers on several machines share them.

With Postgres, each run gets a schema of its own (``hardgen_<run identity>``) holding LangGraph's
checkpoint tables (``langgraph-checkpoint-postgres``) and the result tables of :class:`PostgresResultStore`,
which has the API of :class:`~hardgen.store.ResultStore`. The run directory keeps ``config.yaml``,
``graph.json``, ``live.json`` and the lock; at the end of every ``run``/``resume`` the finished results
are copied into its ``results.sqlite`` (:func:`copy_results`), so export, report, stats and audit read
a Postgres run as they read any other.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hardgen.schema import Trajectory, canonical_json
from hardgen.snapshots import SnapshotStore
from hardgen.store import (
    ResultStore,
    Status,
    _attempt_row,
    _ordered_json,
    _pending_attempts,
    _reason_key,
)

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trajectories (
    item INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('kept', 'discarded')),
    discard_stage TEXT,
    discard_reason TEXT,
    n_turns INTEGER NOT NULL,
    n_calls INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    item INTEGER NOT NULL,
    turn INTEGER NOT NULL,
    step INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    error_type TEXT,
    raw TEXT NOT NULL,
    verdict TEXT,
    feedback TEXT,
    PRIMARY KEY (item, turn, step, attempt)
);
CREATE TABLE IF NOT EXISTS usage (
    item INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (item, seq)
);
CREATE TABLE IF NOT EXISTS graph_updates (item INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deferred (work TEXT PRIMARY KEY, reason TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS self_eval (
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    failed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (tool, target)
);
CREATE TABLE IF NOT EXISTS snapshot_blobs (hash TEXT PRIMARY KEY, data BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot_refs (owner TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (owner, hash));
CREATE INDEX IF NOT EXISTS snapshot_refs_hash ON snapshot_refs (hash);
"""
TABLES = ("run_info", "trajectories", "attempts", "usage", "graph_updates", "deferred", "self_eval")


def run_schema(run_id: str) -> str:
    """The Postgres schema of a run (``run-0123abcd...`` -> ``hardgen_0123abcd...``)."""
    return "hardgen_" + "".join(c for c in run_id.removeprefix("run-") if c.isalnum()).lower()


def _conninfo(url: str, schema: str) -> dict[str, Any]:
    return {"conninfo": url, "options": f"-c search_path={schema}"}


def _storage_error(exc: BaseException, url: str) -> Exception:
    from hardgen.faults import StorageError
    from hardgen.scrub import scrub_url

    return StorageError(f"PostgreSQL at {scrub_url(url)}: {str(exc).strip().splitlines()[0]}")


def ensure_schema(url: str, run_id: str) -> None:
    """Create the run's schema and result tables once (workers only connect; concurrent DDL races)."""
    import psycopg

    schema = run_schema(run_id)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(PG_SCHEMA)
    except psycopg.Error as exc:
        raise _storage_error(exc, url) from exc


class PostgresResultStore:
    """A run's results in PostgreSQL, with the API of :class:`~hardgen.store.ResultStore`.

    Args:
        url: ``postgresql://...``.
        run_id: The run (its schema must exist: :func:`ensure_schema`).
    """

    def __init__(self, url: str, run_id: str) -> None:
        import psycopg

        self.url = url
        try:
            self._db = psycopg.connect(**_conninfo(url, run_schema(run_id)), autocommit=True)
        except psycopg.Error as exc:
            raise _storage_error(exc, url) from exc

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, params).fetchall())

    # ------------------------------------------------------------------ run info

    def set_info(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT INTO run_info VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, json.dumps(value)),
        )

    def info(self) -> dict[str, object]:
        return {k: json.loads(v) for k, v in self._rows("SELECT key, value FROM run_info")}

    # ------------------------------------------------------------------ trajectories

    def add(self, trajectory: Trajectory, graph_updates: object | None = None) -> bool:
        """Store a finished item once (one transaction); False when it was already stored."""
        t = trajectory
        with self._db.transaction():
            cur = self._db.execute(
                "INSERT INTO trajectories VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    t.item,
                    t.id,
                    t.status,
                    t.discard_stage,
                    t.discard_reason,
                    len(t.turns),
                    len(t.calls),
                    _ordered_json(t.model_dump(mode="json")),
                ),
            )
            if cur.rowcount == 0:
                return False
            rows = [
                _attempt_row(t.item, turn.index, step.index, a)
                for turn in t.turns
                for step in turn.steps
                for a in step.attempts
            ]
            rows += [_attempt_row(t.item, ti, si, a) for ti, si, a in _pending_attempts(t)]
            with self._db.cursor() as c:
                if rows:
                    c.executemany(
                        "INSERT INTO attempts VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        rows,
                    )
                if graph_updates:
                    c.execute(
                        "INSERT INTO graph_updates VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (t.item, canonical_json(graph_updates)),
                    )
                usage = [
                    (t.item, i, u.role, u.model, u.prompt_tokens, u.completion_tokens, u.calls)
                    for i, u in enumerate(t.usage)
                ]
                if usage:
                    c.executemany(
                        "INSERT INTO usage VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", usage
                    )
        return True

    def done_items(self) -> set[int]:
        return {row[0] for row in self._rows("SELECT item FROM trajectories")}

    def count(self, status: Status | None = None) -> int:
        if status is None:
            return int(self._rows("SELECT COUNT(*) FROM trajectories")[0][0])
        return int(self._rows("SELECT COUNT(*) FROM trajectories WHERE status=%s", (status,))[0][0])

    def trajectories(self, status: Status | None = "kept") -> Iterator[Trajectory]:
        if status is None:
            rows = self._rows("SELECT data FROM trajectories ORDER BY item")
        else:
            rows = self._rows("SELECT data FROM trajectories WHERE status=%s ORDER BY item", (status,))
        for (data,) in rows:
            yield Trajectory.model_validate_json(data)

    def discard_reasons(self) -> dict[str, int]:
        rows = self._rows("SELECT discard_stage, discard_reason FROM trajectories WHERE status='discarded'")
        return dict(Counter(_reason_key(stage, reason) for stage, reason in rows).most_common())

    def usage_by_role(self) -> dict[str, dict[str, int]]:
        rows = self._rows(
            "SELECT role, SUM(prompt_tokens), SUM(completion_tokens), SUM(calls) FROM usage GROUP BY role"
        )
        return {
            role: {"prompt_tokens": int(p or 0), "completion_tokens": int(c or 0), "calls": int(n or 0)}
            for role, p, c, n in rows
        }

    def estimated_usage_roles(self) -> list[str]:
        rows = self._rows("SELECT DISTINCT role FROM usage WHERE model = 'offline' ORDER BY role")
        return [role for (role,) in rows]

    def dataset_hash(self) -> str:
        """The same hash as :meth:`ResultStore.dataset_hash` over the same trajectories."""
        import hashlib

        h = hashlib.sha256()
        for (data,) in self._rows("SELECT data FROM trajectories ORDER BY item"):
            h.update(data.encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def graph_updates(self) -> Iterator[tuple[int, object]]:
        for item, data in self._rows("SELECT item, data FROM graph_updates ORDER BY item"):
            yield item, json.loads(data)

    # ------------------------------------------------------------------ deferred work

    def defer(self, work: str, reason: str, message: str) -> None:
        self._db.execute(
            "INSERT INTO deferred VALUES (%s, %s, %s) ON CONFLICT (work) DO UPDATE "
            "SET reason = EXCLUDED.reason, message = EXCLUDED.message",
            (work, reason, message),
        )

    def undefer(self, work: str) -> None:
        self._db.execute("DELETE FROM deferred WHERE work=%s", (work,))

    def deferred(self) -> dict[str, tuple[str, str]]:
        rows = self._rows("SELECT work, reason, message FROM deferred ORDER BY work")
        return {w: (r, m) for w, r, m in rows}

    # ------------------------------------------------------------------ self-evaluation

    def add_self_eval(self, tool: str, target: str, failed: bool, reason: str) -> None:
        self._db.execute(
            "INSERT INTO self_eval VALUES (%s, %s, %s, %s) ON CONFLICT (tool, target) DO UPDATE "
            "SET failed = EXCLUDED.failed, reason = EXCLUDED.reason",
            (tool, target, int(failed), reason),
        )

    def self_eval_results(self) -> list[tuple[str, str, bool, str]]:
        rows = self._rows("SELECT tool, target, failed, reason FROM self_eval ORDER BY tool, target")
        return [(t, m, bool(f), r) for t, m, f, r in rows]

    # ------------------------------------------------------------------ plumbing

    def in_flight_threads(self) -> list[str]:
        """Thread ids with checkpoints (LangGraph's table, in the same schema)."""
        try:
            return [t for (t,) in self._rows("SELECT DISTINCT thread_id FROM checkpoints")]
        except Exception:  # no checkpoint table yet
            return []

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PostgresResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PostgresSnapshots(SnapshotStore):
    """Environment snapshots (:mod:`hardgen.snapshots`) in the run's Postgres schema, so a worker on any
    machine restores the environment a checkpoint names. Each ``put`` commits before it returns."""

    def __init__(self, url: str, run_id: str, cache_size: int = 256) -> None:
        import psycopg

        super().__init__(cache_size)
        self.url = url
        try:
            self._db = psycopg.connect(**_conninfo(url, run_schema(run_id)), autocommit=True)
        except psycopg.Error as exc:
            raise _storage_error(exc, url) from exc

    def _read(self, h: str) -> str | None:
        row = self._db.execute("SELECT data FROM snapshot_blobs WHERE hash = %s", (h,)).fetchone()
        return None if row is None else bytes(row[0]).decode("utf-8")

    def _write(self, blobs: dict[str, str], owner: str) -> None:
        # Every blob is offered, even one this process saw before: another worker may have released it.
        with self._db.transaction(), self._db.cursor() as cur:  # put() holds the lock
            cur.executemany(
                "INSERT INTO snapshot_blobs (hash, data) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(h, t.encode("utf-8")) for h, t in blobs.items()],
            )
            if owner:
                cur.executemany(
                    "INSERT INTO snapshot_refs (owner, hash) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(owner, h) for h in blobs],
                )

    def release(self, owner: str) -> None:
        with self._lock, self._db.transaction():
            gone = self._db.execute(
                "WITH mine AS (DELETE FROM snapshot_refs WHERE owner = %s RETURNING hash) "
                "DELETE FROM snapshot_blobs b USING (SELECT DISTINCT hash FROM mine) m "
                "WHERE b.hash = m.hash AND NOT EXISTS "
                "(SELECT 1 FROM snapshot_refs r WHERE r.hash = m.hash AND r.owner <> %s) RETURNING b.hash",
                (owner, owner),
            ).fetchall()
            for (h,) in gone:
                self._cache.pop(h, None)

    def close(self) -> None:
        self._db.close()


def copy_results(source: PostgresResultStore, target: Path) -> None:
    """Make ``target`` (a run directory's ``results.sqlite``) an exact copy of the Postgres results,
    rows as stored (the trajectories' JSON text included, so the dataset hash is the same)."""
    from hardgen.faults import storage_error

    tmp = target.with_suffix(".sqlite.copy")
    tmp.unlink(missing_ok=True)
    store = ResultStore(tmp)
    try:
        db = store._db
        db.execute("BEGIN")
        for table in TABLES:
            rows = source._rows(f"SELECT * FROM {table}")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except OSError as exc:
        raise storage_error(exc, target) from exc
    finally:
        store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.replace(target)


def postgres_checkpointer(url: str, run_id: str, serde: Any, pool_size: int) -> Any:
    """LangGraph's AsyncPostgresSaver on a psycopg connection pool, in the run's schema (an async
    context manager). The tables are created by :func:`setup_postgres_checkpoints` beforehand."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    @asynccontextmanager
    async def open_saver() -> Any:
        info = _conninfo(url, run_schema(run_id))
        pool = AsyncConnectionPool(
            info.pop("conninfo"),
            min_size=1,
            max_size=max(2, pool_size),
            kwargs={**info, "autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            open=False,
        )
        await pool.open(wait=True, timeout=30)
        try:
            yield AsyncPostgresSaver(pool, serde=serde)  # type: ignore[arg-type]
        finally:
            await pool.close()

    return open_saver()


async def setup_postgres_checkpoints(url: str, run_id: str, serde: Any) -> None:
    """Create (or migrate) LangGraph's checkpoint tables in the run's schema, once, before workers start."""
    async with postgres_checkpointer(url, run_id, serde, 2) as saver:
        await saver.setup()
