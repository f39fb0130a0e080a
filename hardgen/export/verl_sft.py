"""Verl multi-turn SFT: parquet with one row per trajectory, for Verl's ``MultiTurnSFTDataset``.

Columns:

* ``id``: the trajectory id;
* ``messages``: the OpenAI chat messages of the ``openai`` export (the CoT in ``reasoning_content``, a
  parallel step as one assistant message with several ``tool_calls``, each answered by a ``tool``
  message); every message has every key (``role``, ``content``, ``reasoning_content``, ``tool_calls``,
  ``tool_call_id``, ``name``), null where unused, since parquet needs one struct type for all of them;
  call ``arguments`` are JSON strings;
* ``tools``: the trajectory's tools in OpenAI format, a JSON string;
* ``hardgen``: the verify metadata (a JSON string).

With ``--with-recovery`` messages also have ``weight`` (0 on a failed call shown for recovery, else
null; see :mod:`hardgen.export.recovery`).

Beside the parquet goes ``<name>_dataset.py`` (:mod:`hardgen.export.verl_sft_dataset`): Verl's own
dataset class with the JSON strings turned back into objects, so that the chat template gets ``tools``
and ``arguments`` as it expects them and no null-padded keys. Point ``data.custom_cls`` at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from hardgen.export import openai_chat
from hardgen.export.common import META_KEY, ExportError, ExportMeta, Replay, RunSource
from hardgen.export.manifest import write_parquet, write_text_atomic
from hardgen.schema import Trajectory

BATCH_ROWS = 256
DATASET_CLASS = "HardgenSFTDataset"


def _schema(weights: bool = False) -> Any:
    import pyarrow as pa

    text = pa.string()
    function = pa.struct([("name", text), ("arguments", text)])
    call = pa.struct([("id", text), ("type", text), ("function", function)])
    fields = [
        ("role", text),
        ("content", text),
        ("reasoning_content", text),
        ("tool_calls", pa.list_(call)),
        ("tool_call_id", text),
        ("name", text),
    ]
    if weights:
        fields.append(("weight", pa.int64()))
    return pa.schema(
        [("id", text), ("messages", pa.list_(pa.struct(fields))), ("tools", text), (META_KEY, text)]
    )


def row(trajectory: Trajectory, source: RunSource) -> dict[str, JsonValue]:
    record = openai_chat.record(trajectory, source, uniform=True)
    return {"id": trajectory.id, **record}


def output_path(out: Path, name: str) -> Path:
    return out if out.suffix == ".parquet" else out / f"{name}.parquet"


def dataset_module_path(parquet: Path) -> Path:
    return parquet.with_name(f"{parquet.stem}_dataset.py")


def write(source: RunSource, out: Path, name: str) -> tuple[list[Path], int]:
    """Stream the rows into one parquet file, and write the dataset class beside it."""
    path = output_path(out, name)
    schema = _schema(weights=source.with_recovery)
    count = write_parquet(path, schema, (row(t, source) for t in source.trajectories()), BATCH_ROWS)
    module = dataset_module_path(path)
    write_text_atomic(module, dataset_module_text())
    return [path, module], count


def dataset_module_text() -> str:
    """The dataset class module (:mod:`hardgen.export.verl_sft_dataset`) to write beside a parquet."""
    from importlib.resources import files

    return files("hardgen.export").joinpath("verl_sft_dataset.py").read_text(encoding="utf-8")


def is_sft_parquet(path: Path) -> bool:
    """Whether a parquet file is a ``verl-sft`` export (it has a ``messages`` column)."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise ExportError(f"{path}: not a readable parquet file: {exc}") from exc
    return "messages" in names


# ------------------------------------------------------------------------------------------ reading


def read_replays(path: Path) -> Iterator[Replay]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise ExportError(f"{path}: not a readable parquet file: {exc}") from exc
    n = 0
    for batch in parquet.iter_batches(batch_size=64):
        for rec in batch.to_pylist():
            where = f"{path.name}[{n}]"
            n += 1
            meta = ExportMeta.from_json(rec.get(META_KEY), where)
            yield openai_chat.replay_messages(rec.get("messages"), meta, where)
