"""Reading the LLM roles' answers: reasoning text set aside, JSON found, schema models built.

Every function here either returns a value or raises :class:`OutputError` whose message says, in words a
model can act on, what was wrong; the role sends that message back in a re-ask. Nothing is evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from pydantic import JsonValue, ValidationError

from hardgen.schema import AdvancedParameter, AdvancedTool, HardQuery, VerifierFeedback, canonical_json

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_FENCED = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)```", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_SCANNED_OBJECTS = 200
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")
_TYPE_ALIASES = {
    "str": "string",
    "text": "string",
    "int": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "map": "object",
}


class OutputError(ValueError):
    """An answer that cannot be used; the message tells the model what to fix."""


def split_think(text: str) -> tuple[str, str]:
    """Split an answer into its ``<think>`` reasoning and the rest.

    A ``</think>`` without an opening tag (chat templates that put ``<think>`` into the prompt) makes
    everything before it reasoning; an unclosed ``<think>`` (a truncated answer) makes everything after
    it reasoning.
    """
    thoughts: list[str] = []
    rest: list[str] = []
    pos = 0
    first_open, first_close = text.find(THINK_OPEN), text.find(THINK_CLOSE)
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        thoughts.append(text[:first_close].strip())
        pos = first_close + len(THINK_CLOSE)
    while True:
        start = text.find(THINK_OPEN, pos)
        if start == -1:
            rest.append(text[pos:])
            break
        rest.append(text[pos:start])
        end = text.find(THINK_CLOSE, start + len(THINK_OPEN))
        if end == -1:
            thoughts.append(text[start + len(THINK_OPEN) :].strip())
            break
        thoughts.append(text[start + len(THINK_OPEN) : end].strip())
        pos = end + len(THINK_CLOSE)
    return "\n\n".join(t for t in thoughts if t), "".join(rest).replace(THINK_CLOSE, "").strip()


def without_think(text: str) -> str:
    """The answer with its reasoning taken out."""
    return split_think(text)[1]


def _reject_constant(name: str) -> JsonValue:
    raise ValueError(f"{name} is not valid JSON")


def _loads_object(text: str) -> dict[str, JsonValue] | None:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def extract_json_object(text: str) -> dict[str, JsonValue]:
    """The JSON object in an answer: the whole answer, a fenced block, or the first ``{...}`` that parses.

    Raises:
        OutputError: There is no JSON object outside the reasoning.
    """
    body = without_think(text)
    if not body:
        raise OutputError("the answer is empty: there is nothing outside the <think> reasoning")
    found = _loads_object(body)
    if found is not None:
        return found
    for block in _FENCED.findall(body):
        found = _loads_object(block.strip())
        if found is not None:
            return found
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    start = body.find("{")
    scanned = 0
    while start != -1 and scanned < _MAX_SCANNED_OBJECTS:
        try:
            value, _ = decoder.raw_decode(body, start)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
        start = body.find("{", start + 1)
        scanned += 1
    raise OutputError("no valid JSON object was found in the answer")


def _text(data: Mapping[str, JsonValue], *keys: str, required: bool = True) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is not None and not isinstance(value, str):
            return canonical_json(value)
    if required:
        raise OutputError(f'the JSON object needs a non-empty "{keys[0]}" string')
    return ""


def to_advanced_tool(data: Mapping[str, JsonValue], primitive_tools: Sequence[str]) -> AdvancedTool:
    """The Tool Maker's answer (the paper's ``advanced_tool_name`` + ``parameters``) as an AdvancedTool."""
    name = _text(data, "advanced_tool_name", "name")
    if not _NAME.match(name):
        raise OutputError(f'"advanced_tool_name" must be a snake_case identifier, not {name!r}')
    raw_params = data.get("parameters", [])
    if isinstance(raw_params, dict):  # {"city": {"type": ..., "description": ...}} is a common variant
        raw_params = [{"name": k, **v} if isinstance(v, dict) else {"name": k} for k, v in raw_params.items()]
    if not isinstance(raw_params, list):
        raise OutputError('"parameters" must be a list of {"name", "type", "description", "value"} objects')
    parameters: list[AdvancedParameter] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_params, 1):
        if not isinstance(item, dict):
            raise OutputError(f"parameter {i} is not an object")
        pname = _text(item, "name")
        if not _NAME.match(pname) or pname in seen:
            raise OutputError(f"parameter {i}: {pname!r} is not a unique identifier")
        seen.add(pname)
        ptype = _text(item, "type").lower()
        ptype = _TYPE_ALIASES.get(ptype, ptype)
        if ptype not in JSON_TYPES:
            raise OutputError(f"parameter {pname!r}: type must be one of {', '.join(JSON_TYPES)}")
        parameters.append(
            AdvancedParameter(
                name=pname, type=ptype, description=_text(item, "description"), value=item.get("value")
            )
        )
    return AdvancedTool(
        name=name,
        description=_text(data, "description"),
        parameters=parameters,
        returns=_text(data, "returns", required=False),
        primitive_tools=list(dict.fromkeys(primitive_tools)),
    )


def to_hard_query(data: Mapping[str, JsonValue], advanced_tool: str) -> HardQuery:
    """The Query Generator's answer ``{"query": ...}`` as a HardQuery."""
    return HardQuery(text=_text(data, "query", "hard_query", "text"), advanced_tool=advanced_tool)


def to_feedback(data: Mapping[str, JsonValue]) -> VerifierFeedback:
    """The Verifier's answer (Figure 14's five fields) as VerifierFeedback."""
    aspects = data.get("should_reconsider", [])
    if isinstance(aspects, str):
        aspects = [aspects]
    if not isinstance(aspects, list):
        raise OutputError('"should_reconsider" must be a list of strings')
    try:
        return VerifierFeedback(
            error_type=_text(data, "error_type"),
            error_location=_text(data, "error_location", required=False) or "unspecified",
            root_cause=_text(data, "root_cause"),
            corrective_hint=_text(data, "corrective_hint"),
            should_reconsider=[a if isinstance(a, str) else canonical_json(a) for a in aspects],
        )
    except ValidationError as exc:  # pragma: no cover - every field is checked above
        raise OutputError(f"the feedback does not fit its schema: {exc.errors()[0]['msg']}") from None


def summary_text(content: str) -> str:
    """The summariser's closing message: the answer without reasoning.

    Raises:
        OutputError: Nothing is left once the reasoning is taken out.
    """
    text = without_think(content)
    if not text:
        raise OutputError("the answer is empty: write the message to the user outside <think>")
    return text
