"""LLaMA-Factory: ShareGPT-style JSON lines with a ``tools`` column and function_call/observation turns.

One record per trajectory::

    {"messages": [
        {"role": "user", "content": "<query of turn 1>"},
        {"role": "function_call",
         "content": "<think>\\n<CoT>\\n</think>\\n\\n[{\\"name\\": ..., \\"arguments\\": {...}}]"},
        {"role": "observation", "content": "<result JSON>"},
        ...
        {"role": "assistant", "content": "<summary of turn 1>"},
        {"role": "user", "content": "<query of turn 2>"}, ...],
     "tools": "[{\\"name\\": ..., \\"description\\": ..., \\"parameters\\": {...}}]",
     "hardgen": "<ExportMeta JSON>"}

That is the ``hermes`` call style (the default): LLaMA-Factory's tool formatter turns the function_call
turn into the model's own call format, one ``<tool_call>`` JSON block per call with the ``qwen``/``qwen3``
templates, and the ``tools`` column into the template's tool system prompt. With the ``python`` call
style a record starts with hardgen's own system message (tools and answer format) and has no ``tools``
column; each step is an ``assistant`` turn with the text the model must write
(``<think>...</think>`` then ``<tool_call>[f(a=1), ...]</tool_call>``), followed by its observation.

Choices that avoid known pains of tool data in LLaMA-Factory:

* The CoT that goes with a call stays in the ``function_call`` turn as a leading ``<think>`` block,
  which LLaMA-Factory's function formatter keeps (its ``thought_words``; LLaMA-Factory >= 0.9.2). A
  separate assistant text turn before the call would break the strict user/assistant alternation the
  ShareGPT converter enforces, and such examples are dropped.
* Parallel calls are one ``function_call`` turn holding a JSON list, and their results one
  ``observation`` turn joined the way LLaMA-Factory's own OpenAI converter joins them.
* Every call has its observation; the closing summary is a plain ``assistant`` turn.

LLaMA-Factory trains every assistant turn of a record with the turns before it as context, which is the
paper's split "at each assistant response" (Section 4.1) without duplicating the prefixes on disk.
Unknown columns such as ``hardgen`` are ignored by its loader (it keeps only the mapped columns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import JsonValue

from hardgen.calls import CALL_OPEN, DEFAULT_CALL_STYLE, CallStyle, parse_response, render_response
from hardgen.export.common import (
    META_KEY,
    ExportError,
    Replay,
    ReplayStep,
    RunSource,
    calls_json,
    export_meta,
    followup_text,
    joined_observations,
    parse_call_objects,
    read_jsonl_records,
    responses,
    system_prompt,
    tool_dicts,
)
from hardgen.export.manifest import atomic_file, write_text_atomic
from hardgen.schema import Trajectory

ROLE_USER, ROLE_ASSISTANT = "user", "assistant"
ROLE_FUNCTION, ROLE_OBSERVATION, ROLE_SYSTEM = "function_call", "observation", "system"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

DATASET_INFO = "dataset_info.json"


def dataset_info_entry(file_name: str, style: CallStyle = DEFAULT_CALL_STYLE) -> dict[str, JsonValue]:
    """The ``dataset_info.json`` entry that tells LLaMA-Factory how to read the file."""
    columns: dict[str, JsonValue] = {"messages": "messages"}
    if style == "hermes":
        columns["tools"] = "tools"
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": columns,
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": ROLE_USER,
            "assistant_tag": ROLE_ASSISTANT,
            "observation_tag": ROLE_OBSERVATION,
            "function_tag": ROLE_FUNCTION,
            "system_tag": ROLE_SYSTEM,
        },
    }


def function_call_content(cot: str, calls: list[dict[str, JsonValue]]) -> str:
    body = json.dumps(calls, ensure_ascii=False)
    return f"{THINK_OPEN}\n{cot.strip()}\n{THINK_CLOSE}\n\n{body}" if cot.strip() else body


def record(trajectory: Trajectory, source: RunSource) -> dict[str, JsonValue]:
    """One trajectory as a LLaMA-Factory ShareGPT record, in the source's call style."""
    python = source.call_format == "python"
    messages: list[JsonValue] = []
    if python:
        messages.append({"role": ROLE_SYSTEM, "content": system_prompt(trajectory.tools, "python")})
    for turn in trajectory.turns:
        messages.append({"role": ROLE_USER, "content": turn.query.text})
        for response in responses(turn):
            if response.step is None:
                messages.append({"role": ROLE_ASSISTANT, "content": turn.summary})
                continue
            step = response.step
            if step.no_call:  # words to the user, then the user's follow-up (if any)
                text = render_response(step.cot, [], step.reply, style=source.call_format)
                messages.append({"role": ROLE_ASSISTANT, "content": text})
                if turn.followup:
                    messages.append({"role": ROLE_USER, "content": followup_text(turn)})
                continue
            if python:
                text = render_response(step.cot, step.calls, style="python")
                messages.append({"role": ROLE_ASSISTANT, "content": text})
            else:
                content = function_call_content(step.cot, calls_json(step.calls))
                messages.append({"role": ROLE_FUNCTION, "content": content})
            messages.append({"role": ROLE_OBSERVATION, "content": joined_observations(step.observations)})
    rec: dict[str, JsonValue] = {"messages": messages}
    if not python:
        rec["tools"] = json.dumps(tool_dicts(trajectory.tools), ensure_ascii=False)
    rec[META_KEY] = export_meta(trajectory, source.options).to_json()
    return rec


def output_paths(out: Path, name: str) -> tuple[Path, Path]:
    """(data file, dataset_info.json): ``out`` is the data file if it ends in .json/.jsonl, else a folder."""
    if out.suffix in (".jsonl", ".json"):
        return out, out.parent / DATASET_INFO
    return out / f"{name}.jsonl", out / DATASET_INFO


def write(source: RunSource, out: Path, name: str) -> tuple[list[Path], int]:
    """Write the records and add (or replace) this dataset's entry in ``dataset_info.json``.

    Returns:
        The files written and the number of records.
    """
    data_path, info_path = output_paths(out, name)
    count = 0
    with atomic_file(data_path) as temp, temp.open("w", encoding="utf-8") as fh:
        for trajectory in source.trajectories():
            fh.write(json.dumps(record(trajectory, source), ensure_ascii=False))
            fh.write("\n")
            count += 1
    info: dict[str, JsonValue] = {}
    if info_path.exists():
        try:
            loaded = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ExportError(f"{info_path} exists but is not valid JSON ({exc}); fix or remove it") from exc
        if not isinstance(loaded, dict):
            raise ExportError(f"{info_path} exists but is not a JSON object; fix or remove it")
        info = loaded
    info[name] = dataset_info_entry(data_path.name, source.call_format)
    write_text_atomic(info_path, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return [data_path, info_path], count


# ------------------------------------------------------------------------------------------ reading


def split_function_call(content: str) -> tuple[str, str]:
    """(CoT, calls JSON text) of a function_call turn."""
    text = content.strip()
    if text.startswith(THINK_OPEN) and THINK_CLOSE in text:
        end = text.index(THINK_CLOSE)
        return text[len(THINK_OPEN) : end].strip(), text[end + len(THINK_CLOSE) :].strip()
    return "", text


def replay(rec: dict[str, object], where: str) -> Replay:
    """Read the calls and observations of one record back, in the order a trainer sees them."""
    from hardgen.export.common import ExportMeta

    meta = ExportMeta.from_json(rec.get(META_KEY), where)
    messages = rec.get("messages")
    if not isinstance(messages, list):
        raise ExportError(f"{where}: no messages list")
    steps: list[ReplayStep] = []
    problems: list[str] = []
    turn, step = -1, 0
    expect_observation = False
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ExportError(f"{where}: message {i} is not an object")
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, str):
            problems.append(f"message {i} ({role}) has no text content")
            continue
        if expect_observation and role != ROLE_OBSERVATION:
            problems.append(f"message {i}: the function_call before it has no observation")
        expect_observation = False
        if role == ROLE_USER:
            turn, step = turn + 1, 0
        elif role == ROLE_ASSISTANT and CALL_OPEN in content:
            parsed = parse_response(content)
            if parsed.error or not parsed.calls:
                raise ExportError(f"{where} message {i}: the calls cannot be read: {parsed.error}")
            steps.append(ReplayStep(turn=turn, step=step, calls=parsed.calls, observed=[], joined=True))
            step += 1
            expect_observation = True
        elif role == ROLE_FUNCTION:
            _, body = split_function_call(content)
            try:
                calls = parse_call_objects(json.loads(body), f"{where} message {i}")
            except json.JSONDecodeError as exc:
                raise ExportError(f"{where} message {i}: the function_call is not JSON: {exc}") from exc
            steps.append(ReplayStep(turn=turn, step=step, calls=calls, observed=[], joined=True))
            step += 1
            expect_observation = True
        elif role == ROLE_OBSERVATION:
            if not steps or steps[-1].observed:
                problems.append(f"message {i}: an observation without a function_call before it")
                continue
            steps[-1].observed = [content]
    if expect_observation:
        problems.append("the last function_call has no observation")
    return Replay(meta=meta, steps=steps, where=where, problems=problems)


def read_replays(path: Path) -> Iterator[Replay]:
    for rec, where in read_jsonl_records(path):
        yield replay(rec, where)
