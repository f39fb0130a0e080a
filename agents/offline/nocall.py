"""The offline Reasoner's answers that make no call (turn kinds, :mod:`hardgen.kinds`).

It acts only on what it is shown: the tools at hand, the advanced tool whose parameters carry the user's
values (a value the user has not given is unknown: ``None``) and the request. When a tool the capability
needs is not among the tools, or a value the chain needs is unknown, the right answer is words to the
user, not a call: it says what is missing (asking for a value) or that the tools at hand cannot do it.
"""

from __future__ import annotations

from hardgen.agents.base import ReasonerInput
from hardgen.agents.offline.cot import goal_of, wanted
from hardgen.agents.offline.text import label
from hardgen.schema import ToolCall


def no_call_answer(inp: ReasonerInput) -> tuple[str, str] | None:
    """``(reasoning, reply)`` when the request cannot be acted on yet, else None."""
    if inp.done_steps:
        return None
    shown = {t.name for t in inp.tools}
    needed = inp.advanced_tool.primitive_tools
    absent = [n for n in needed if n not in shown]
    goal = wanted(goal_of(inp))
    if needed and len(absent) == len(needed):
        cot = (
            f"The user wants {goal}. None of the tools I have does anything of the kind: they "
            "belong to other tasks. Calling one of them would not do what was asked, so I make no call "
            "and say so."
        )
        reply = (
            "I'm sorry, I can't help with that here: none of the tools available to me can do it. "
            "Is there something else I can help with?"
        )
        return cot, reply
    if absent:
        cot = (
            f"The user wants {goal}. Going through the tools, one step this needs has no tool "
            "that does it, and no other tool can stand in for it. I should not call a substitute; I tell "
            "the user what is missing."
        )
        reply = (
            "I can't complete this with the tools I have right now: one of the steps it needs isn't "
            "covered by any of them. If that capability can be added, I'll carry on."
        )
        return cot, reply
    unknown = [p for p in inp.advanced_tool.parameters if p.value is None]
    if unknown:
        names = [label(p.name) for p in unknown]
        what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        cot = (
            f"The user wants {goal}. For that I need the {what}, but the request does not say it "
            "and nothing earlier in the conversation gives it. Guessing would act on the wrong thing, so "
            "I ask first."
        )
        reply = f"I can do that, but I need the {what} first. Could you tell me?"
        return cot, reply
    return None


def substitute_call(inp: ReasonerInput) -> ToolCall | None:
    """A hasty answer where none was due: a call of a tool at hand with the values it has (a value it
    lacks is left out). None when no tool is at hand."""
    if not inp.tools:
        return None
    listed = [t for t in inp.tools if t.name in inp.advanced_tool.primitive_tools]
    spec = (listed or inp.tools)[-1]
    args = {}
    for param in spec.required:
        match = next(
            (p for p in inp.advanced_tool.parameters if p.value is not None and param in p.name), None
        )
        if match is not None:
            args[param] = match.value
    return ToolCall(name=spec.name, arguments=args)
