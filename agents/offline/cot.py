"""The offline Reasoner's chains of thought, in the style of the paper's Figures 8, 13 and 15.

A first attempt analyses the tools, notices what the request does not state, plans the steps and acts;
a later step reads the previous results and names the next calls; a refinement answers the Verifier's
feedback (what was wrong, what the feedback says, how to adjust, the new plan).
"""

from __future__ import annotations

import re

from pydantic import JsonValue

from hardgen.agents.base import ReasonerInput
from hardgen.agents.offline.plan import Arg, Node, Planner, StepPlan
from hardgen.agents.offline.text import (
    first_sentence,
    is_verb,
    join_words,
    label,
    last_key,
    leaves,
    lower_first,
    render_value,
    returns_description,
)
from hardgen.schema import Observation

_ADJUSTMENTS = {
    "call:skipped_prerequisite": "Obtain what the later call needs first, one step at a time.",
    "call:wrong_order": "Make only the calls whose inputs are already available; the rest waits.",
    "call:wrong_value": "Take each value from where it really comes from: the request or an earlier result.",
    "call:wrong_type": "Pass every value with the type its schema asks for.",
    "call:missing_call": "Make every independent call this step needs, together.",
    "call:extra_call": "Drop the call this step does not need.",
    "call:wrong_name": "Pick the tool whose purpose matches this step.",
    "call:missing_param": "Fill every parameter the step needs.",
    "call:unexpected_param": "Pass only the parameters the request needs and leave defaults alone.",
    "call:no_call": "Answer with the function calls this step needs.",
    "call:parse_error": "Write the calls in the required format.",
}


def initial_cot(inp: ReasonerInput, step: StepPlan) -> str:
    """Figure 8: analyse the tools, notice what the request lacks, plan the steps, then act."""
    planner = step.planner
    lines = [f"The user wants {_wanted(_goal(inp))}. Let me analyze the available tools:"]
    for spec in inp.tools:
        lines.append(f"- `{spec.name}`: {lower_first(first_sentence(spec.description))}")
    lines += ["", _given(inp)]
    lines += _bridging(planner)
    lines.append("")
    outline = planner.outline(step.done, step.called, step.grouping)
    numbers = {n.id: i for i, group in enumerate(outline, start=1) for n in group}
    for i, group in enumerate(outline, start=1):
        lines.append(f"Step {i}: " + "; ".join(_planned_call(planner, n, numbers) for n in group))
    if len(outline) > 1:
        lines.append("The sequence is correct: each call only uses what the steps before it produce.")
    return "\n".join(lines)


_CUE = re.compile(r"\b(?:use|take) (the [^.;]+?)(?= and (?:use|take) |[.;]|$)", re.IGNORECASE)


def _given(inp: ReasonerInput) -> str:
    """What the request states: its values ("the city Rivermist"; a flag as the parameter it sets), or,
    when it states none, which items it singles out and where the rest comes from."""
    given = []
    for p in inp.advanced_tool.parameters:
        if isinstance(p.value, bool):
            given.append(f"`{p.name}` = {'true' if p.value else 'false'}")
        else:
            given.append(f"the {label(p.name)} {render_value(p.value)}")
    if given:
        return f"The user gives me {join_words(given)}."
    cues = [m.group(1) for m in _CUE.finditer(inp.query.text)]
    if cues:
        picks = join_words(cues)
        return f"The user gives no value I can pass on directly, but says which items to pick: {picks}."
    if inp.previous_turns:
        return (
            "The user gives no new values; what the calls need is in the conversation so far or comes "
            "from the tools."
        )
    return "The user gives no values; what the calls need comes from the tools themselves."


def continue_cot(inp: ReasonerInput, step: StepPlan) -> str:
    """After a verified step: read its results, then name the next calls."""
    lines = ["Now I have the results of the previous step, let me analyze:"]
    if inp.done_steps:
        lines += [f"- `{o.call.name}` returned {_brief(o)}." for o in inp.done_steps[-1].observations]
    lines.append(f"- Next step: call {_calls_text(step)}.")
    remaining = step.planner.outline(step.done, step.called, step.grouping)
    if len(remaining) <= 1:
        lines.append("This is the last step the request needs.")
    else:
        after = join_words(list(dict.fromkeys(f"`{n.tool}`" for g in remaining[1:] for n in g)))
        lines.append(f"After that I still need {after}.")
    return "\n".join(lines)


def refine_cot(inp: ReasonerInput, step: StepPlan) -> str:
    """Figure 15: what went wrong, what the feedback says, how to adjust, the new plan."""
    return _refinement(inp, step) + f"\nNow I call {_calls_text(step)}."


def mistake_cot(inp: ReasonerInput, step: StepPlan, thought: str) -> str:
    """The reasoning behind a mistaken attempt: the usual analysis, then the flawed decision."""
    if inp.failed_attempts:
        base = _refinement(inp, step)
    elif inp.done_steps:
        base = continue_cot(inp, step).split("\n- Next step:", 1)[0]
    else:
        base = initial_cot(inp, step)
    return f"{base}\n{thought}"


def _refinement(inp: ReasonerInput, step: StepPlan) -> str:
    failed = inp.failed_attempts[-1]
    feedback, verdict = failed.feedback, failed.verdict
    made = join_words([f"`{c.name}`{_with(c.arguments)}" for c in failed.calls]) or "no usable call"
    cause = feedback.root_cause if feedback else (verdict.detail if verdict else "It was judged wrong.")
    hint = feedback.corrective_hint if feedback else "Check the dependencies between the tools again."
    error = (feedback.error_type if feedback else None) or (verdict.error_type if verdict else None) or ""
    lines = [
        f"What was wrong in my previous attempt? I called {made}. {cause}",
        f"What does the feedback tell me? {hint}",
        "How should I adjust my approach? "
        + _ADJUSTMENTS.get(error, "Re-check the tools, their inputs and their order."),
        "New execution plan:",
    ]
    outline = step.planner.outline(step.done, step.called, step.grouping) or [step.nodes]
    lines += [f"Step {i}: " + "; ".join(f"`{n.tool}`" for n in g) for i, g in enumerate(outline, start=1)]
    return "\n".join(lines)


def _goal(inp: ReasonerInput) -> str:
    """The end goal as the hint states it, without the Tool Maker's remarks on inputs."""
    sentence = first_sentence(inp.advanced_tool.description)
    for marker in (", working directly from", ";"):
        sentence = sentence.split(marker, 1)[0]
    return lower_first(sentence.strip()) or "complete the request"


def goal_of(inp: ReasonerInput) -> str:
    """The end goal as the hint states it (for the no-call answers, :mod:`.nocall`)."""
    return _goal(inp)


def wanted(goal: str) -> str:
    """What follows "The user wants" (for the no-call answers)."""
    return _wanted(goal)


def _wanted(goal: str) -> str:
    """What follows "The user wants": "to book a flight", "to know which ...", "the best-rated players"."""
    first = goal.split(" ", 1)[0].lower()
    if first in ("what", "where", "which", "who", "how", "when", "whether"):
        return f"to know {goal}"
    return f"to {goal}" if is_verb(first) else goal


def _bridging(planner: Planner) -> list[str]:
    """What the request does not state and where it comes from (the paper's "mismatch")."""
    found: list[str] = []
    for node in planner.nodes:
        needs = [p for p, a in node.args.items() if a.kind == "node"]
        if needs:
            sources = sorted({f"`{planner.nodes[node.args[p].node].tool}`" for p in needs})
            first = "that comes" if len(sources) == 1 else "those come"
            found.append(
                f"`{node.tool}` needs {join_words([f'`{p}`' for p in needs])}, which the user does not give; "
                f"{join_words(sources)} can tell me, so {first} first."
            )
        before = [planner.nodes[i].tool for i in node.prereqs]
        if before:
            found.append(f"`{node.tool}` only works after {join_words([f'`{t}`' for t in before])}.")
    return list(dict.fromkeys(found))


def _planned_call(planner: Planner, node: Node, numbers: dict[int, int]) -> str:
    sources = [_source(planner, p, a, numbers) for p, a in node.args.items()]
    text = f"use `{node.tool}`" + (f" with {', '.join(sources)}" if sources else "")
    result = lower_first(returns_description(planner.book.specs[node.tool]).rstrip("."))
    return f"{text} → {result}" if result else text


def _source(planner: Planner, param: str, arg: Arg, numbers: dict[int, int]) -> str:
    if arg.kind in ("adv", "seen"):
        return f"{param} = {render_value(arg.value)}"
    if arg.kind == "node":
        producer = planner.nodes[arg.node]
        where = f"step {numbers[producer.id]}" if producer.id in numbers else "an earlier call"
        return f"{param} from `{producer.tool}` ({where})"
    return f"{param} = ?"


def _calls_text(step: StepPlan) -> str:
    return join_words([f"`{c.name}`{_with(c.arguments)}" for c in step.calls])


def _with(args: dict[str, JsonValue]) -> str:
    return " with " + ", ".join(f"{k}={render_value(v)}" for k, v in args.items()) if args else ""


def _brief(obs: Observation) -> str:
    if not obs.ok:
        return f"an error ({obs.error})"
    items = [(last_key(p), v) for p, v in leaves(obs.output)]
    shown = ", ".join(f"{k}: {render_value(v)}" for k, v in items[:4])
    if len(items) > 4:
        shown += ", among others"
    return shown or "nothing"
