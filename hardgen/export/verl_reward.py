"""The reward of hardgen's Verl export (eq. 6 of the HardGen paper), with the Python standard library only.

``hardgen export --format verl`` copies this file beside the parquet as ``<name>_reward.py``, so that a
training cluster without hardgen installed can score the rows::

    custom_reward_function.path=<folder>/<name>_reward.py
    custom_reward_function.name=compute_score

It gives the same scores as ``hardgen.reward.compute_score`` (hardgen's tests check that on every row
of an export): 1.0 when the response follows the reasoning template in the row's call style and its
calls match the ground truth, else 0.0.

* Template: one ``<think>`` block first (a response that starts inside it, because the chat template's
  generation prompt opened it, counts), then the calls or non-empty free text. Calls are one
  ``<tool_call>`` block per call holding ``{"name": ..., "arguments": {...}}`` when
  ``extra_info["call_format"]`` is ``hermes`` (the default), or one block holding
  ``[tool(arg=value), ...]`` when it is ``python``. A free-text answer may come without reasoning.
* Match: the same tools as a multiset (order inside a parallel step is free), every required parameter,
  omitted optionals equal to their defaults, an integer accepted for a number, strings equal up to
  surrounding whitespace and Unicode NFC normalisation; tool schemas come from ``extra_info["tools"]``.
* A row whose ground truth is ``[]`` (a turn's closing answer) wants free text and no call block at all.

Model output is parsed, never evaluated.
"""

from __future__ import annotations

import ast
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from typing import Any

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
_TAG = re.compile(r"</?(?:think|tool_call)>")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
_NAMES = {"true": True, "false": False, "null": None}
_MAX_BLOCK_CHARS = 1_000_000

Call = tuple[str, dict[str, Any]]


class _Bad(ValueError):
    """Output that cannot be read as calls."""


def compute_score(
    data_source: str | None,
    solution_str: str,
    ground_truth: str | list[Any],
    extra_info: Mapping[str, Any] | None = None,
) -> float:
    """1.0 for a well-formed, correct response, else 0.0. Never raises."""
    try:
        return 1.0 if _correct(solution_str, ground_truth, extra_info) else 0.0
    except Exception:  # a reward that crashes stops the training run; a broken row scores 0
        return 0.0


def _correct(solution: object, ground_truth: str | list[Any], extra_info: Mapping[str, Any] | None) -> bool:
    if not isinstance(solution, str):
        return False
    expected = _truth(ground_truth)
    style = (
        "python"
        if isinstance(extra_info, Mapping) and extra_info.get("call_format") == "python"
        else "hermes"
    )
    split = _template(solution, style, bool(expected))
    if split is None:
        return False
    blocks, text = split
    if not expected:
        return not blocks and _bare_calls(text) is None
    calls: list[Call] = []
    for block in blocks:
        calls.extend(_block_calls(block))
    if not calls:
        return False
    tools = extra_info.get("tools") if isinstance(extra_info, Mapping) else None
    return _match(calls, expected, _specs(tools, expected))


# ------------------------------------------------------------------------------------------ template


def _template(content: str, style: str, calls_expected: bool) -> tuple[list[str], str] | None:
    """(call block bodies, free text) of a response that follows the template, else None."""
    body = content.strip()
    if THINK_OPEN not in body and body.count(THINK_CLOSE) == 1:
        body = f"{THINK_OPEN}\n{body}"
    if body.startswith(THINK_OPEN):
        if body.count(THINK_OPEN) != 1 or body.count(THINK_CLOSE) != 1:
            return None
        end = body.find(THINK_CLOSE)
        thought = body[len(THINK_OPEN) : end].strip()
        rest = body[end + len(THINK_CLOSE) :].strip()
    elif not calls_expected:
        thought, rest = "", body
    else:
        return None
    if CALL_OPEN not in rest and CALL_CLOSE not in rest:
        ok = (bool(thought) or not calls_expected) and bool(rest) and not _TAG.search(rest)
        return ([], rest) if ok else None
    if not thought:
        return None
    if style == "hermes":
        bodies = _hermes_blocks(rest)
        return (bodies, "") if bodies else None
    if rest.count(CALL_OPEN) != 1 or rest.count(CALL_CLOSE) != 1:
        return None
    if not (rest.startswith(CALL_OPEN) and rest.endswith(CALL_CLOSE)):
        return None
    inner = rest[len(CALL_OPEN) : -len(CALL_CLOSE)]
    return ([inner], "") if inner.strip() else None


def _hermes_blocks(rest: str) -> list[str]:
    bodies: list[str] = []
    pos = 0
    while pos < len(rest):
        if not rest.startswith(CALL_OPEN, pos):
            return []
        end = rest.find(CALL_CLOSE, pos + len(CALL_OPEN))
        if end == -1:
            return []
        body = rest[pos + len(CALL_OPEN) : end].strip()
        if not body.startswith("{") or _TAG.search(body):
            return []
        bodies.append(body)
        pos = end + len(CALL_CLOSE)
        while pos < len(rest) and rest[pos] in " \t\r\n":
            pos += 1
    return bodies


# ------------------------------------------------------------------------------------------- parsing


def _strip_fence(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


def _looks_json(body: str) -> bool:
    return body.startswith("{") or (body.startswith("[") and body[1:].lstrip().startswith("{"))


def _block_calls(block: str) -> list[Call]:
    body = _strip_fence(block.strip())
    if not body or len(body) > _MAX_BLOCK_CHARS:
        raise _Bad("empty or oversized block")
    if _looks_json(body):
        return _json_calls(body)
    return _python_calls(body)


def _bare_calls(text: str) -> list[Call] | None:
    body = _strip_fence(text.strip())
    if not (body.startswith("[") and body.endswith("]")) or len(body) < 3:
        return None
    try:
        calls = _block_calls(body)
    except (SyntaxError, RecursionError, MemoryError, ValueError):  # _Bad is a ValueError
        return None
    return calls or None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_calls(body: str) -> list[Call]:
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    values: list[Any] = []
    try:
        pos = 0
        while pos < len(body):
            value, pos = decoder.raw_decode(body, pos)
            values.append(value)
            while pos < len(body) and body[pos] in " \t\r\n,":
                pos += 1
    except (ValueError, RecursionError):
        try:
            values = [_literal(ast.parse(body, mode="eval").body, 0)]
        except (_Bad, SyntaxError, RecursionError, MemoryError, ValueError):
            raise _Bad("not JSON") from None
    calls: list[Call] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise _Bad("a call is not an object")
            if isinstance(item.get("function"), dict):
                item = item["function"]
            name = item.get("name")
            if not isinstance(name, str) or not name:
                raise _Bad("a call has no name")
            raw = item.get("arguments", item.get("parameters", item.get("args", {})))
            calls.append(_call(name, _arguments(raw)))
    return calls


def _arguments(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        raw = json.loads(raw, parse_constant=_reject_constant)
    if not isinstance(raw, dict):
        raise _Bad("arguments are not an object")
    return raw


def _call(name: str, arguments: dict[str, Any]) -> Call:
    name = name.strip()
    if not name:
        raise _Bad("empty tool name")
    return name, dict(arguments)


def _python_calls(body: str) -> list[Call]:
    node = ast.parse(body, mode="eval").body
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    calls: list[Call] = []
    for item in items:
        if not isinstance(item, ast.Call) or item.args:
            raise _Bad("not a keyword call")
        name = _dotted(item.func)
        if name is None:
            raise _Bad("not a tool name")
        arguments: dict[str, Any] = {}
        for kw in item.keywords:
            if kw.arg is None:
                spread = _literal(kw.value, 0)
                if not isinstance(spread, dict):
                    raise _Bad("** needs a dict")
                pairs = list(spread.items())
            else:
                pairs = [(kw.arg, _literal(kw.value, 0))]
            for key, value in pairs:
                if key in arguments:
                    raise _Bad("an argument is given twice")
                arguments[key] = value
        calls.append(_call(name, arguments))
    return calls


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _literal(node: ast.expr, depth: int) -> Any:
    if depth > 64:
        raise _Bad("nested too deeply")
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, bool | str | int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise _Bad("not a JSON value")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _literal(node.operand, depth + 1)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
        raise _Bad("a sign before a non-number")
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise _Bad("** inside a value")
            key = _literal(key_node, depth + 1)
            if not isinstance(key, str):
                raise _Bad("a dict key is not a string")
            out[key] = _literal(value_node, depth + 1)
        return out
    raise _Bad("not a literal")


# ------------------------------------------------------------------------------------------ matching


def _truth(ground_truth: str | list[Any]) -> list[Call]:
    value = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    if value is None:
        return []
    calls: list[Call] = []
    for item in value if isinstance(value, list) else [value]:
        name = item["name"]
        if not isinstance(name, str):
            raise _Bad("a ground-truth call has no name")
        args = item.get("arguments", {})
        if isinstance(args, str):
            args = json.loads(args) if args.strip() else {}
        if not isinstance(args, dict):
            raise _Bad("ground-truth arguments are not an object")
        calls.append((name, args))
    return calls


def _specs(tools: object, expected: list[Call]) -> dict[str, dict[str, Any]]:
    """Parameter schemas by tool name, from a ``tools`` JSON string or list (plain or OpenAI-wrapped)."""
    if isinstance(tools, str):
        try:
            tools = json.loads(tools) if tools.strip() else []
        except ValueError:
            tools = []
    specs: dict[str, dict[str, Any]] = {}
    for item in tools if isinstance(tools, list) else []:
        if not isinstance(item, dict):
            continue
        fn = item.get("function") if item.get("type") == "function" else item
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            params = fn.get("parameters")
            specs[fn["name"]] = params if isinstance(params, dict) else {"type": "object", "properties": {}}
    for name, args in expected:
        if name not in specs:
            specs[name] = {"type": "object", "properties": {k: {} for k in args}}
    return specs


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _match(predicted: list[Call], expected: list[Call], specs: Mapping[str, dict[str, Any]]) -> bool:
    if Counter(n for n, _ in predicted) != Counter(n for n, _ in expected):
        return False
    for name in {n for n, _ in expected}:
        preds = [a for n, a in predicted if n == name]
        exps = [a for n, a in expected if n == name]
        spec = specs.get(name) or {"type": "object", "properties": {}}
        table = [[_call_ok(p, e, spec) for e in exps] for p in preds]
        if not _perfect_pairing(table):
            return False
    return True


def _perfect_pairing(ok: list[list[bool]]) -> bool:
    n = len(ok)
    owner: list[int | None] = [None] * n

    def augment(i: int, seen: set[int]) -> bool:
        for j in range(n):
            if ok[i][j] and j not in seen:
                seen.add(j)
                current = owner[j]
                if current is None or augment(current, seen):
                    owner[j] = i
                    return True
        return False

    return all(augment(i, set()) for i in range(n))


def _sub(props: Mapping[str, Any], key: str) -> dict[str, Any]:
    schema = props.get(key)
    return schema if isinstance(schema, dict) else {}


def _call_ok(pred: dict[str, Any], exp: dict[str, Any], spec: dict[str, Any]) -> bool:
    if _canonical(pred) == _canonical(exp):
        return True
    raw_props = spec.get("properties", {})
    props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
    required = spec.get("required", [])
    for param in required if isinstance(required, list) else []:
        if str(param) not in pred:
            return False
    for param, value in exp.items():
        if param not in pred and not _is_default(value, _sub(props, param)):
            return False
    open_schema = spec.get("additionalProperties", True) is not False
    for param, value in pred.items():
        if param not in props and not (open_schema and param in exp):
            return False
        if param not in exp and not _is_default(value, _sub(props, param)):
            return False
    for param, value in pred.items():
        if param in exp:
            schema = _sub(props, param)
            if not _type_ok(value, schema) or not _same(value, exp[param], schema):
                return False
    return True


def _is_default(value: Any, schema: dict[str, Any]) -> bool:
    return "default" in schema and _same(value, schema["default"], schema)


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    options = schema.get("anyOf", schema.get("oneOf"))
    found: list[str] = []
    for option in options if isinstance(options, list) else []:
        if isinstance(option, dict):
            sub = _types(option)
            if not sub:
                return []
            found.extend(sub)
    return found


def _has_type(value: Any, kind: str) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    check = checks.get(kind)
    return True if check is None else bool(check(value))


def _type_ok(value: Any, schema: dict[str, Any]) -> bool:
    kinds = _types(schema)
    return not kinds or any(_has_type(value, k) for k in kinds)


def _same(pred: Any, exp: Any, schema: dict[str, Any]) -> bool:
    if isinstance(exp, bool) or isinstance(pred, bool):
        return pred is exp
    if isinstance(exp, int) and isinstance(pred, int):
        return pred == exp
    if isinstance(exp, int | float) and isinstance(pred, int | float):
        try:
            return math.isclose(pred, exp, rel_tol=1e-9, abs_tol=1e-12)
        except OverflowError:
            return False
    if isinstance(exp, str) and isinstance(pred, str):
        return unicodedata.normalize("NFC", pred).strip() == unicodedata.normalize("NFC", exp).strip()
    if isinstance(exp, list) and isinstance(pred, list):
        items = schema.get("items")
        item_schema = items if isinstance(items, dict) else {}
        if len(pred) != len(exp):
            return False
        if schema.get("uniqueItems") is True or schema.get("x-unordered") is True:
            return _perfect_pairing([[_same(p, e, item_schema) for e in exp] for p in pred])
        return all(_same(p, e, item_schema) for p, e in zip(pred, exp, strict=True))
    if isinstance(exp, dict) and isinstance(pred, dict):
        raw = schema.get("properties")
        nested: dict[str, Any] = raw if isinstance(raw, dict) else {}
        extra = schema.get("additionalProperties")
        for key in list(exp) + [k for k in pred if k not in exp]:
            sub = _sub(nested, key) or (extra if isinstance(extra, dict) else {})
            if key not in pred or key not in exp:
                if not _is_default(exp[key] if key in exp else pred[key], sub):
                    return False
            elif not _same(pred[key], exp[key], sub):
                return False
        return True
    return pred is None and exp is None
