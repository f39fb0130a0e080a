"""Verl: parquet with one row per assistant response, for RL with :func:`hardgen.reward.compute_score`.

The paper splits every trajectory at each assistant response and trains the model to produce only that
response (Section 4.1). A row holds:

* ``data_source``: ``"hardgen"``;
* ``prompt``: the chat messages before the response: a system message with the tools and the answer
  format, the user queries, the earlier responses in the reasoning template (``<think>`` then the calls
  in the dataset's call style, see :data:`hardgen.calls.CallStyle`) and the tool results
  (``role: tool``, one per call);
* ``ability``: ``"tool_use"``;
* ``reward_model``: ``{"style": "rule", "ground_truth": "<JSON list of the response's calls>"}``; a
  turn's closing summary has no call, so its ground truth is ``"[]"`` (eq. 6's no-call branch);
* ``extra_info``: ``index``, ``split``, ``trajectory_id``, ``turn``, ``step``, ``kind`` (``call`` or
  ``answer``), ``tools`` (the tool schemas the reward uses for defaults and types), ``call_format``
  (the call style the reward expects) and ``hardgen`` (the verify metadata, on the first row of each
  trajectory only, to keep the file small);
* ``tools``: the trajectory's tools in OpenAI format (a JSON string), for agent loops that pass tools
  to the chat template themselves.

Calls and tools are JSON strings because parquet needs one type per column: argument values differ in
type from call to call (a list here, a number there), and JSON keeps every one of them intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from hardgen.calls import parse_response, render_response
from hardgen.export.common import (
    META_KEY,
    ExportError,
    ExportMeta,
    Replay,
    ReplayStep,
    RunSource,
    calls_json,
    export_meta,
    followup_text,
    observation_text,
    openai_tools,
    parse_call_objects,
    responses,
    system_prompt,
)
from hardgen.export.manifest import write_parquet, write_text_atomic
from hardgen.schema import Trajectory

DATA_SOURCE = "hardgen"
ABILITY = "tool_use"
SPLIT = "train"
BATCH_ROWS = 2048


def _schema() -> Any:
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),
                        ("split", pa.string()),
                        ("trajectory_id", pa.string()),
                        ("turn", pa.int64()),
                        ("step", pa.int64()),
                        ("kind", pa.string()),
                        ("tools", pa.string()),
                        ("call_format", pa.string()),
                        (META_KEY, pa.string()),
                    ]
                ),
            ),
            ("tools", pa.string()),
        ]
    )


def rows(trajectory: Trajectory, source: RunSource, first_index: int) -> list[dict[str, JsonValue]]:
    """The rows of one trajectory: one per assistant response, each with the context before it."""
    tools_json = json.dumps(openai_tools(trajectory.tools), ensure_ascii=False)
    meta = export_meta(trajectory, source.options).to_json()
    style = source.call_format
    context: list[JsonValue] = [{"role": "system", "content": system_prompt(trajectory.tools, style)}]
    out: list[dict[str, JsonValue]] = []
    for turn in trajectory.turns:
        context.append({"role": "user", "content": turn.query.text})
        for response in responses(turn):
            step = response.step
            out.append(
                {
                    "data_source": DATA_SOURCE,
                    "prompt": list(context),
                    "ability": ABILITY,
                    "reward_model": {
                        "style": "rule",
                        "ground_truth": json.dumps(calls_json(response.calls), ensure_ascii=False),
                    },
                    "extra_info": {
                        "index": first_index + len(out),
                        "split": SPLIT,
                        "trajectory_id": trajectory.id,
                        "turn": turn.index,
                        "step": step.index if step is not None else len(turn.steps),
                        "kind": "answer" if step is None else ("no_call" if step.no_call else "call"),
                        "tools": tools_json,
                        "call_format": style,
                        META_KEY: meta if not out else "",
                    },
                    "tools": tools_json,
                }
            )
            if step is None:
                context.append({"role": "assistant", "content": turn.summary})
                continue
            if step.no_call:  # the reply the reward wants: reasoning, then words and no call
                context.append(
                    {"role": "assistant", "content": render_response(step.cot, [], step.reply, style)}
                )
                if turn.followup:
                    context.append({"role": "user", "content": followup_text(turn)})
                continue
            shown = render_response(step.cot, step.calls, style=style)
            context.append({"role": "assistant", "content": shown})
            context.extend({"role": "tool", "content": observation_text(o)} for o in step.observations)
    return out


def output_path(out: Path, name: str) -> Path:
    return out if out.suffix == ".parquet" else out / f"{name}.parquet"


def write(source: RunSource, out: Path, name: str) -> tuple[list[Path], int]:
    """Stream the rows into one parquet file, in batches."""
    path = output_path(out, name)
    schema = _schema()

    def all_rows() -> Iterator[dict[str, JsonValue]]:
        written = 0  # a row's index runs across trajectories
        for trajectory in source.trajectories():
            batch = rows(trajectory, source, written)
            written += len(batch)
            yield from batch

    count = write_parquet(path, schema, all_rows(), BATCH_ROWS)
    reward = path.with_name(f"{path.stem}_reward.py")
    write_text_atomic(reward, reward_module_text())
    return [path, reward], count


def reward_module_text() -> str:
    """The standard-library reward module (:mod:`hardgen.export.verl_reward`) to write beside a parquet."""
    from importlib.resources import files

    return files("hardgen.export").joinpath("verl_reward.py").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ reading


def _iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise ExportError(f"{path}: not a readable parquet file: {exc}") from exc
    for batch in parquet.iter_batches(batch_size=512):
        yield from batch.to_pylist()


def _group(path: Path) -> Iterator[list[dict[str, Any]]]:
    """Rows grouped by trajectory; the rows of one trajectory must be contiguous (as exported)."""
    seen: set[str] = set()
    current: list[dict[str, Any]] = []
    for row in _iter_rows(path):
        info = row.get("extra_info") or {}
        tid = info.get("trajectory_id")
        if not isinstance(tid, str):
            raise ExportError(f"{path}: a row has no extra_info.trajectory_id; was it exported by hardgen?")
        if current and current[0]["extra_info"]["trajectory_id"] != tid:
            yield current
            current = []
        if not current:
            if tid in seen:
                raise ExportError(
                    f"{path}: the rows of trajectory {tid} are not together; verify reads files in the order "
                    "hardgen exported them (sort by extra_info.index first)"
                )
            seen.add(tid)
        current.append(row)
    if current:
        yield current


def _messages(row: dict[str, Any]) -> list[dict[str, Any]]:
    prompt = row.get("prompt")
    return [m for m in prompt if isinstance(m, dict)] if isinstance(prompt, list) else []


def replay_rows(group: list[dict[str, Any]], where: str) -> Replay:
    """Read the calls (ground truths) and their results (the next row's prompt) of one trajectory."""
    group = sorted(group, key=lambda r: (r["extra_info"].get("turn", 0), r["extra_info"].get("step", 0)))
    tid = group[0]["extra_info"]["trajectory_id"]
    carriers = [r for r in group if r["extra_info"].get(META_KEY)]
    meta = ExportMeta.from_json(carriers[0]["extra_info"][META_KEY] if carriers else None, f"{where} ({tid})")
    steps: list[ReplayStep] = []
    problems: list[str] = []
    for i, row in enumerate(group):
        info = row["extra_info"]
        truth = row.get("reward_model", {}).get("ground_truth", "[]")
        try:
            calls = parse_call_objects(json.loads(truth), f"{where} ({tid}) row {i}")
        except json.JSONDecodeError as exc:
            raise ExportError(f"{where} ({tid}) row {i}: the ground truth is not JSON: {exc}") from exc
        if not calls:
            continue
        label = f"turn {info.get('turn')} step {info.get('step')}"
        if i + 1 >= len(group):
            problems.append(f"{label}: no later row shows the results of its calls")
            continue
        before, after = _messages(row), _messages(group[i + 1])
        if after[: len(before)] != before:
            problems.append(f"{label}: the next row's prompt does not continue this row's prompt")
        shown = after[len(before) : len(before) + 1 + len(calls)]
        if not shown or shown[0].get("role") != "assistant":
            problems.append(f"{label}: the next row's prompt does not show this response")
        else:
            parsed = parse_response(shown[0].get("content"))
            if parsed.error or calls_json(parsed.calls) != calls_json(calls):
                problems.append(f"{label}: the response shown in later prompts differs from the ground truth")
        results = shown[1:]
        if len(results) != len(calls) or any(m.get("role") != "tool" for m in results):
            problems.append(f"{label}: later prompts show {len(results)} tool results for {len(calls)} calls")
        steps.append(
            ReplayStep(
                turn=int(info.get("turn", 0)),
                step=int(info.get("step", 0)),
                calls=calls,
                observed=[str(m.get("content")) for m in results],
            )
        )
    return Replay(meta=meta, steps=steps, where=where, problems=problems)


def read_replays(path: Path) -> Iterator[Replay]:
    for group in _group(path):
        yield replay_rows(group, f"{path.name} rows {group[0]['extra_info'].get('index')}..")
