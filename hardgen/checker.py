"""The function-call checker: is an attempt's step the ground-truth step?

Two levels, as BFCL and tau-bench check calls:

1. **AST match.** The attempt and the expected step (one parallel group: order inside it is free) call the
   same tools as a multiset, and each pair of calls agrees on its arguments:

   * every required parameter is present, no parameter outside the spec is given;
   * an omitted optional parameter equals its spec ``default`` (on either side);
   * values have the spec's JSON type; an ``int`` is accepted for a ``number`` parameter (not the
     reverse, and ``bool`` is never a number); a value equal to the reference's is not type-checked
     (a reference that breaks its own spec, as some of BFCL's do, is still matched by the same value);
   * numbers compare numerically (relative tolerance 1e-9);
   * strings compare after Unicode NFC normalisation and stripping surrounding whitespace, and are
     otherwise exact: **case matters**. BFCL lowercases strings, but our calls are executed, and a tool
     may treat ``"bk12"`` and ``"BK12"`` differently. Differences a tool does not care about (``"rivermist"``
     for ``"Rivermist"`` in a case-insensitive lookup) are accepted by the second level instead;
   * lists compare in order, unless the parameter's schema has ``"uniqueItems": true`` or
     ``"x-unordered": true``; objects compare key by key, recursively, with nested defaults.

2. **State match** (only when an environment is given and the AST match failed): the attempt and the
   expected calls are executed on two forks of the environment (which must be in the state before the
   step); the attempt is accepted when both give the same observations (ok flag and output, as a
   multiset) and the same final ``state_hash()``.

A wrong attempt gets a namespaced ``error_type`` (``call:*``), an ``error_location`` (``tool`` or
``tool.param[0].field``) and a ``detail`` sentence. The detail never contains a ground-truth value: the
Verifier may show it to the Reasoner.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from hardgen.agents.offline.book import flag_words
from hardgen.calls import ParseResult
from hardgen.dataflow import text_contains, values_match
from hardgen.environment.base import Environment
from hardgen.schema import CheckVerdict, JSONDict, ToolCall, ToolSpec, canonical_json, json_type_of

logger = logging.getLogger(__name__)

NO_CALL = "call:no_call"
PARSE_ERROR = "call:parse_error"
WRONG_NAME = "call:wrong_name"
MISSING_CALL = "call:missing_call"
EXTRA_CALL = "call:extra_call"
MISSING_PARAM = "call:missing_param"
UNEXPECTED_PARAM = "call:unexpected_param"
WRONG_TYPE = "call:wrong_type"
WRONG_VALUE = "call:wrong_value"
WRONG_ORDER = "call:wrong_order"
SKIPPED_PREREQUISITE = "call:skipped_prerequisite"

ERROR_TYPES = (
    NO_CALL,
    PARSE_ERROR,
    WRONG_NAME,
    MISSING_CALL,
    EXTRA_CALL,
    MISSING_PARAM,
    UNEXPECTED_PARAM,
    WRONG_TYPE,
    WRONG_VALUE,
    WRONG_ORDER,
    SKIPPED_PREREQUISITE,
)

_JSON_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


@dataclass(frozen=True)
class _Mismatch:
    error_type: str
    location: str
    detail: str


# --------------------------------------------------------------------------------------------- api


def check_calls(
    predicted: Sequence[ToolCall],
    expected: Sequence[ToolCall],
    specs: Mapping[str, ToolSpec],
    *,
    env: Environment | None = None,
    later_steps: Sequence[Sequence[ToolCall]] | None = None,
    stated: str = "",
) -> CheckVerdict:
    """Check an attempt's calls against one expected step (a parallel group).

    Args:
        predicted: The calls the attempt made for this step.
        expected: The ground-truth calls of this step; their order does not matter.
        specs: Tool specs by name (parameter types, required parameters, defaults).
        env: The environment in the state before this step; enables the state-equivalence fallback.
            It is not changed (the calls run on forks).
        later_steps: The ground-truth steps after this one, to tell ``call:wrong_order`` (a later step's
            call made too early, together with this step) and ``call:skipped_prerequisite`` (a later
            step's call made instead of this step) from plain wrong calls.
        stated: What the user said (the query). A state match never accepts an argument that differs
            from a value the user stated (``limit 8`` for "limit 7" gives the same leaderboard when it
            has fewer entries, but the example would teach the model to ignore the user).

    Returns:
        The verdict: ``correct`` with ``matched_by`` ``"ast"`` or ``"state"``, or the first problem found.
    """
    mismatch = _ast_mismatch(predicted, expected, specs, later_steps or [])
    if mismatch is None:
        return CheckVerdict(correct=True, matched_by="ast", detail="The calls match the reference step.")
    if (
        env is not None
        and _worth_executing(predicted, expected, mismatch)
        and not _contradicts(predicted, expected, stated)
        and _same_effect(predicted, expected, env)
    ):
        return CheckVerdict(
            correct=True,
            matched_by="state",
            detail="The arguments differ from the reference, but executing them gives the same results "
            "and state.",
        )
    return CheckVerdict(
        correct=False,
        matched_by="none",
        error_type=mismatch.error_type,
        error_location=mismatch.location,
        detail=mismatch.detail,
    )


def parse_error_verdict(result: ParseResult) -> CheckVerdict:
    """The verdict for a response whose calls could not be read (``result.error`` is set)."""
    reason = result.error or "the response could not be parsed"
    return CheckVerdict(
        correct=False,
        error_type=PARSE_ERROR,
        error_location="<tool_call>",
        detail=f"The function calls could not be read: {reason}. Write [tool_name(param=value), ...].",
    )


def check_response(
    result: ParseResult,
    expected: Sequence[ToolCall],
    specs: Mapping[str, ToolSpec],
    *,
    env: Environment | None = None,
    later_steps: Sequence[Sequence[ToolCall]] | None = None,
    stated: str = "",
) -> CheckVerdict:
    """:func:`check_calls` on a parsed response, or :func:`parse_error_verdict` if it did not parse."""
    if result.error is not None:
        return parse_error_verdict(result)
    return check_calls(result.calls, expected, specs, env=env, later_steps=later_steps)


# ---------------------------------------------------------------------------------- call level


def _ast_mismatch(
    predicted: Sequence[ToolCall],
    expected: Sequence[ToolCall],
    specs: Mapping[str, ToolSpec],
    later_steps: Sequence[Sequence[ToolCall]],
) -> _Mismatch | None:
    if not predicted and expected:
        return _Mismatch(
            NO_CALL, "<tool_call>", "The attempt makes no function call, but this step needs one."
        )
    for call in predicted:
        if call.name not in specs and call.name not in {c.name for c in expected}:
            return _Mismatch(
                WRONG_NAME, call.name, f"The attempt calls {call.name}, which is not an available tool."
            )
    names_problem = _names_mismatch(predicted, expected, later_steps)
    if names_problem is not None:
        return names_problem
    by_name: dict[str, tuple[list[ToolCall], list[ToolCall]]] = {}
    for call in predicted:
        by_name.setdefault(call.name, ([], []))[0].append(call)
    for call in expected:
        by_name[call.name][1].append(call)
    for name, (preds, exps) in by_name.items():
        problem = _group_mismatch(preds, exps, specs.get(name) or _open_spec(name))
        if problem is not None:
            return problem
    return None


def _names_mismatch(
    predicted: Sequence[ToolCall], expected: Sequence[ToolCall], later_steps: Sequence[Sequence[ToolCall]]
) -> _Mismatch | None:
    have = Counter(c.name for c in predicted)
    want = Counter(c.name for c in expected)
    extra = list((have - want).elements())
    missing = list((want - have).elements())
    if not extra and not missing:
        return None
    later = {c.name for step in later_steps for c in step}
    ahead = [name for name in extra if name in later]
    if ahead and not missing:
        return _Mismatch(
            WRONG_ORDER,
            ahead[0],
            f"The attempt already calls {ahead[0]} in this step, but that call needs a result that is only "
            "available after this step's calls have run; make it in a later step.",
        )
    if ahead:
        return _Mismatch(
            SKIPPED_PREREQUISITE,
            ahead[0],
            f"The attempt calls {ahead[0]} before the information it needs is available: another tool call "
            "has to come first to produce it.",
        )
    if extra and missing:
        return _Mismatch(
            WRONG_NAME, extra[0], f"The attempt calls {extra[0]}, which is not the tool this step needs."
        )
    if missing:
        count = len(missing)
        return _Mismatch(
            MISSING_CALL,
            missing[0],
            f"The attempt makes {len(predicted)} call(s); this step needs {count} more.",
        )
    return _Mismatch(
        EXTRA_CALL,
        extra[0],
        f"The attempt makes {len(extra)} call(s) more than this step needs (one more of {extra[0]}).",
    )


def _group_mismatch(preds: list[ToolCall], exps: list[ToolCall], spec: ToolSpec) -> _Mismatch | None:
    """Match same-named calls one to one (order-free); the first problem of the best pairing, or None."""
    table = [[_call_mismatch(p, e, spec) for e in exps] for p in preds]
    pairing = _perfect_pairing([[cell is None for cell in row] for row in table])
    if pairing is not None:
        return None
    # No perfect pairing: report, for the first attempt call that cannot be paired, its closest reference.
    used: set[int] = set()
    for i, row in enumerate(table):
        free = [j for j in range(len(exps)) if j not in used]
        exact = [j for j in free if row[j] is None]
        if exact:
            used.add(exact[0])
            continue
        best = max(free, key=lambda j: _similarity(preds[i], exps[j]))
        used.add(best)
        problem = row[best]
        if problem is not None:
            return problem
    return table[0][0]  # unreachable in practice: some row had no exact partner


def _open_spec(name: str) -> ToolSpec:
    """For a reference tool without a spec: only the reference's own arguments are known."""
    return ToolSpec(name=name, description="", parameters={"type": "object", "properties": {}})


def _perfect_pairing(ok: list[list[bool]]) -> list[int] | None:
    """A perfect matching in a bipartite graph given as a boolean matrix (Kuhn's augmenting paths)."""
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

    for i in range(n):
        if not augment(i, set()):
            return None
    return [o if o is not None else -1 for o in owner]


def _similarity(a: ToolCall, b: ToolCall) -> int:
    return sum(
        1
        for k, v in a.arguments.items()
        if k in b.arguments and canonical_json(v) == canonical_json(b.arguments[k])
    )


def _call_mismatch(pred: ToolCall, exp: ToolCall, spec: ToolSpec) -> _Mismatch | None:
    if canonical_json(pred.arguments) == canonical_json(exp.arguments):
        return None  # identical to the reference, whatever the spec says
    props = spec.properties
    name = pred.name
    for param in spec.required:
        if param not in pred.arguments:
            return _Mismatch(
                MISSING_PARAM, f"{name}.{param}", f"{name} is missing its required parameter {param}."
            )
    for param, value in exp.arguments.items():
        if param not in pred.arguments and not _equals_default(value, _schema(props, param)):
            return _Mismatch(
                MISSING_PARAM,
                f"{name}.{param}",
                f"{name} leaves out the parameter {param}, which this step needs set (not to its default).",
            )
    open_schema = spec.parameters.get("additionalProperties", True) is not False
    for param, value in pred.arguments.items():
        if param not in props and not (open_schema and param in exp.arguments):
            return _Mismatch(
                UNEXPECTED_PARAM, f"{name}.{param}", f"{name} has no parameter named {param}; see its schema."
            )
        if param not in exp.arguments and not _equals_default(value, _schema(props, param)):
            return _Mismatch(
                UNEXPECTED_PARAM,
                f"{name}.{param}",
                f"{name} sets the optional parameter {param}, which this step leaves at its default.",
            )
    for param, value in pred.arguments.items():
        if param not in exp.arguments or canonical_json(value) == canonical_json(exp.arguments[param]):
            continue  # an argument equal to the reference's is right even where the reference breaks the spec
        schema = _schema(props, param)
        type_problem = _type_problem(value, schema)
        if type_problem is not None:
            return _Mismatch(WRONG_TYPE, f"{name}.{param}", f"{name}.{param} {type_problem}.")
        where = _value_difference(value, exp.arguments[param], schema, "")
        if where is not None:
            enum = schema.get("enum")
            if not where and isinstance(enum, list) and value not in enum:
                detail = f"{name}.{param} is not one of the values its schema allows."
            else:
                detail = f"{name}.{param}{where} has a wrong value."
            return _Mismatch(WRONG_VALUE, f"{name}.{param}{where}", detail)
    return None


def _schema(props: JSONDict, param: str) -> JSONDict:
    schema = props.get(param)
    return schema if isinstance(schema, dict) else {}


def _equals_default(value: JsonValue, schema: JSONDict) -> bool:
    return "default" in schema and _value_difference(value, schema["default"], schema, "") is None


# ---------------------------------------------------------------------------------- value level


def _types_of(schema: JSONDict) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    options = schema.get("anyOf", schema.get("oneOf"))
    if isinstance(options, list):
        found: list[str] = []
        for option in options:
            if isinstance(option, dict):
                sub = _types_of(option)
                if not sub:
                    return []  # an option without a type accepts anything
                found.extend(sub)
        return found
    return []


def _has_type(value: JsonValue, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return True


_TYPE_PROSE = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "an object",
}


def _json_type(value: JsonValue) -> str:
    return _TYPE_PROSE[json_type_of(value)]


def _type_problem(value: JsonValue, schema: JSONDict) -> str | None:
    kinds = _types_of(schema)
    if not kinds or any(_has_type(value, k) for k in kinds):
        return None
    wanted = " or ".join(_JSON_TYPE_NAMES.get(k, k) for k in kinds)
    return f"should be {wanted}, but the attempt gives {_json_type(value)}"


def _value_difference(pred: JsonValue, exp: JsonValue, schema: JSONDict, path: str) -> str | None:
    """Where ``pred`` differs from ``exp`` (a path suffix such as ``[1].name``; ``""`` for the value
    itself), or None when they are equal under the checker's rules."""
    if isinstance(exp, bool) or isinstance(pred, bool):
        return None if pred is exp else path
    if isinstance(exp, int) and isinstance(pred, int):
        return None if pred == exp else path  # exact, also for integers too large for a float
    if isinstance(exp, int | float) and isinstance(pred, int | float):
        return None if _close(pred, exp) else path
    if isinstance(exp, str) and isinstance(pred, str):
        return None if _norm_text(pred) == _norm_text(exp) else path
    if isinstance(exp, list) and isinstance(pred, list):
        items = schema.get("items")
        item_schema = items if isinstance(items, dict) else {}
        if len(pred) != len(exp):
            return path
        if schema.get("uniqueItems") is True or schema.get("x-unordered") is True:
            pairs = [[_value_difference(p, e, item_schema, "") is None for e in exp] for p in pred]
            return None if _perfect_pairing(pairs) is not None else path
        for i, (p, e) in enumerate(zip(pred, exp, strict=True)):
            where = _value_difference(p, e, item_schema, f"{path}[{i}]")
            if where is not None:
                return where
        return None
    if isinstance(exp, dict) and isinstance(pred, dict):
        props = schema.get("properties")
        nested: JSONDict = props if isinstance(props, dict) else {}
        extra = schema.get("additionalProperties")
        for key in list(exp) + [k for k in pred if k not in exp]:
            sub = _schema(nested, key) or (extra if isinstance(extra, dict) else {})
            if key not in pred or key not in exp:
                if not _equals_default(exp[key] if key in exp else pred[key], sub):
                    return f"{path}.{key}"
                continue
            where = _value_difference(pred[key], exp[key], sub, f"{path}.{key}")
            if where is not None:
                return where
        return None
    return None if pred is None and exp is None else path


def _close(a: float, b: float) -> bool:
    try:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    except OverflowError:  # an integer beyond float range against a float
        return False


def _norm_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


# ---------------------------------------------------------------------------------- state level


def _worth_executing(
    predicted: Sequence[ToolCall], expected: Sequence[ToolCall], mismatch: _Mismatch
) -> bool:
    """Only attempts that could have the same effect: same number of calls, all of known tools."""
    if mismatch.error_type in (NO_CALL, PARSE_ERROR, WRONG_ORDER, SKIPPED_PREREQUISITE):
        return False
    return len(predicted) == len(expected) and bool(predicted)


def _same_effect(predicted: Sequence[ToolCall], expected: Sequence[ToolCall], env: Environment) -> bool:
    """Execute both on forks of ``env``: equal observations (as a multiset) and equal final state?"""
    forks: list[Environment] = []
    try:
        forks.append(env.fork())
        forks.append(env.fork())
        mine, theirs = forks
        got = sorted(_observed(mine, predicted))
        want = sorted(_observed(theirs, expected))
        return got == want and mine.state_hash() == theirs.state_hash()
    except Exception:  # a backend that cannot fork or run must not crash the check
        logger.warning(
            "state-equivalence check failed to run; treating the attempt as different", exc_info=True
        )
        return False
    finally:
        for fork in forks:
            fork.close()


def _contradicts(predicted: Sequence[ToolCall], expected: Sequence[ToolCall], stated: str) -> bool:
    """Whether an attempt passes, where the reference passes a value the user stated, another value the
    user did not state (same tool, same parameter)."""
    if not stated:
        return False
    for exp in expected:
        for pred in (p for p in predicted if p.name == exp.name):
            for param, want in exp.arguments.items():
                got = pred.arguments.get(param)
                if got is None or values_match(got, want) or got == want:
                    continue
                if text_contains(stated, want) and not text_contains(stated, got):
                    return True
                if isinstance(want, bool) and isinstance(got, bool) and _flag_stated(stated, param, want):
                    return True
    return False


def _flag_stated(stated: str, param: str, value: bool) -> bool:
    """Whether the request says in words that a boolean parameter is ``value`` ("replacing any number
    already saved there" for ``overwrite: true``) and not the opposite, by the phrase book's flag words."""
    said, opposite = flag_words(param, value).lower(), flag_words(param, not value).lower()
    text = " ".join(stated.lower().split())
    return bool(said) and said in text and not (opposite and opposite in text)


def _observed(env: Environment, calls: Sequence[ToolCall]) -> list[str]:
    out = []
    for call in calls:
        obs = env.execute(call)
        out.append(canonical_json({"ok": obs.ok, "output": obs.content()}))
    return out
