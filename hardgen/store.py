"""``results.sqlite``: what a run keeps, written once per finished item.

A finished item (kept or discarded) is written in one transaction: the trajectory, every Reasoner attempt
with its raw text and verdict, and the token usage. Writes are idempotent (keyed by item index), so an
item finished twice - a crash between the write and the checkpoint, a resume - is stored once.

The checkpoints (``checkpoints.sqlite``, LangGraph's) hold work in progress; this file holds results,
and the work *deferred* by transient endpoint faults (an item or a Phase I tool, with the cause), which
``hardgen resume`` tries again. Opening the file runs SQLite's ``quick_check``: a corrupt file is refused
with one message naming it (:class:`~hardgen.faults.StorageError`), never a traceback later on.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from hardgen.schema import ReasoningAttempt, Trajectory, canonical_json

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS deferred (
    work TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS self_eval (
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    failed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (tool, target)
);
"""

Status = Literal["kept", "discarded"]


class ResultStore:
    """The results database of one run directory.

    Args:
        path: The SQLite file (created with its tables when missing).
        synchronous: ``normal`` (WAL: survives a killed process) or ``full`` (also a power cut).
    """

    def __init__(self, path: str | Path, synchronous: str = "normal") -> None:
        from hardgen.faults import check_sqlite, storage_error

        self.path = Path(path)
        check_sqlite(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout: worker processes write the same file; a writer waits for another's commit.
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise storage_error(exc, self.path) from exc

    # ------------------------------------------------------------------ run info

    def set_info(self, key: str, value: object) -> None:
        self._db.execute("INSERT OR REPLACE INTO run_info VALUES (?, ?)", (key, json.dumps(value)))

    def info(self) -> dict[str, object]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM run_info")}

    # ------------------------------------------------------------------ trajectories

    def add(self, trajectory: Trajectory, graph_updates: object | None = None) -> bool:
        """Store a finished item once. Returns False when that item was already stored.

        Args:
            trajectory: The finished item, kept or discarded.
            graph_updates: What sampling learned for the API graph in this item (JSON), if anything.
        """
        t = trajectory
        with self._transaction():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO trajectories VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            rows = []
            for turn in t.turns:
                for step in turn.steps:
                    for a in step.attempts:
                        rows.append(_attempt_row(t.item, turn.index, step.index, a))
            for turn_index, step_index, pending in _pending_attempts(t):
                rows.append(_attempt_row(t.item, turn_index, step_index, pending))
            self._db.executemany("INSERT OR IGNORE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if graph_updates:
                self._db.execute(
                    "INSERT OR IGNORE INTO graph_updates VALUES (?, ?)",
                    (t.item, canonical_json(graph_updates)),
                )
            self._db.executemany(
                "INSERT OR IGNORE INTO usage VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (t.item, i, u.role, u.model, u.prompt_tokens, u.completion_tokens, u.calls)
                    for i, u in enumerate(t.usage)
                ],
            )
        return True

    def done_items(self) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT item FROM trajectories")}

    def count(self, status: Status | None = None) -> int:
        if status is None:
            return int(self._db.execute("SELECT COUNT(*) FROM trajectories").fetchone()[0])
        return int(
            self._db.execute("SELECT COUNT(*) FROM trajectories WHERE status=?", (status,)).fetchone()[0]
        )

    def trajectories(self, status: Status | None = "kept") -> Iterator[Trajectory]:
        """Stored trajectories in item order (kept ones by default; None for all)."""
        if status is None:
            cur = self._db.execute("SELECT data FROM trajectories ORDER BY item")
        else:
            cur = self._db.execute("SELECT data FROM trajectories WHERE status=? ORDER BY item", (status,))
        for (data,) in cur:
            yield Trajectory.model_validate_json(data)

    def discard_reasons(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT discard_stage, discard_reason FROM trajectories WHERE status='discarded'"
        ).fetchall()
        return dict(Counter(_reason_key(stage, reason) for stage, reason in rows).most_common())

    def usage_by_role(self) -> dict[str, dict[str, int]]:
        rows = self._db.execute(
            "SELECT role, SUM(prompt_tokens), SUM(completion_tokens), SUM(calls) FROM usage GROUP BY role"
        )
        return {
            role: {"prompt_tokens": int(p or 0), "completion_tokens": int(c or 0), "calls": int(n or 0)}
            for role, p, c, n in rows
        }

    def estimated_usage_roles(self) -> list[str]:
        """Roles with usage under model ``offline``, whose token counts are estimates from text length."""
        rows = self._db.execute("SELECT DISTINCT role FROM usage WHERE model = 'offline' ORDER BY role")
        return [role for (role,) in rows]

    def dataset_hash(self) -> str:
        """A hash of every stored trajectory in item order: equal runs give equal hashes."""
        import hashlib

        h = hashlib.sha256()
        for (data,) in self._db.execute("SELECT data FROM trajectories ORDER BY item"):
            h.update(data.encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def graph_updates(self) -> Iterator[tuple[int, object]]:
        """Every stored item's learned graph updates, in item order."""
        for item, data in self._db.execute("SELECT item, data FROM graph_updates ORDER BY item"):
            yield item, json.loads(data)

    # ------------------------------------------------------------------ deferred work

    def defer(self, work: str, reason: str, message: str) -> None:
        """Record that ``work`` (``item/<n>`` or ``self_eval/<tool>``) waits for a resume, and why."""
        self._db.execute("INSERT OR REPLACE INTO deferred VALUES (?, ?, ?)", (work, reason, message))

    def undefer(self, work: str) -> None:
        self._db.execute("DELETE FROM deferred WHERE work=?", (work,))

    def deferred(self) -> dict[str, tuple[str, str]]:
        """Deferred work -> (reason, message)."""
        rows = self._db.execute("SELECT work, reason, message FROM deferred ORDER BY work")
        return {w: (r, m) for w, r, m in rows}

    # ------------------------------------------------------------------ self-evaluation

    def add_self_eval(self, tool: str, target: str, failed: bool, reason: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO self_eval VALUES (?, ?, ?, ?)", (tool, target, int(failed), reason)
        )

    def self_eval_results(self) -> list[tuple[str, str, bool, str]]:
        rows = self._db.execute("SELECT tool, target, failed, reason FROM self_eval ORDER BY tool, target")
        return [(t, m, bool(f), r) for t, m, f, r in rows]

    # ------------------------------------------------------------------ plumbing

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _ordered_json(value: object) -> str:
    """Compact JSON that keeps key order: environment state is ordered data (a listing's order is part
    of a tool's output), so sorting keys here would make replays differ from the run."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _reason_key(stage: str | None, reason: str | None) -> str:
    return f"{stage or 'unknown'}: {reason or 'unknown'}"


def _attempt_row(item: int, turn: int, step: int, a: ReasoningAttempt) -> tuple[object, ...]:
    verdict = a.verdict
    return (
        item,
        turn,
        step,
        a.attempt,
        int(bool(verdict and verdict.correct)),
        verdict.error_type if verdict else ("call:parse_error" if a.parse_error else None),
        a.raw,
        canonical_json(verdict.model_dump(mode="json")) if verdict else None,
        canonical_json(a.feedback.model_dump(mode="json")) if a.feedback else None,
    )


def _pending_attempts(t: Trajectory) -> Iterator[tuple[int, int, ReasoningAttempt]]:
    """Attempts of the step that exhausted K_max (a discarded item's) live outside ``turn.steps``."""
    if t.failed_step is not None:
        for a in t.failed_step.attempts:
            yield (t.failed_turn or 0, t.failed_step.index, a)
