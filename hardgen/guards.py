"""Deterministic hardness and leakage guards for the generated artefacts.

The paper asks for an advanced tool whose parameters are "high-level inputs (not intermediate values)",
a hard query that does "NOT mention the primitive tools by name" nor "the intermediate steps", and
Verifier hints that guide "without giving the answer directly" (Figures 11, 12, 14). Agents, LLM or not,
can break these rules; the guards below find the breaks in code so that the pipeline regenerates
(:func:`generate_guarded`) and, when regeneration keeps failing, records a rejection instead of keeping a
leaky item.

Every guard returns a list of problems, one sentence each; an empty list means the artefact passes.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import JsonValue

from hardgen.dataflow import (
    ExternalInput,
    argument_values,
    external_inputs,
    hidden_values,
    is_trivial,
    text_contains,
    values_match,
)
from hardgen.schema import AdvancedTool, HardQuery, ToolCall, ToolSpec, Trace

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


# -------------------------------------------------------------------------------------- advanced tool


def advanced_tool_problems(
    tool: AdvancedTool,
    trace: Trace,
    *,
    context: Sequence[Trace] = (),
    specs: Mapping[str, ToolSpec] | None = None,
) -> list[str]:
    """Problems of an advanced tool: a parameter carrying an intermediate value, an external input that
    no parameter carries.

    Args:
        tool: The Tool Maker's output; each parameter's ``value`` is its concrete value in this trace.
        trace: The trace it abstracts.
        context: Earlier turns' traces: values known from them need no parameter.
        specs: The primitive tools' specs; with them, an argument equal to its parameter's default needs
            no parameter (the user need not say it).
    """
    problems: list[str] = []
    for param in tool.parameters:
        for hidden in hidden_values(trace, context=context):
            if _carries(param.value, hidden.value):
                problems.append(
                    f"parameter {param.name!r} carries the intermediate value {hidden.value!r}, which "
                    f"{hidden.source_tool} produces ({hidden.source_path or 'its output'}); "
                    "parameters must be high-level inputs"
                )
                break
    for ext in _required_inputs(trace, context, specs):
        if not any(_carries(p.value, ext.value) for p in tool.parameters):
            problems.append(
                f"no parameter carries the external input {ext.tool}.{ext.parameter} = {ext.value!r}; "
                "every value the user must give needs a parameter (with that value)"
            )
    return problems


def _carries(param_value: JsonValue, value: JsonValue) -> bool:
    """Whether a parameter's value is, or contains, ``value`` (lists and objects are searched)."""
    if values_match(param_value, value):
        return True
    if isinstance(param_value, list | dict):
        return any(values_match(v, value) for v in argument_values({"v": param_value}).values())
    return False


# ------------------------------------------------------------------------------------------ hard query


def query_problems(
    query: HardQuery,
    trace: Trace,
    tool_names: Iterable[str],
    *,
    context: Sequence[Trace] = (),
    specs: Mapping[str, ToolSpec] | None = None,
) -> list[str]:
    """Problems of a hard query: it names a primitive tool, states an intermediate value, or leaves out
    an external input the chain needs.

    Tool names count as written (``get_zipcode``, ``getZipcode``) and spelled out in words
    (``get zipcode``). A two-word spelling such as "cancel booking" or "check in" is ordinary language
    for the goal itself, so it counts only for the chain's intermediate tools (those before its last
    step); longer spellings always count.

    Args:
        query: The generated query.
        trace: The trace the query must lead to.
        tool_names: The primitive tool names it must not mention (usually every tool the model sees).
        context: Earlier turns' traces; values known from them need not (and may) appear.
        specs: The primitive tools' specs; with them, an argument equal to its parameter's default need
            not appear.
    """
    text = query.text
    final = {c.name for c in trace.steps[-1].calls} if trace.steps else set()
    intermediate_tools = {c.name for c in trace.calls} - final
    problems = [
        f"the query names the tool {name!r}"
        for name in tool_names
        if mentions_tool(text, name, spaced_min_words=2 if name in intermediate_tools else 3)
    ]
    for hidden in hidden_values(trace, context=context):
        if text_contains(text, hidden.value):
            problems.append(
                f"the query states {hidden.value!r}, an intermediate value that {hidden.source_tool} produces"
            )
    for ext in _required_inputs(trace, context, specs):
        if not text_contains(text, ext.value):
            problems.append(
                f"the query does not state {ext.value!r}, which {ext.tool}.{ext.parameter} needs "
                "from the user"
            )
    return _unique(problems)


def mentions_tool(text: str, tool_name: str, *, spaced_min_words: int = 2) -> bool:
    """Whether ``text`` names the tool: ``get_zipcode``, ``getZipcode`` or ``get zipcode`` as words.

    A one-word name (``find``, ``cd``) is an ordinary word, so it counts only when written like code:
    ``find(``, ```find``` or "the find tool/function". The spelled-out form counts only for names of at
    least ``spaced_min_words`` words.
    """
    return _tool_pattern(tool_name, spaced_min_words).search(text.casefold()) is not None


@functools.lru_cache(maxsize=65536)
def _tool_pattern(tool_name: str, spaced_min_words: int) -> re.Pattern[str]:
    """The compiled pattern for one tool name (queries are checked against every tool the model sees)."""
    words = [w for w in re.split(r"[_\-.\s]+", _CAMEL.sub(" ", tool_name)) if w]
    if not words:
        return re.compile(r"(?!)")  # matches nothing
    if len(words) == 1:
        word = re.escape(words[0].casefold())
        return re.compile(rf"`{word}`|(?<![\w]){word}\s*\(|\bthe\s+{word}\s+(?:tool|function|api|command)\b")
    forms = {tool_name.casefold()}
    if len(words) >= spaced_min_words:
        forms.add(" ".join(words).casefold())
    return re.compile("|".join(rf"(?<![\w]){re.escape(form)}(?![\w])" for form in sorted(forms)))


# ------------------------------------------------------------------------------------------ hint


def hint_problems(hint_text: str, ground_truth: Sequence[ToolCall], query: HardQuery) -> list[str]:
    """Problems of a Verifier hint: it states a ground-truth argument value the query does not state."""
    problems: list[str] = []
    for call in ground_truth:
        for path, value in argument_values(call.arguments).items():
            if is_trivial(value) or text_contains(query.text, value):
                continue
            if text_contains(hint_text, value):
                problems.append(
                    f"the hint reveals the value of {call.name}.{path}, which the query does not state"
                )
    return _unique(problems)


def required_inputs(
    trace: Trace, context: Sequence[Trace] = (), specs: Mapping[str, ToolSpec] | None = None
) -> list[ExternalInput]:
    """The external inputs the user has to give (public form of the query guard's own list)."""
    return _required_inputs(trace, context, specs)


def _required_inputs(
    trace: Trace, context: Sequence[Trace], specs: Mapping[str, ToolSpec] | None
) -> list[ExternalInput]:
    """The external inputs the user has to give: one per value, leaving out parameter defaults."""
    kept: list[ExternalInput] = []
    for ext in external_inputs(trace, context=context):
        if specs is not None and _is_default(ext, specs):
            continue
        if not any(values_match(ext.value, k.value) for k in kept):
            kept.append(ext)
    return kept


def _is_default(ext: ExternalInput, specs: Mapping[str, ToolSpec]) -> bool:
    spec = specs.get(ext.tool)
    schema = spec.properties.get(ext.parameter) if spec is not None else None
    return isinstance(schema, dict) and "default" in schema and schema["default"] == ext.value


def undo_chain(trace: Trace) -> tuple[str, str] | None:
    """The first pair of calls (tool names) in which a later call reverses an earlier one on the same
    entity (join then leave a queue, start then stop the engine), else None.

    Such a turn asks for nothing a user wants: the sampler draws another trace. The pairs are the ones
    ``hardgen audit`` counts (:func:`hardgen.audit.undo_pairs`), so the two never disagree.
    """
    from hardgen.audit import undo_pairs  # the audit reads runs; imported only when a trace is checked

    pairs = undo_pairs(trace)
    return (pairs[0][0].call.name, pairs[0][1].call.name) if pairs else None


def ill_posed(
    trace: Trace, context: Sequence[Trace] = (), specs: Mapping[str, ToolSpec] | None = None
) -> str:
    """Why no request could ask for a sampled trace (empty: one can): an undo chain, an amount taken
    from the state that the user never gives (a transfer of whatever one account holds), or arguments
    taken from different items of one listing that nothing tells apart (two cards, two calls), or an
    item of a listing that only its place in the list singles out (the sixth entry of a folder). The
    sampler draws another trace; ``hardgen audit`` counts the same cases in kept data. ``specs`` (the
    tools by name) tell a calculation that logs itself ("Raise a number to a power") from an action."""
    from hardgen.audit import positional_picks, split_picks, unasked_amounts

    undo = undo_chain(trace)
    if undo is not None:
        return f"{undo[1]} undoes {undo[0]}"
    amounts = unasked_amounts(trace, context, specs=dict(specs or {}))
    if amounts:
        iv = amounts[0]
        return f"{iv.tool}.{iv.parameter} = {iv.value!r} is read from {iv.source_tool or 'an earlier turn'}"
    picks = split_picks(trace)
    if picks:
        return f"{picks[0][0]} and {picks[0][1]} take different items of one listing"
    blind = positional_picks(trace)
    if blind:
        return f"{blind[0][0]} = {blind[0][1]!r} is told apart from the other items by nothing a user knows"
    return ""


MAX_SUMMARY_CHARS = 4000


def summary_problems(text: str, max_chars: int = MAX_SUMMARY_CHARS) -> list[str]:
    """The summary length guard: a turn's closing message must say something, and not a book."""
    if not text.strip():
        return ["summary:empty"]
    if len(text) > max_chars:
        return [f"summary:too_long ({len(text)} characters, at most {max_chars})"]
    return []


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------------------------------- regeneration


@dataclass
class GuardOutcome(Generic[T]):
    """The result of guarded generation.

    ``value`` is the last generated value (kept, with ``ok=False``, when every attempt had problems, so
    the rejection can be recorded with what was generated); ``problems`` are the last attempt's;
    ``rejected`` holds the problems of every failed attempt, in order.
    """

    value: T
    ok: bool
    attempts: int
    problems: list[str] = field(default_factory=list)
    rejected: list[list[str]] = field(default_factory=list)


async def generate_guarded(
    make: Callable[[int], Awaitable[T]], check: Callable[[T], list[str]], retries: int
) -> GuardOutcome[T]:
    """Generate, check, and regenerate up to ``retries`` more times while the check finds problems.

    Args:
        make: Produces a candidate for attempt index 0, 1, ... (vary the seed with it).
        check: A guard; an empty list means the candidate passes.
        retries: Regenerations allowed after the first attempt (``pipeline.guard_retries``).

    Returns:
        ``ok=True`` with the first passing value, or ``ok=False`` with the last value and its problems.
        Exceptions from ``make`` or ``check`` propagate (agent failures are recorded by the caller).
    """
    rejected: list[list[str]] = []
    attempt = 0
    while True:
        value = await make(attempt)
        problems = check(value)
        if not problems:
            return GuardOutcome(value=value, ok=True, attempts=attempt + 1, rejected=rejected)
        rejected.append(problems)
        logger.debug("guard rejected attempt %d: %s", attempt + 1, "; ".join(problems))
        if attempt >= retries:
            return GuardOutcome(
                value=value, ok=False, attempts=attempt + 1, problems=problems, rejected=rejected
            )
        attempt += 1
