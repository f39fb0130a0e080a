"""Parse and render model responses: ``<think>`` reasoning and ``<tool_call>`` function calls.

The paper's format (Figures 13 and 15) is::

    <think>
    reasoning
    </think>
    <tool_call>
    [get_zipcode(city="Rivermist"), get_zipcode(city="Stonebrook")]
    </tool_call>

Three call formats are understood, and none of them is ever evaluated as code:

* ``python``: a list of Python calls with keyword arguments, read with :mod:`ast`. Values are literals:
  strings, numbers (also negative), ``True``/``False``/``None`` (``true``/``false``/``null`` too), and
  lists, tuples and dicts of them. Names and expressions are errors; positional arguments too, unless the
  caller gives each tool's parameter order (``positional``: BFCL's own answers write ``sort('a.txt')``).
* ``json``: ``[{"name": ..., "arguments": {...}}]`` (or one object, or ``"parameters"`` instead of
  ``"arguments"``, or arguments given as a JSON string) inside ``<tool_call>``; several blocks add up.
* ``openai``: the ``tool_calls`` of a chat completion message (arguments as JSON strings).

Parsing is lenient (an unclosed ``<think>`` from a truncated output, a missing ``</tool_call>``, code
fences, a bare call list without tags) and never raises: a failure is a :class:`ParseResult` whose
``error`` says what is wrong. The reward's format check, :func:`follows_template`, is strict.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import Field, JsonValue, ValidationError

from hardgen.schema import Model, ToolCall

CallFormat = Literal["python", "json", "openai", "none"]
CallStyle = Literal["hermes", "python"]
"""How an exported dataset writes a response's calls (one style per dataset, used by SFT, RL and reward).

* ``hermes``: one ``<tool_call>`` block per call holding ``{"name": ..., "arguments": {...}}`` (the
  format of Qwen's chat templates and LLaMA-Factory's ``qwen`` tool formatter, which vLLM's and SGLang's
  ``hermes`` tool parsers read);
* ``python``: one ``<tool_call>`` block holding the Python-style list ``[f(a=1), g(b="x")]`` (the paper's).
"""
CALL_STYLES: tuple[str, ...] = ("hermes", "python")
DEFAULT_CALL_STYLE: CallStyle = "hermes"

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
FINAL_OPEN, FINAL_CLOSE = "<final_reasoning>", "</final_reasoning>"
_FINAL = re.compile(re.escape(FINAL_OPEN) + r"(.*?)(?:" + re.escape(FINAL_CLOSE) + r"|$)", re.DOTALL)
CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"

_TAG = re.compile(r"</?(?:think|tool_call)>")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_JSON_NAMES: dict[str, JsonValue] = {"true": True, "false": False, "null": None}
_MAX_BLOCK_CHARS = 1_000_000


class ParseResult(Model):
    """What a model response contained.

    When ``error`` is set the response is unusable as calls and ``calls`` is empty; ``cot`` and ``text``
    are still filled, so the raw reasoning can be recorded with the failure.
    """

    cot: str = ""
    calls: list[ToolCall] = Field(default_factory=list)
    text: str = ""
    error: str | None = None
    format: CallFormat = "none"

    @property
    def ok(self) -> bool:
        return self.error is None


class CallSyntaxError(ValueError):
    """A call block that cannot be read; the message says what is wrong, for the model."""


# ------------------------------------------------------------------------------------------ parsing


def parse_response(
    content: str | None,
    *,
    reasoning: str | None = None,
    tool_calls: Iterable[Mapping[str, object]] | None = None,
    positional: Mapping[str, Sequence[str]] | None = None,
) -> ParseResult:
    """Split a model response into CoT, calls and free text. Never raises.

    Args:
        content: The message content (may hold ``<think>`` and ``<tool_call>`` blocks).
        reasoning: A separate reasoning field (``reasoning_content``); it comes first in ``cot``.
        tool_calls: Native tool calls of an OpenAI (``{"function": {"name", "arguments"}}``) or LangChain
            (``{"name", "args"}``) message. When present they are the calls and ``<tool_call>`` blocks in
            the content are not parsed (servers that extract calls usually leave no copy behind).
        positional: Parameter names in signature order by tool name; with it, Python calls may give
            arguments by position (``sort('a.txt')``). Without it positional arguments are an error.

    Returns:
        The parse; ``error`` is set when calls were present but could not be read.
    """
    try:
        return _parse_response(content or "", reasoning, list(tool_calls or []), positional)
    except Exception as exc:  # a last resort: parsing model output must never crash a run
        return ParseResult(error=f"could not parse the response: {type(exc).__name__}: {exc}")


def _parse_response(
    content: str,
    reasoning: str | None,
    native: list[Mapping[str, object]],
    positional: Mapping[str, Sequence[str]] | None = None,
) -> ParseResult:
    cot_parts = [reasoning.strip()] if reasoning and reasoning.strip() else []
    thoughts, rest = _split_think(content)
    cot_parts.extend(t for t in thoughts if t)
    cot = "\n\n".join(cot_parts)
    blocks, text, unclosed = _split_calls(rest)

    if native:
        try:
            calls = [_native_call(tc) for tc in native]
        except CallSyntaxError as exc:
            return ParseResult(cot=cot, text=text, error=str(exc), format="openai")
        return ParseResult(cot=cot, calls=calls, text=text, format="openai")

    if not blocks and not unclosed:
        bare = _bare_calls(text, positional)
        if bare is not None:
            calls, fmt = bare
            return ParseResult(cot=cot, calls=calls, text="", format=fmt)
        return ParseResult(cot=cot, text=text, format="none")

    all_calls: list[ToolCall] = []
    first_format: CallFormat = "none"
    for i, block in enumerate(blocks):
        try:
            calls, fmt = parse_calls(block, positional=positional)
        except CallSyntaxError as exc:
            where = "the <tool_call> block" if len(blocks) == 1 else f"<tool_call> block {i + 1}"
            truncated = unclosed and i == len(blocks) - 1
            suffix = " (the block is not closed: the output may be truncated)" if truncated else ""
            error = f"{where}: {exc}{suffix}"
            return ParseResult(cot=cot, text=text, error=error, format=_format_guess(block))
        if first_format == "none":
            first_format = fmt
        all_calls.extend(calls)
    return ParseResult(cot=cot, calls=all_calls, text=text, format=first_format)


def _format_guess(block: str) -> CallFormat:
    """The format a call block looks like it is meant to be in (for error records)."""
    return "json" if _looks_json(_strip_fence(block.strip())) else "python"


def _looks_json(body: str) -> bool:
    return body.startswith("{") or (body.startswith("[") and body[1:].lstrip().startswith("{"))


def _split_think(content: str) -> tuple[list[str], str]:
    """Take out ``<think>`` blocks; returns their texts and the content without them.

    A closing tag with no opening one (templates that put ``<think>`` in the prompt) makes everything
    before it reasoning; an opening tag with no closing one (a truncated output) makes everything after
    it reasoning.
    """
    thoughts: list[str] = []
    rest: list[str] = []
    pos = 0
    first_open = content.find(THINK_OPEN)
    first_close = content.find(THINK_CLOSE)
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        thoughts.append(content[:first_close].strip())
        pos = first_close + len(THINK_CLOSE)
    while True:
        start = content.find(THINK_OPEN, pos)
        if start == -1:
            rest.append(content[pos:])
            break
        rest.append(content[pos:start])
        end = content.find(THINK_CLOSE, start + len(THINK_OPEN))
        if end == -1:
            thoughts.append(content[start + len(THINK_OPEN) :].strip())
            break
        thoughts.append(content[start + len(THINK_OPEN) : end].strip())
        pos = end + len(THINK_CLOSE)
    outside = "".join(rest).replace(THINK_CLOSE, "")
    return thoughts, outside


def _split_calls(content: str) -> tuple[list[str], str, bool]:
    """Take out ``<tool_call>`` blocks; returns their bodies, the remaining text, and whether the last
    block was left open."""
    blocks: list[str] = []
    text: list[str] = []
    pos = 0
    unclosed = False
    while True:
        start = content.find(CALL_OPEN, pos)
        if start == -1:
            text.append(content[pos:])
            break
        text.append(content[pos:start])
        end = content.find(CALL_CLOSE, start + len(CALL_OPEN))
        if end == -1:
            blocks.append(content[start + len(CALL_OPEN) :])
            unclosed = True
            break
        blocks.append(content[start + len(CALL_OPEN) : end])
        pos = end + len(CALL_CLOSE)
    free = "".join(text).replace(CALL_CLOSE, "")
    return blocks, free.strip(), unclosed


def _bare_calls(
    text: str, positional: Mapping[str, Sequence[str]] | None = None
) -> tuple[list[ToolCall], CallFormat] | None:
    """A response that is only a call list, without tags (as BFCL-style models answer), or None."""
    body = _strip_fence(text.strip())
    if not (body.startswith("[") and body.endswith("]")) or len(body) < 3:
        return None
    try:
        calls, fmt = parse_calls(body, positional=positional)
    except CallSyntaxError:
        return None
    return (calls, fmt) if calls else None


def parse_calls(
    block: str, *, positional: Mapping[str, Sequence[str]] | None = None
) -> tuple[list[ToolCall], CallFormat]:
    """Read the body of one ``<tool_call>`` block (Python calls or JSON objects).

    ``positional`` gives each tool's parameter names in signature order; Python calls to those tools may
    then pass arguments by position, which are read as the named parameters (still literals only).

    Raises:
        CallSyntaxError: with a message that says what is wrong.
    """
    body = _strip_fence(block.strip())
    if not body:
        raise CallSyntaxError("the block is empty; write a list of calls such as [tool_name(arg=value)]")
    if len(body) > _MAX_BLOCK_CHARS:
        raise CallSyntaxError(f"the block is longer than {_MAX_BLOCK_CHARS} characters")
    if _looks_json(body):
        return _json_calls(body), "json"
    return _python_calls(body, positional or {}), "python"


def _strip_fence(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


# ----------------------------------------------------------------------------------- python calls


def _python_calls(body: str, positional: Mapping[str, Sequence[str]]) -> list[ToolCall]:
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        raise CallSyntaxError(
            f"not a valid call list: {exc.msg} (line {exc.lineno}, column {exc.offset})"
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise CallSyntaxError(f"not a valid call list: {type(exc).__name__}") from None
    node = tree.body
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    calls: list[ToolCall] = []
    for i, item in enumerate(items):
        if isinstance(item, ast.Dict):
            raise CallSyntaxError("mixes JSON objects into a Python call list")
        if not isinstance(item, ast.Call):
            raise CallSyntaxError(f"item {i + 1} is not a function call (write tool_name(arg=value))")
        calls.append(_python_call(item, positional))
    return calls


def _python_call(node: ast.Call, positional: Mapping[str, Sequence[str]]) -> ToolCall:
    name = _dotted_name(node.func)
    if name is None:
        raise CallSyntaxError("a call must name a tool directly, as tool_name(arg=value)")
    arguments: dict[str, JsonValue] = {}
    if node.args:
        order = positional.get(name)
        if order is None:
            raise CallSyntaxError(f"{name}: arguments must be given by keyword (name=value), not by position")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise CallSyntaxError(f"{name}: * is not allowed in a call")
        if len(node.args) > len(order):
            raise CallSyntaxError(f"{name}: takes at most {len(order)} positional argument(s)")
        for param, arg in zip(order, node.args, strict=False):
            arguments[param] = _literal(arg, f"{name}.{param}")
    for kw in node.keywords:
        if kw.arg is None:
            # ``**{"from": "x"}`` carries keyword names that are not Python identifiers (see render_call).
            spread = _literal(kw.value, name)
            if not isinstance(spread, dict):
                raise CallSyntaxError(f"{name}: ** must be followed by a dict of arguments")
            for key, value in spread.items():
                if key in arguments:
                    raise CallSyntaxError(f"{name}: argument {key!r} is given twice")
                arguments[key] = value
            continue
        if kw.arg in arguments:
            raise CallSyntaxError(f"{name}: argument {kw.arg!r} is given twice")
        arguments[kw.arg] = _literal(kw.value, f"{name}.{kw.arg}")
    return _tool_call(name, arguments)


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _literal(node: ast.expr, where: str, depth: int = 0) -> JsonValue:
    """A JSON value from a literal expression; anything else (names, calls, operators) is an error."""
    if depth > 64:
        raise CallSyntaxError(f"{where}: the value is nested too deeply")
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise CallSyntaxError(f"{where}: numbers must be finite")
            return value
        raise CallSyntaxError(f"{where}: {type(value).__name__} values are not allowed")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _literal(node.operand, where, depth + 1)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
        raise CallSyntaxError(f"{where}: a sign can only precede a number")
    if isinstance(node, ast.Name):
        if node.id in _JSON_NAMES:
            return _JSON_NAMES[node.id]
        raise CallSyntaxError(f"{where}: {node.id} is a name, not a value (quote strings)")
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, where, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, JsonValue] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise CallSyntaxError(f"{where}: ** is not allowed inside a value")
            key = _literal(key_node, where, depth + 1)
            if not isinstance(key, str):
                raise CallSyntaxError(f"{where}: dict keys must be strings")
            out[key] = _literal(value_node, where, depth + 1)
        return out
    if isinstance(node, ast.JoinedStr):
        raise CallSyntaxError(f"{where}: f-strings are not allowed; write the value itself")
    raise CallSyntaxError(f"{where}: only literal values are allowed, not {type(node).__name__} expressions")


# ------------------------------------------------------------------------------------- json calls


def _json_calls(body: str) -> list[ToolCall]:
    try:
        values = _json_values(body)
    except CallSyntaxError as json_error:
        # Python literals in JSON shape ({'name': 'f', 'arguments': {'a': True}}) are read with ast.
        try:
            values = [_literal(ast.parse(body, mode="eval").body, "the call list")]
        except (CallSyntaxError, SyntaxError, RecursionError, MemoryError, ValueError):
            raise json_error from None
    calls: list[ToolCall] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                raise CallSyntaxError('each call must be an object {"name": ..., "arguments": {...}}')
            calls.append(_json_call(item))
    return calls


def _json_values(body: str) -> list[JsonValue]:
    """One JSON value, or several written one after another (one call object per line)."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    values: list[JsonValue] = []
    pos = 0
    try:
        while pos < len(body):
            value, end = decoder.raw_decode(body, pos)
            values.append(value)
            pos = end
            while pos < len(body) and body[pos] in " \t\r\n,":
                pos += 1
    except json.JSONDecodeError as exc:
        raise CallSyntaxError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (RecursionError, ValueError) as exc:
        raise CallSyntaxError(f"not valid JSON: {exc}") from None
    return values


def _reject_constant(name: str) -> JsonValue:
    raise ValueError(f"{name} is not a JSON number")


def _json_call(item: Mapping[str, object]) -> ToolCall:
    if "function" in item and isinstance(item["function"], dict):
        item = item["function"]
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise CallSyntaxError('a call object needs a "name" string')
    raw = item.get("arguments", item.get("parameters", item.get("args", {})))
    return _tool_call(name, _arguments(name, raw))


def _arguments(name: str, raw: object) -> dict[str, JsonValue]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            raw = json.loads(raw, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError, RecursionError) as exc:
            raise CallSyntaxError(f"{name}: the arguments are not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CallSyntaxError(f"{name}: the arguments must be an object of name: value")
    return raw


def _native_call(tc: object) -> ToolCall:
    if not isinstance(tc, Mapping):
        raise CallSyntaxError("a tool call is not an object")
    function = tc.get("function")
    if isinstance(function, Mapping):
        name, raw = function.get("name"), function.get("arguments")
    else:
        name, raw = tc.get("name"), tc.get("args", tc.get("arguments"))
    if not isinstance(name, str) or not name:
        raise CallSyntaxError("a tool call has no function name")
    return _tool_call(name, _arguments(name, raw))


def _tool_call(name: str, arguments: Mapping[str, object]) -> ToolCall:
    name = name.strip()
    if not name:
        raise CallSyntaxError("a call has an empty tool name")
    try:
        call = ToolCall.model_validate({"name": name, "arguments": dict(arguments)})
    except ValidationError:
        raise CallSyntaxError(f"{name}: the arguments are not JSON values") from None
    try:  # JSON's 1e999 reads as inf, which no tool and no export can take
        json.dumps(call.arguments, allow_nan=False)
    except ValueError:
        raise CallSyntaxError(f"{name}: numbers must be finite") from None
    return call


# ------------------------------------------------------------------------------------- rendering


def render_call(call: ToolCall) -> str:
    """One call in Python syntax; argument names that are not identifiers go into ``**{...}``."""
    plain = [(k, v) for k, v in call.arguments.items() if _is_keyword_name(k)]
    odd = {k: v for k, v in call.arguments.items() if not _is_keyword_name(k)}
    parts = [f"{k}={_py_value(v)}" for k, v in plain]
    if odd:
        parts.append("**" + _py_value(odd))
    return f"{call.name}({', '.join(parts)})"


def split_final_reasoning(text: str) -> tuple[str, str]:
    """Take a refined answer's ``<final_reasoning>`` block out: its text and the answer without it.

    A refinement answers feedback the training example never shows; the final block is the reasoning
    toward the same calls as a first answer would give it, and the step keeps that one.
    """
    match = _FINAL.search(text)
    if match is None:
        return "", text
    return match.group(1).strip(), (text[: match.start()] + text[match.end() :]).strip()


def render_calls(calls: Iterable[ToolCall]) -> str:
    """The Python call list ``[f(a=1), g(b="x")]``; :func:`parse_calls` reads it back unchanged.

    Tool names that cannot be written as Python calls (``my-tool``) make the whole list JSON instead.
    """
    calls = list(calls)
    if all(_IDENTIFIER.match(c.name) and not keyword.iskeyword(c.name) for c in calls):
        return "[" + ", ".join(render_call(c) for c in calls) + "]"
    text = json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls], ensure_ascii=False)
    # In JSON text "<" only occurs inside strings, where \u003c means the same.
    return text.replace("<", "\\u003c") if _TAG.search(text) else text


def render_hermes_calls(calls: Iterable[ToolCall]) -> str:
    """One ``<tool_call>`` block per call, each ``{"name": ..., "arguments": {...}}`` (Qwen's format)."""
    blocks = []
    for call in calls:
        text = json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False)
        text = text.replace("<", "\\u003c") if _TAG.search(text) else text
        blocks.append(f"{CALL_OPEN}\n{text}\n{CALL_CLOSE}")
    return "\n".join(blocks)


def render_response(cot: str, calls: Iterable[ToolCall], text: str = "", style: CallStyle = "python") -> str:
    """A response in the reasoning template: a think block, then the calls or the free text.

    ``style`` ``python`` writes the paper's single block ``[f(a=1), ...]``; ``hermes`` writes one JSON
    block per call, separated from the think block by a blank line as Qwen's chat templates do. Tags
    inside argument values are escaped; ``cot`` and ``text`` are written as they are (a CoT that itself
    contains ``</think>`` cannot be represented in this format).
    """
    calls = list(calls)
    think = f"{THINK_OPEN}\n{cot.strip()}\n{THINK_CLOSE}"
    if style == "hermes":
        body = render_hermes_calls(calls) if calls else text.strip()
        if calls and text.strip():
            body = f"{text.strip()}\n{body}"
        return f"{think}\n\n{body}"
    parts = [think]
    if calls:
        parts.append(f"{CALL_OPEN}\n{render_calls(calls)}\n{CALL_CLOSE}")
    if text.strip():
        parts.append(text.strip())
    return "\n".join(parts)


def _is_keyword_name(name: str) -> bool:
    # ASCII only: Python NFKC-normalises identifiers, so "𝒩=1" would read back as "N".
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name) and name not in _JSON_NAMES


def _py_value(value: JsonValue) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        # A tag inside a value would end the block early; \u003c reads back as "<" in Python and JSON.
        return text.replace("<", "\\u003c") if _TAG.search(value) else text
    if isinstance(value, list):
        return "[" + ", ".join(_py_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_py_value(k)}: {_py_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value) if isinstance(value, float) else str(value)


# -------------------------------------------------------------------------------------- template


def opened_think(content: str) -> str:
    """The response with its ``<think>`` restored when the chat template's generation prompt opened it.

    Qwen3-style thinking templates end the prompt with ``<think>``, so the decoded answer starts inside
    the think block: one ``</think>`` and no ``<think>``.
    """
    body = content.strip()
    if THINK_OPEN not in body and body.count(THINK_CLOSE) == 1:
        return f"{THINK_OPEN}\n{body}"
    return body


def follows_template(
    content: str, style: CallStyle = "python", *, calls_expected: bool | None = None
) -> bool:
    """The reasoning template of the reward (eq. 6), in a dataset's call style.

    One think block at the start (its opening tag may have been written by the generation prompt), then
    either the calls or non-empty free text without any tag. Calls are exactly one ``<tool_call>`` block
    (``python``) or one or more blocks and nothing between them (``hermes``). The think block may be
    left out of a free-text answer (a turn's summary, which the SFT data shows without reasoning) but
    not out of a call; ``calls_expected`` False also allows an empty think block there (what chat
    templates put before an answer that has no reasoning).
    """
    body = opened_think(content)
    if body.startswith(THINK_OPEN):
        if body.count(THINK_OPEN) != 1 or body.count(THINK_CLOSE) != 1:
            return False
        end = body.find(THINK_CLOSE)
        thought = body[len(THINK_OPEN) : end].strip()
        rest = body[end + len(THINK_CLOSE) :].strip()
    elif calls_expected is False:
        thought, rest = "", body
    else:
        return False
    if rest.count(CALL_OPEN) == 0 and rest.count(CALL_CLOSE) == 0:
        free_ok = bool(thought) or calls_expected is False
        return free_ok and bool(rest) and not _TAG.search(rest)
    if not thought:
        return False
    if style == "hermes":
        return _hermes_blocks(rest) is not None
    if rest.count(CALL_OPEN) != 1 or rest.count(CALL_CLOSE) != 1:
        return False
    if not (rest.startswith(CALL_OPEN) and rest.endswith(CALL_CLOSE)):
        return False
    return bool(rest[len(CALL_OPEN) : -len(CALL_CLOSE)].strip())


def _hermes_blocks(rest: str) -> list[str] | None:
    """The bodies of ``<tool_call>`` blocks that make up all of ``rest``, each one JSON call object."""
    bodies: list[str] = []
    pos = 0
    while pos < len(rest):
        if not rest.startswith(CALL_OPEN, pos):
            return None
        end = rest.find(CALL_CLOSE, pos + len(CALL_OPEN))
        if end == -1:
            return None
        body = rest[pos + len(CALL_OPEN) : end].strip()
        if not body.startswith("{") or _TAG.search(body):
            return None
        bodies.append(body)
        pos = end + len(CALL_CLOSE)
        while pos < len(rest) and rest[pos] in " \t\r\n":
            pos += 1
    return bodies or None
