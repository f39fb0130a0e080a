"""A SQLite checkpointer that writes each channel's value once per version, not in every checkpoint.

LangGraph's ``AsyncSqliteSaver`` stores every channel's value inside every checkpoint, so a thread's
finished turns were written again at each of its ~27 steps. :class:`LeanSqliteSaver` does what the
Postgres saver does: a checkpoint row keeps only its channel *versions*; the value of a channel is
written to ``checkpoint_blobs`` in the checkpoint where its version is new, and read back by version.
A blob is found by (thread, namespace, channel, version): versions are a counter with a random
fraction, unique per thread, though one step gives all the channels it updates the same one. The
blobs of a checkpoint are inserted before its row, and committed with it or earlier: a checkpoint
that a crash left behind always finds its values.

:class:`Compressed` wraps the serializer: values of more than a few hundred bytes (turns, steps,
attempts: text) are stored zlib-compressed, their type tagged ``+z``.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

BLOBS_TABLE = """
CREATE TABLE IF NOT EXISTS checkpoint_blobs (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BLOB,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
)
"""
_PUT_BLOBS = (
    "INSERT OR REPLACE INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_PUT_CHECKPOINT = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, "
    "type, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_PUT_WRITES = (
    "INSERT OR {verb} INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, "
    "channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class LeanSqliteSaver(AsyncSqliteSaver):
    """``AsyncSqliteSaver`` with channel values stored once per version (see the module docstring).

    Call :meth:`create_blobs_table` once after opening (the runner's ``sqlite_checkpointer`` does).
    Checkpoints written by the plain saver (values inline) still read: inline values win.

    A checkpoint (its blobs and its row) and a task's writes are each one transaction run in one go on
    the connection's thread, as the plain saver commits them, but without its several round trips
    between the event loop and that thread per statement.
    """

    async def create_blobs_table(self) -> None:
        async with self.lock:
            await self.conn.execute(BLOBS_TABLE)
            await self.conn.commit()

    async def aput(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        await self.setup()
        thread_id = str(config["configurable"]["thread_id"])
        ns = config["configurable"]["checkpoint_ns"]
        values = checkpoint["channel_values"]
        rows = []
        for channel, version in new_versions.items():
            if channel in values:
                kind, blob = self.serde.dumps_typed(values[channel])
                rows.append((thread_id, ns, channel, str(version), kind, blob))
        lean: Checkpoint = {**checkpoint, "channel_values": {}}
        kind, data = self.serde.dumps_typed(lean)
        meta = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False)
        row = (
            thread_id,
            ns,
            checkpoint["id"],
            config["configurable"].get("checkpoint_id"),
            kind,
            data,
            meta.encode("utf-8", "ignore"),
        )

        def put(db: sqlite3.Connection) -> None:
            if rows:  # the blobs before the row that names them, in the same transaction
                db.executemany(_PUT_BLOBS, rows)
            db.execute(_PUT_CHECKPOINT, row)
            db.commit()

        await self._in_thread(put)
        return {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}
        }

    async def aput_writes(
        self,
        config: Any,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self.setup()
        verb = "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
        conf = config["configurable"]
        key = (
            str(conf["thread_id"]),
            str(conf["checkpoint_ns"]),
            str(conf["checkpoint_id"]),
            task_id,
            task_path,
        )
        rows = [
            (*key, WRITES_IDX_MAP.get(channel, idx), channel, *self.serde.dumps_typed(value))
            for idx, (channel, value) in enumerate(writes)
        ]

        def put(db: sqlite3.Connection) -> None:
            db.executemany(_PUT_WRITES.format(verb=verb), rows)
            db.commit()

        await self._in_thread(put)

    async def _in_thread(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``work`` on the connection's own thread in one round trip (aiosqlite queues every call
        to that thread; its ``_execute`` is the queue's entry point)."""
        async with self.lock:
            conn = self.conn
            await conn._execute(work, conn._conn)

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        found = await super().aget_tuple(config)
        return None if found is None else await self._with_values(found)

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        # The base generator holds the connection's lock while it yields: read it all first.
        found = [t async for t in super().alist(config, filter=filter, before=before, limit=limit)]
        for t in found:
            yield await self._with_values(t)

    async def adelete_thread(self, thread_id: str) -> None:
        await super().adelete_thread(thread_id)
        async with self.lock:
            await self.conn.execute("DELETE FROM checkpoint_blobs WHERE thread_id = ?", (str(thread_id),))
            await self.conn.commit()

    async def _with_values(self, found: CheckpointTuple) -> CheckpointTuple:
        checkpoint = found.checkpoint
        inline = checkpoint["channel_values"]
        # One step gives every channel it updates the same version: a blob is (channel, version).
        wanted = {(c, str(v)) for c, v in checkpoint["channel_versions"].items() if c not in inline}
        if not wanted:
            return found
        thread_id = str(found.config["configurable"]["thread_id"])
        ns = found.config["configurable"].get("checkpoint_ns", "")
        versions = sorted({v for _c, v in wanted})
        marks = ",".join("?" * len(versions))
        async with self.lock:
            cursor = await self.conn.execute(
                "SELECT channel, version, type, blob FROM checkpoint_blobs "
                f"WHERE thread_id = ? AND checkpoint_ns = ? AND version IN ({marks})",
                (thread_id, ns, *versions),
            )
            rows = list(await cursor.fetchall())
        values = {
            channel: self.serde.loads_typed((kind, blob))
            for channel, version, kind, blob in rows
            if (channel, version) in wanted
        }
        return found._replace(checkpoint={**checkpoint, "channel_values": {**values, **inline}})


class Compressed(SerializerProtocol):
    """A serializer that zlib-compresses what ``inner`` writes when it is larger than ``threshold``
    bytes (type ``<inner type>+z``); it reads both compressed and plain values."""

    SUFFIX = "+z"

    def __init__(self, inner: SerializerProtocol, threshold: int = 512, level: int = 1) -> None:
        self.inner = inner
        self.threshold = threshold
        self.level = level

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        kind, data = self.inner.dumps_typed(obj)
        if len(data) > self.threshold:
            return kind + self.SUFFIX, zlib.compress(data, self.level)
        return kind, data

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        kind, blob = data
        if kind.endswith(self.SUFFIX):
            return self.inner.loads_typed((kind[: -len(self.SUFFIX)], zlib.decompress(blob)))
        return self.inner.loads_typed((kind, blob))
