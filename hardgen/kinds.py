"""Turn kinds beyond the base turn: what makes each one, and the guards that keep it honest.

BFCL's multi-turn categories score more than fully specified requests (Base): a request that leaves out
a value (Miss Param), one that needs a tool the model does not have (Miss Func), one asked over large
observations (Long Context), and one no tool fits (irrelevance). A trajectory's turns draw their kind
from ``sampling.turn_kinds``; the first three of those make the right first answer one with **no call**,
which the checker, the reward and the exports treat as a ground truth like any call.

    missing_param  the query leaves out one value a required argument needs (no earlier output gives it):
                   the right reply asks for it; the user's follow-up states it; then the calls.
    missing_func   a tool the chain needs is absent from the tools shown: the right reply says the request
                   cannot be done with the tools at hand; the follow-up adds the tool; then the calls.
    long_context   the session holds many more records (:func:`enlarge_state`); the query singles one out.
    irrelevance    the request comes from another domain's tools (a suite the session does not have):
                   the right reply makes no call, and the turn ends there.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

from pydantic import JsonValue

from hardgen.dataflow import is_trivial, text_contains, values_match
from hardgen.schema import AdvancedParameter, AdvancedTool, HardQuery, ToolSpec, Trace

# The user's message after a missing_func reply: the tool's schema follows it in the exports.
ADDED_TOOLS_MESSAGE = "I've added the tool you were missing (below). Please go ahead with my request."


def hidden_tool_for(trace: Trace, called_before: Iterable[str]) -> str | None:
    """The tool a missing_func turn hides: the trace's target when no earlier turn called it, else
    another of its tools no earlier turn called (the list of tools is one per trajectory, so a tool
    already used cannot go missing). None: every tool was used before."""
    seen = set(called_before)
    names = list(dict.fromkeys(trace.tool_names))
    if trace.target in names and trace.target not in seen:
        return trace.target
    fresh = [n for n in reversed(names) if n not in seen]
    return fresh[0] if fresh else None


def withheld_parameter(
    tool: AdvancedTool, required: Sequence[JsonValue], rng: random.Random
) -> AdvancedParameter | None:
    """The advanced parameter a missing_param query leaves out: one carrying a value the user must
    give (``required``: the chain's external inputs, no earlier output gives them), a string or a
    number that can be looked for in text. None when the chain has no such input."""
    fit = [
        p
        for p in tool.parameters
        if isinstance(p.value, str | int | float)
        and not isinstance(p.value, bool)
        and not is_trivial(p.value)
        and len(str(p.value)) >= 2
        and any(values_match(p.value, r) for r in required)
    ]
    if not fit:
        return None
    strings = [p for p in fit if isinstance(p.value, str)]
    return rng.choice(strings or fit)


def without_value(tool: AdvancedTool, name: str) -> AdvancedTool:
    """The advanced tool as the user's first message shows it: the withheld value is unknown (None)."""
    params = [p.model_copy(update={"value": None}) if p.name == name else p for p in tool.parameters]
    return tool.model_copy(update={"parameters": params})


def supply_text(param: AdvancedParameter) -> str:
    """The user's follow-up that states the withheld value."""
    from hardgen.agents.offline.text import label, render_value

    return f"Sorry, I forgot to say: the {label(param.name)} is {render_value(param.value)}."


def combined_query(query: HardQuery, followup: str) -> HardQuery:
    """What the user has said by the time the calls start: the request and the follow-up."""
    return query.model_copy(update={"text": f"{query.text}\n{followup}"})


def withheld_problems(text: str, value: JsonValue) -> list[str]:
    """missing_param guard: the query must not state the value it leaves out."""
    if text_contains(text, value):
        return [f"the query states {value!r}, the value it must leave out for the user to give later"]
    return []


def hidden_tool_problems(shown: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """missing_func guard: a hidden tool must not be among the tools shown for the turn."""
    shown_set = set(shown)
    return [f"the hidden tool {name!r} is among the tools shown" for name in hidden if name in shown_set]


def foreign_suites(own: Sequence[str], candidates: Iterable[str], domains: Mapping[str, str]) -> list[str]:
    """Suites an irrelevance request may come from: none of the session's suites or their domains."""
    own_domains = {domains.get(s, s) for s in own}
    return [s for s in candidates if s not in own and domains.get(s, s) not in own_domains]


def no_call_reason(setup: object) -> str:
    """Why the current answer should make no call, for the Verifier: ``missing_param:<parameter>``,
    ``missing_func`` or ``irrelevance`` (the withheld value itself is never in it)."""
    kind = getattr(setup, "kind", "")
    if kind == "missing_param":
        return f"missing_param:{getattr(setup, 'withheld_param', '')}"
    return str(kind) if kind in ("missing_func", "irrelevance") else ""


def tools_named(specs: Mapping[str, ToolSpec], names: Iterable[str]) -> list[ToolSpec]:
    return [specs[n] for n in names if n in specs]
