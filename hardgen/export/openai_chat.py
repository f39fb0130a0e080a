"""OpenAI chat messages: JSON lines with ``messages``, ``tools`` and ``tool_calls`` (arguments as strings).

One record per trajectory::

    {"messages": [
        {"role": "user", "content": "<query>"},
        {"role": "assistant", "content": null, "reasoning_content": "<CoT>",
         "tool_calls": [{"id": "call_0_0_0", "type": "function",
                         "function": {"name": "get_zipcode", "arguments": "{\\"city\\": \\"Rivermist\\"}"}}]},
        {"role": "tool", "tool_call_id": "call_0_0_0", "name": "get_zipcode", "content": "<result JSON>"},
        ...
        {"role": "assistant", "content": "<summary>"}],
     "tools": "[{\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}]",
     "hardgen": "<ExportMeta JSON>"}

``tools`` is a JSON string (``json.loads`` it before ``apply_chat_template(tools=...)``): the schemas of
different tools give the same key different JSON types, which ``datasets`` 4.x cannot load as objects.
The CoT is kept in ``reasoning_content``, the field reasoning models' chat templates (Qwen3, DeepSeek-R1)
and servers (vLLM, SGLang) use. A parallel step is one assistant message with several tool calls, each
answered by its own ``tool`` message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import JsonValue

from hardgen.export.common import (
    META_KEY,
    ExportError,
    ExportMeta,
    Replay,
    ReplayStep,
    RunSource,
    call_id,
    export_meta,
    followup_text,
    observation_text,
    openai_tools,
    parse_call_objects,
    read_jsonl_records,
    responses,
)
from hardgen.export.manifest import atomic_file
from hardgen.export.recovery import Recovery, find_recoveries, recovery_cot
from hardgen.schema import ToolCall, Trajectory

# Every message has every key in the uniform form (Arrow needs one struct type for all messages).
MESSAGE_KEYS = ("role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name")


def _tool_calls(ids: list[str], calls: list[ToolCall]) -> list[JsonValue]:
    return [
        {
            "id": cid,
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
        }
        for cid, c in zip(ids, calls, strict=True)
    ]


def messages(
    trajectory: Trajectory,
    *,
    uniform: bool = False,
    recoveries: Mapping[tuple[int, int], Recovery] | None = None,
) -> list[dict[str, JsonValue]]:
    """The trajectory as OpenAI chat messages; ``uniform`` gives every message every key.

    ``recoveries`` (by turn and step index): a failed attempt to show before a step, as an assistant
    message with ``"weight": 0`` and the real error of each of its calls; the step's reasoning then
    opens by reading those errors.
    """
    out: list[dict[str, JsonValue]] = []
    for turn in trajectory.turns:
        out.append({"role": "user", "content": turn.query.text})
        for response in responses(turn):
            step = response.step
            if step is None:
                out.append({"role": "assistant", "content": turn.summary})
                continue
            if step.no_call:  # words to the user, then the user's follow-up (if any)
                out.append({"role": "assistant", "content": step.reply, "reasoning_content": step.cot})
                if turn.followup:
                    out.append({"role": "user", "content": followup_text(turn)})
                continue
            cot = step.cot
            recovery = (recoveries or {}).get((turn.index, step.index))
            if recovery is not None:
                failed = [o.call for o in recovery.observations]
                failed_ids = [f"call_{turn.index}_{step.index}_failed_{i}" for i in range(len(failed))]
                out.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": recovery.cot,
                        "tool_calls": _tool_calls(failed_ids, failed),
                        "weight": 0,
                    }
                )
                out.extend(
                    {"role": "tool", "tool_call_id": cid, "name": o.call.name, "content": observation_text(o)}
                    for cid, o in zip(failed_ids, recovery.observations, strict=True)
                )
                cot = recovery_cot(recovery, step.cot)
            ids = [call_id(turn.index, step.index, i) for i in range(len(step.calls))]
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": cot,
                    "tool_calls": _tool_calls(ids, step.calls),
                }
            )
            for cid, obs in zip(ids, step.observations, strict=True):
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": cid,
                        "name": obs.call.name,
                        "content": observation_text(obs),
                    }
                )
    if uniform:
        keys = (*MESSAGE_KEYS, "weight") if recoveries is not None else MESSAGE_KEYS
        out = [{key: m.get(key) for key in keys} for m in out]
    return out


def record(trajectory: Trajectory, source: RunSource, *, uniform: bool = False) -> dict[str, JsonValue]:
    """One trajectory's record; with ``source.with_recovery``, failed attempts are found and shown."""
    recoveries = find_recoveries(trajectory, source.options) if source.with_recovery else None
    msgs: list[JsonValue] = list(messages(trajectory, uniform=uniform, recoveries=recoveries))
    return {
        "messages": msgs,
        # A JSON string: tool schemas differ in shape and type from tool to tool, which Arrow's JSON
        # reader (datasets 4.x) cannot unify; LLaMA-Factory's readers take the string as it is.
        "tools": json.dumps(openai_tools(trajectory.tools), ensure_ascii=False),
        META_KEY: export_meta(trajectory, source.options, recoveries).to_json(),
    }


def output_path(out: Path, name: str) -> Path:
    return out if out.suffix in (".jsonl", ".json") else out / f"{name}.jsonl"


def write(source: RunSource, out: Path, name: str) -> tuple[list[Path], int]:
    path = output_path(out, name)
    count = 0
    with atomic_file(path) as temp, temp.open("w", encoding="utf-8") as fh:
        for trajectory in source.trajectories():
            fh.write(json.dumps(record(trajectory, source), ensure_ascii=False))
            fh.write("\n")
            count += 1
    return [path], count


# ------------------------------------------------------------------------------------------ reading


def replay_messages(messages_value: object, meta: ExportMeta, where: str) -> Replay:
    """Read calls and tool results back from OpenAI messages."""
    if not isinstance(messages_value, list):
        raise ExportError(f"{where}: no messages list")
    steps: list[ReplayStep] = []
    pending: dict[str, tuple[ReplayStep, int]] = {}
    problems: list[str] = []
    turn, step = -1, 0
    for i, message in enumerate(messages_value):
        if not isinstance(message, dict):
            raise ExportError(f"{where}: message {i} is not an object")
        role = message.get("role")
        if role == "user":
            turn, step = turn + 1, 0
        elif role == "assistant" and message.get("tool_calls"):
            tool_calls = message["tool_calls"]
            if not isinstance(tool_calls, list):
                raise ExportError(f"{where}: message {i}: tool_calls is not a list")
            functions = [tc.get("function") if isinstance(tc, dict) else None for tc in tool_calls]
            calls = parse_call_objects(functions, f"{where} message {i}")
            current = ReplayStep(turn=turn, step=step, calls=calls, observed=[""] * len(calls))
            steps.append(current)
            step += 1
            for k, tc in enumerate(tool_calls):
                pending[str(tc.get("id"))] = (current, k)
        elif role == "tool":
            key = str(message.get("tool_call_id"))
            if key not in pending:
                problems.append(f"message {i}: a tool result for an unknown call id {key!r}")
                continue
            target, k = pending.pop(key)
            content = message.get("content")
            target.observed[k] = (
                content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            )
    for key in pending:
        problems.append(f"the call {key} has no tool result")
    return Replay(meta=meta, steps=steps, where=where, problems=problems)


def read_replays(path: Path) -> Iterator[Replay]:
    for rec, where in read_jsonl_records(path):
        yield replay_messages(rec.get("messages"), ExportMeta.from_json(rec.get(META_KEY), where), where)
