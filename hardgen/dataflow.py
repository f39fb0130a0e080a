"""Where the argument values of a trace come from: the user (external inputs) or an earlier tool output.

This is the shared analysis behind the offline Tool Maker (its parameters are the external inputs), the
leakage guards (a hard query must state every external input and no intermediate value) and the dataset
statistics (how many turns need implicit logical bridging).

Values are compared with :func:`values_match`: strings case- and whitespace-insensitively, numbers
numerically (``"83214"`` matches ``83214``). Trivial values (``None``, booleans, ``0``, ``1``, ``-1`` and
strings of fewer than two characters) never match anything, because finding them in an output says
nothing about where an argument came from.

Paths: an output ``{"cards": [{"card_id": "c1"}]}`` has the value ``"c1"`` at ``cards[0].card_id``;
:func:`collapse_path` turns that into ``cards[].card_id``, the form of
:class:`~hardgen.environment.base.Dependency` outputs. Argument paths are written the same way
(``passengers[0].name``); a plain parameter is just its name. A scalar output has the path ``""``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pydantic import JsonValue

from hardgen.schema import Model, Trace, canonical_json

_INDEX = re.compile(r"\[\d+\]")
_NUMBER_TEXT = re.compile(r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?(?!\d)")
_NUMERIC_STRING = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_SPACES = re.compile(r"\s+")
_WORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a dozen": 12, "a pair": 2, "a couple": 2, "single": 1,
    "once": 1, "twice": 2, "both": 2,
}  # fmt: skip
MIN_STRING_CHARS = 2


class ExternalInput(Model):
    """An argument value no earlier output produced: the user has to give it."""

    call_index: int
    tool: str
    parameter: str
    value: JsonValue


class IntermediateValue(Model):
    """An argument value that an earlier output produced: the model has to carry it over."""

    call_index: int
    tool: str
    parameter: str
    value: JsonValue
    source_call: int = -1
    source_tool: str = ""
    source_path: str = ""
    from_context: bool = False


# ------------------------------------------------------------------------------------ flattening


def collapse_path(path: str) -> str:
    """``cards[0].card_id`` -> ``cards[].card_id`` (the form Dependency outputs use)."""
    return _INDEX.sub("[]", path)


def output_values(output: JsonValue) -> dict[str, JsonValue]:
    """Every scalar of an output by its exact path (``cards[0].card_id``; ``""`` for a scalar output).

    Dict keys are not values; use :func:`grouped_output_values` for the collapsed paths.
    """
    found: dict[str, JsonValue] = {}
    _flatten(output, "", found)
    return found


def grouped_output_values(output: JsonValue) -> dict[str, list[JsonValue]]:
    """Every scalar of an output grouped by collapsed path: ``{"cards[].card_id": ["c1", "c2"]}``."""
    grouped: dict[str, list[JsonValue]] = {}
    for path, value in output_values(output).items():
        grouped.setdefault(collapse_path(path), []).append(value)
    return grouped


def argument_values(arguments: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """Every scalar of a call's arguments by parameter path (``city``, ``passengers[0].name``)."""
    found: dict[str, JsonValue] = {}
    for name, value in arguments.items():
        _flatten(value, name, found)
    return found


def _flatten(node: JsonValue, path: str, found: dict[str, JsonValue]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{path}.{key}" if path else str(key), found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _flatten(value, f"{path}[{i}]", found)
    else:
        found[path] = node


# ------------------------------------------------------------------------------------- matching


def is_trivial(value: JsonValue) -> bool:
    """Values too common to say where an argument came from (``None``, booleans, 0/1/-1, ``"a"``)."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1, -1)
    if isinstance(value, float):
        return value in (0, 1, -1) or not math.isfinite(value)
    if isinstance(value, str):
        return len(_norm_text(value)) < MIN_STRING_CHARS
    if isinstance(value, list | dict):
        return not value
    return True


def values_match(a: JsonValue, b: JsonValue) -> bool:
    """Whether two values are meaningfully the same (see the module docstring); trivial ones never are."""
    if is_trivial(a) or is_trivial(b):
        return False
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a | b, bool):
        return a == b  # exact, also beyond float range
    na, nb = _as_number(a), _as_number(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return _norm_text(a) == _norm_text(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_leaf_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_leaf_equal(a[k], b[k]) for k in a)
    return False


def _leaf_equal(a: JsonValue, b: JsonValue) -> bool:
    return values_match(a, b) or (is_trivial(a) and is_trivial(b) and a == b and type(a) is type(b))


@lru_cache(maxsize=8192)
def _norm_text(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _as_number(value: JsonValue) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and _NUMERIC_STRING.match(value.strip()):
            # A zip code such as "02134" is an identifier: compare it as text, not as the number 2134.
            digits = value.strip().lstrip("+-")
            if len(digits) > 1 and digits[0] == "0" and digits[1] != ".":
                return None
            number = float(value)
        else:
            return None
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def text_contains(text: str, value: JsonValue) -> bool:
    """Whether ``text`` states ``value``: strings case-insensitively as whole words, numbers as numbers
    (``1,250.50`` states ``1250.5``; "two" states ``2``). A list or object is stated when all its
    non-trivial scalars are; ``None`` and booleans never are."""
    if isinstance(value, list | dict):
        leaves = [v for v in output_values(value).values() if not is_trivial(v)]
        return bool(leaves) and all(text_contains(text, v) for v in leaves)
    if value is None or isinstance(value, bool):
        return False
    folded = _norm_text(text)
    if isinstance(value, str):
        needle = _norm_text(value)
        if needle and _word_in(folded, needle):
            return True
        number = _as_number(value)
        return number is not None and _number_in(folded, number)
    if isinstance(value, int | float):
        number = _as_number(value)
        if number is None:
            return _word_in(folded, str(value))
        return _number_in(folded, number)
    return False


def _word_in(haystack: str, needle: str) -> bool:
    # A plain find and a look at the neighbours: as fast as a substring test, and no regex to compile for
    # every value (the audit and the guards call this for every value against every text).
    check_left, check_right = needle[0].isalnum(), needle[-1].isalnum()
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not (check_left and start > 0 and haystack[start - 1] in _WORD_CHARS) and not (
            check_right and end < len(haystack) and haystack[end] in _WORD_CHARS
        ):
            return True
        start = haystack.find(needle, start + 1)
    return False


def _number_in(folded: str, number: float) -> bool:
    for match in _NUMBER_TEXT.finditer(folded):
        found = _as_number(match.group().replace(",", ""))
        if found is not None and math.isclose(found, abs(number), rel_tol=1e-9, abs_tol=1e-9):
            return True
    return any(math.isclose(n, abs(number)) and _word_in(folded, word) for word, n in _NUMBER_WORDS.items())


# -------------------------------------------------------------------------------------- analysis


def intermediate_values(trace: Trace, *, context: Sequence[Trace] = ()) -> list[IntermediateValue]:
    """Argument values (non-trivial scalars) that an earlier step's successful output produced.

    Calls of one step run together, so a call sees only the outputs of earlier steps. The producer is the
    most recent one. With ``context`` (the traces of earlier turns), values their outputs produced count
    as intermediate too, marked ``from_context``.
    """
    return _classify(trace, context)[1]


def external_inputs(trace: Trace, *, context: Sequence[Trace] = ()) -> list[ExternalInput]:
    """Argument values (non-trivial scalars) that no earlier output produced: the user must supply them."""
    return _classify(trace, context)[0]


def hidden_values(trace: Trace, *, context: Sequence[Trace] = ()) -> list[IntermediateValue]:
    """Intermediate values of this turn that are not also external inputs: what a query must not state.

    A value that the user gives and a tool echoes (a city name returned with its zip code) is an external
    input, not a hidden one.
    """
    external, intermediate = _classify(trace, context)
    return [
        iv
        for iv in intermediate
        if not iv.from_context and not any(values_match(iv.value, ex.value) for ex in external)
    ]


def bridged_values(
    trace: Trace, query_text: str, *, context: Sequence[Trace] = ()
) -> list[IntermediateValue]:
    """Intermediate values of this turn the query does not state: what the model has to bridge."""
    found = intermediate_values(trace, context=context)
    return [iv for iv in found if not iv.from_context and not text_contains(query_text, iv.value)]


_ID_WORDS = frozenset({"id", "code", "number", "ref", "reference", "key", "symbol", "username", "email"})


def carried_values(trace: Trace, context: Sequence[Trace]) -> list[IntermediateValue]:
    """Values from earlier turns a follow-up request may leave implicit ("add a comment to the
    ticket"): identifiers that an earlier turn's output holds under the parameter's own name
    (``booking_id`` for ``booking_id``, not ``airport_code`` for ``from_airport``), with no other value
    under that name (in earlier turns and in this one before the call), and that the user did not
    give (an earlier turn's call may have used it: the user still never said it). Any other earlier
    value (an amount, a text, one id among several) the user has to state again."""
    # What the user said in earlier turns: their external inputs, not the arguments an earlier output
    # filled (a symbol looked up in turn 1 and used there is still one the user never gave).
    given = [e.value for i, t in enumerate(context) for e in external_inputs(t, context=context[:i])]
    found = []
    for iv in intermediate_values(trace, context=context):
        if not iv.from_context or not isinstance(iv.value, str | int) or isinstance(iv.value, bool):
            continue
        if any(values_match(iv.value, g) for g in given):
            continue
        key = _leaf(iv.source_path)
        param = _leaf(iv.parameter)
        if not key or not (set(_words(key)) | set(_words(param))) & _ID_WORDS:
            continue
        if not set(_words(key)) <= set(_words(param)):
            continue
        # Shown so far: by earlier turns, and by this turn's calls before it (a log-in's own user id
        # next to the colleague's from the last turn: "the colleague" is no longer the only one).
        before = [obs for t in context for obs in t.observations] + trace.observations[: iv.call_index]
        shown = {
            canonical_json(v)
            for obs in before
            if obs.ok
            for path, v in output_values(obs.output).items()
            if path and _leaf(path) == key
        }
        if shown == {canonical_json(iv.value)}:
            found.append(iv)
    return found


def _leaf(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower())


def bridges(trace: Trace, context: Sequence[Trace] = ()) -> bool:
    """Whether the trace needs implicit bridging whatever the query's wording: a value flows into an
    argument from an earlier call's output that the user did not give, or a follow-up carries an
    identifier over from an earlier turn (:func:`carried_values`)."""
    return bool(hidden_values(trace, context=context) or carried_values(trace, context))


def needs_implicit_bridging(trace: Trace, query_text: str, *, context: Sequence[Trace] = ()) -> bool:
    """A turn needs implicit bridging when some argument comes only from an earlier output of the turn."""
    return bool(bridged_values(trace, query_text, context=context))


def _classify(trace: Trace, context: Sequence[Trace]) -> tuple[list[ExternalInput], list[IntermediateValue]]:
    # (call index, tool, path, value) of every successful output seen so far; -1 for earlier turns.
    produced: list[tuple[int, str, str, JsonValue]] = []
    for earlier in context:
        produced.extend(_context_values(earlier))
    external: list[ExternalInput] = []
    intermediate: list[IntermediateValue] = []
    index = 0
    for step in trace.steps:
        step_start = index
        for call in step.calls:
            for path, value in argument_values(call.arguments).items():
                if is_trivial(value):
                    continue
                source = next((p for p in reversed(produced) if values_match(p[3], value)), None)
                if source is None:
                    external.append(
                        ExternalInput(call_index=index, tool=call.name, parameter=path, value=value)
                    )
                else:
                    intermediate.append(
                        IntermediateValue(
                            call_index=index,
                            tool=call.name,
                            parameter=path,
                            value=value,
                            source_call=source[0],
                            source_tool=source[1],
                            source_path=source[2],
                            from_context=source[0] < 0,
                        )
                    )
            index += 1
        for offset, obs in enumerate(step.observations):
            if obs.ok:
                for path, value in output_values(obs.output).items():
                    produced.append((step_start + offset, obs.call.name, path, value))
    return external, intermediate


def _context_values(trace: Trace) -> Iterable[tuple[int, str, str, JsonValue]]:
    """What an earlier turn made known: its outputs, and the arguments the user gave in it."""
    for obs in trace.observations:
        if obs.ok:
            for path, value in output_values(obs.output).items():
                yield (-1, obs.call.name, path, value)
        for path, value in argument_values(obs.call.arguments).items():
            yield (-1, obs.call.name, path, value)
