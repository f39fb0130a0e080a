"""Environment snapshots stored once per distinct state, addressed by their content hash.

Graph state holds only a snapshot's hash (``GenerateState.env_state``, ``initial_state``); the snapshot
itself is written here once, however many checkpoints, nodes or items refer to it. A snapshot of an
:class:`~hardgen.environment.base.Environment` is split before it is stored: each backend's ``state``
(the bulk: a suite's records) is a blob of its own, and a small manifest names those blobs next to
the backend's other keys (seed, call counter). So the default state of a suite, which every item starts
from with its own seed, is stored once for the whole run, and a step that changes one suite adds one
blob for that suite.

The interface is :class:`SnapshotStore`: ``put`` (data -> hash), ``get`` (hash -> data) and
``release`` (forget what one owner, a finished item, referred to). Two implementations:
:class:`MemorySnapshots` (runs with ``durability: none``, tests) and :class:`SqliteSnapshots`
(``snapshots.sqlite`` in the run directory, next to ``checkpoints.sqlite``). A ``put`` is committed
before it returns, so a checkpoint can never refer to a snapshot that a crash lost.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from hardgen.schema import JSONDict

_STATE = "state"
_MANIFEST = "hardgen.snapshot/1"


class SnapshotMissing(LookupError):
    """A hash names no stored snapshot (a snapshot file deleted or replaced under a run)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dump(value: object) -> str:
    """JSON text that keeps the order of keys: a restored state must list its records in the order the
    live one did (a tool's output follows it), so keys are not sorted; equal states written in
    another order are simply stored twice."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class SnapshotStore:
    """Content-addressed environment snapshots: ``put`` returns the hash that ``get`` takes back.

    Subclasses implement the three blob primitives (``_has``, ``_read``, ``_write``) and
    ``release``; the splitting into per-backend blobs and a small read cache live here.

    Args:
        cache_size: Decoded blobs kept in memory (by hash) so the nodes of one item do not read back
            what they just wrote.
    """

    def __init__(self, cache_size: int = 256) -> None:
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public

    def put(self, snapshot: JSONDict, owner: str = "") -> str:
        """Store ``snapshot`` (an environment snapshot: backend name -> backend snapshot); its hash.

        ``owner`` (an item's thread id) marks what may be forgotten by :meth:`release` once the item
        is finished; a blob shared with other owners stays.
        """
        manifest: dict[str, Any] = {}
        blobs: dict[str, str] = {}
        for name, part in snapshot.items():
            if isinstance(part, dict) and isinstance(part.get(_STATE), dict | list):
                text = _dump(part[_STATE])
                h = _digest(text)
                blobs[h] = text
                # the keys keep their order (the state in its place): get() gives back equal data
                manifest[name] = {k: {"@": h} if k == _STATE else v for k, v in part.items()}
            else:
                manifest[name] = part
        text = _dump({_MANIFEST: manifest})
        ref = _digest(text)
        blobs[ref] = text
        with self._lock:
            self._write(blobs, owner)
            for h, t in blobs.items():
                self._remember(h, t)
        return ref

    def get(self, ref: str) -> JSONDict:
        """The snapshot stored under ``ref``, as new JSON data (the caller may change it)."""
        manifest = json.loads(self._text(ref))
        parts = manifest.get(_MANIFEST) if isinstance(manifest, dict) else None
        if not isinstance(parts, dict):
            raise SnapshotMissing(f"snapshot {ref[:12]} is not an environment snapshot")
        out: JSONDict = {}
        for name, part in parts.items():
            state = part.get(_STATE) if isinstance(part, dict) else None
            if isinstance(state, dict) and set(state) == {"@"}:
                data = json.loads(self._text(str(state["@"])))
                out[name] = {k: data if k == _STATE else v for k, v in part.items()}
            else:
                out[name] = part
        return out

    def release(self, owner: str) -> None:
        """Forget what ``owner`` stored, except blobs another owner still refers to."""

    def close(self) -> None:
        """Release the store's resources."""

    # ------------------------------------------------------------------ internals

    def _text(self, h: str) -> str:
        with self._lock:
            text = self._cache.get(h)
            if text is not None:
                self._cache.move_to_end(h)
                return text
            text = self._read(h)
            if text is None:
                raise SnapshotMissing(f"no stored snapshot {h[:12]}: the run's snapshot store lost it")
            self._remember(h, text)
            return text

    def _remember(self, h: str, text: str) -> None:
        self._cache[h] = text
        self._cache.move_to_end(h)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _read(self, h: str) -> str | None:
        raise NotImplementedError

    def _write(self, blobs: dict[str, str], owner: str) -> None:
        raise NotImplementedError


class MemorySnapshots(SnapshotStore):
    """Snapshots in this process's memory: for runs without checkpoints (nothing to resume)."""

    def __init__(self, cache_size: int = 256) -> None:
        super().__init__(cache_size)
        self._blobs: dict[str, str] = {}
        self._owners: dict[str, set[str]] = {}

    def _read(self, h: str) -> str | None:
        return self._blobs.get(h)

    def _write(self, blobs: dict[str, str], owner: str) -> None:
        self._blobs.update(blobs)
        if owner:
            self._owners.setdefault(owner, set()).update(blobs)

    def release(self, owner: str) -> None:
        with self._lock:
            mine = self._owners.pop(owner, set())
            still = set().union(*self._owners.values()) if self._owners else set()
            for h in mine - still:
                self._blobs.pop(h, None)
                self._cache.pop(h, None)

    def __len__(self) -> int:
        return len(self._blobs)


class SqliteSnapshots(SnapshotStore):
    """Snapshots in a SQLite file (WAL), shared by every process working on the run directory.

    Two tables: ``blobs(hash, data)`` and ``refs(owner, hash)``. Each ``put`` is one transaction,
    committed before it returns.
    """

    def __init__(self, path: str | Path, synchronous: str = "normal", cache_size: int = 256) -> None:
        super().__init__(cache_size)
        self.path = Path(path)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS refs (owner TEXT NOT NULL, hash TEXT NOT NULL, "
                "PRIMARY KEY (owner, hash)) WITHOUT ROWID"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS refs_hash ON refs (hash)")

    def _read(self, h: str) -> str | None:
        row = self._db.execute("SELECT data FROM blobs WHERE hash = ?", (h,)).fetchone()
        return None if row is None else bytes(row[0]).decode("utf-8")

    def _write(self, blobs: dict[str, str], owner: str) -> None:
        # Every blob is offered, even one this process saw before: another process may have released it.
        rows = [(h, t.encode("utf-8")) for h, t in blobs.items()]
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)", rows)
            if owner:
                self._db.executemany(
                    "INSERT OR IGNORE INTO refs (owner, hash) VALUES (?, ?)", [(owner, h) for h in blobs]
                )

    def release(self, owner: str) -> None:
        with self._lock, self._db:
            mine = [h for (h,) in self._db.execute("SELECT hash FROM refs WHERE owner = ?", (owner,))]
            self._db.execute("DELETE FROM refs WHERE owner = ?", (owner,))
            gone = [
                (h,)
                for h in mine
                if self._db.execute("SELECT 1 FROM refs WHERE hash = ? LIMIT 1", (h,)).fetchone() is None
            ]
            self._db.executemany("DELETE FROM blobs WHERE hash = ?", gone)
            for (h,) in gone:
                self._cache.pop(h, None)

    def close(self) -> None:
        self._db.close()


def open_snapshots(path: Path | None, synchronous: str = "normal") -> SnapshotStore:
    """The run's snapshot store: a SQLite file at ``path``, or memory when None (no checkpoints)."""
    return MemorySnapshots() if path is None else SqliteSnapshots(path, synchronous)
