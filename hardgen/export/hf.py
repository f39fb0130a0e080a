"""Hugging Face ``datasets``: the OpenAI chat messages as a dataset saved to disk (or pushed to the Hub).

Columns: ``id``, ``messages`` (every message has ``role``, ``content``, ``reasoning_content``,
``tool_calls``, ``tool_call_id`` and ``name``, null where unused, so all rows share one Arrow type),
``tools`` (OpenAI tool schemas as a JSON string: schemas differ from tool to tool, and one string column
loads with every ``datasets`` version; ``json.loads`` it before ``apply_chat_template(tools=...)``) and
``hardgen`` (the verify metadata, a JSON string).

``datasets`` is imported only here (it is heavy), and only when this format is used.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hardgen.export import openai_chat
from hardgen.export.common import (
    META_KEY,
    ExportError,
    ExportMeta,
    Replay,
    RunSource,
    export_meta,
    openai_tools,
)
from hardgen.export.manifest import atomic_folder


def features() -> Any:
    from datasets import Features, Value

    text = Value("string")
    message = {
        "role": text,
        "content": text,
        "reasoning_content": text,
        "tool_calls": [{"id": text, "type": text, "function": {"name": text, "arguments": text}}],
        "tool_call_id": text,
        "name": text,
    }
    return Features({"id": text, "messages": [message], "tools": text, META_KEY: text})


def _records(source: RunSource) -> Iterator[dict[str, object]]:
    for trajectory in source.trajectories():
        yield {
            "id": trajectory.id,
            "messages": openai_chat.messages(trajectory, uniform=True),
            "tools": json.dumps(openai_tools(trajectory.tools), ensure_ascii=False),
            META_KEY: export_meta(trajectory, source.options).to_json(),
        }


def write(source: RunSource, out: Path, name: str) -> tuple[list[Path], int]:
    """Save the dataset to the folder ``out`` (written beside it, then renamed into place)."""
    import datasets

    if out.exists() and any(out.iterdir()) and not (out / "state.json").exists():
        raise ExportError(f"{out} exists and is not a saved dataset; choose an empty or new folder")
    # The generator streams trajectories into Arrow files in a private cache, removed afterwards.
    with _quiet(), tempfile.TemporaryDirectory(prefix="hardgen-hf-") as cache, atomic_folder(out) as temp:
        if source.count:
            dataset = datasets.Dataset.from_generator(
                _records, gen_kwargs={"source": source}, features=features(), cache_dir=cache
            )
        else:
            dataset = datasets.Dataset.from_dict({k: [] for k in features()}, features=features())
        dataset.info.description = f"hardgen trajectories of run {source.run_id}"
        dataset.save_to_disk(str(temp))
        count = len(dataset)
        del dataset
    return [out], count


@contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars from ``datasets`` while we work (the CLI prints its own summary)."""
    from datasets.utils import logging as ds_logging

    was_enabled = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            ds_logging.enable_progress_bar()


def push(path: Path, repo_id: str, *, private: bool, token: str) -> None:
    """Push a saved dataset folder with ``datasets`` (parquet shards the Hub's viewer and loader read)."""
    import datasets

    with _quiet():
        dataset = datasets.load_from_disk(str(path))
        dataset.push_to_hub(repo_id, private=private, token=token)


def read_replays(path: Path) -> Iterator[Replay]:
    import datasets

    try:
        with _quiet():
            dataset = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError or its own errors
        raise ExportError(f"{path}: not a saved Hugging Face dataset: {exc}") from exc
    if isinstance(dataset, datasets.DatasetDict):
        raise ExportError(f"{path}: a DatasetDict; verify one split's folder instead")
    for i, row in enumerate(dataset):
        where = f"{path.name}[{i}]"
        meta = ExportMeta.from_json(row.get(META_KEY), where)
        yield openai_chat.replay_messages(row.get("messages"), meta, where)
