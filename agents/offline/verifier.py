"""The offline Verifier (Figure 14): the checker's verdict explained, with a hint that gives no answer.

The diagnosis follows the checker's namespaced error type and location. The root cause says which
logical step was missed; the hint points to what to reconsider (a prerequisite, where a value comes
from, which item the user meant) and names tools and parameters, never a ground-truth value the query
does not state (:func:`hardgen.guards.hint_problems` is applied to every sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hardgen.agents.base import VerifierInput
from hardgen.agents.offline.text import (
    first_sentence,
    join_words,
    lower_first,
    param_description,
    schema_types,
)
from hardgen.dataflow import text_contains
from hardgen.guards import hint_problems
from hardgen.schema import ToolCall, ToolSpec, VerifierFeedback

_RECONSIDER = {
    "call:skipped_prerequisite": ["tool prerequisites", "where each input value comes from"],
    "call:wrong_order": ["the order of the calls", "which results are already available"],
    "call:wrong_value": ["where each input value comes from", "which value belongs to which parameter"],
    "call:wrong_type": ["the parameter types in the schema"],
    "call:missing_call": ["every item the request mentions", "the independent calls of this step"],
    "call:extra_call": ["which calls this step really needs"],
    "call:wrong_name": ["the purpose of each available tool"],
    "call:missing_param": ["the required parameters", "the values the request states"],
    "call:unexpected_param": ["the tool's parameter list", "default values"],
    "call:no_call": ["the output format"],
    "reply:empty": ["what to tell the user"],
    "call:parse_error": ["the output format"],
}
_FALLBACK = "Re-check this step against the request and the results of the earlier calls."


def diagnose(inp: VerifierInput) -> tuple[VerifierFeedback, str]:
    """Structured feedback on a wrong attempt, and the reasoning behind it."""
    verdict = inp.verdict
    error = verdict.error_type or "call:wrong_value"
    calls = inp.attempt.calls
    location = verdict.error_location or (calls[0].name if calls else "<tool_call>")
    tool, _, rest = location.partition(".")
    param = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else ""
    specs = {t.name: t for t in inp.tools}
    if inp.no_call_reason:  # no call was due: a call made anyway, or an answer with no words
        root, hint = no_call_feedback(inp.no_call_reason, error)
    else:
        root, hint = _explain(inp, error, tool, param, specs)
    failed = [o for o in inp.execution_result if not o.ok]
    if failed and error not in ("call:no_call", "call:parse_error"):
        root += f" Executing the attempt gave an error: {failed[0].error}"
    feedback = VerifierFeedback(
        error_type=error,
        error_location=location,
        root_cause=root,
        corrective_hint=hint,
        should_reconsider=(
            ["whether the request can be acted on yet", "what to tell the user instead"]
            if inp.no_call_reason
            else _RECONSIDER.get(error, ["the tool descriptions"])
        ),
    )
    feedback = _without_leaks(feedback, inp)
    attempted = join_words([f"`{c.name}`" for c in calls]) or "nothing"
    expected = join_words([f"`{c.name}`" for c in inp.ground_truth]) or "nothing"
    cot = (
        f"The attempt calls {attempted}; the reference step calls {expected}. The checker reports {error} "
        f"at {location}: {verdict.detail}\nI explain the reasoning gap and point to what to reconsider "
        "without giving any value of the answer."
    )
    return feedback, cot


def no_call_feedback(reason: str, error: str) -> tuple[str, str]:
    """Root cause and hint when no call was due (the value asked for is never named)."""
    from hardgen.agents.offline.text import label

    kind, _, param = reason.partition(":")
    if kind == "missing_param":
        root = (
            f"The request does not give the {label(param)}, and no earlier result provides it; a call "
            "now would have to guess it."
        )
        hint = f"Do not call a tool yet: ask the user for the {label(param)} and wait for the answer."
    elif kind == "missing_func":
        root = "One step the request needs cannot be done with any of the tools available."
        hint = (
            "Do not call a tool as a substitute: tell the user the request cannot be completed with the "
            "tools at hand, and what is missing."
        )
    else:
        root = "None of the available tools can do what the request asks."
        hint = "Make no call: tell the user plainly that this cannot be done with the tools available."
    if error == "reply:empty":
        root = "The answer makes no call, rightly, but says nothing to the user. " + root
    return root, hint


def _explain(
    inp: VerifierInput, error: str, tool: str, param: str, specs: dict[str, ToolSpec]
) -> tuple[str, str]:
    """Root cause and corrective hint for one error type."""
    calls = inp.attempt.calls
    spec = specs.get(tool)
    purpose = _purpose(inp.ground_truth, specs, exclude={c.name for c in calls})
    if error == "call:skipped_prerequisite":
        needs = _unstated(tool, calls, inp.query.text, specs)
        missing = (
            f": {join_words([f'`{p}`' for p in needs])} cannot be taken from the request as it is"
            if needs
            else ""
        )
        provider = f" (a tool that can {purpose})" if purpose else ""
        return (
            f"You called `{tool}` before the information it needs was available{missing}.",
            f"`{tool}` depends on something that has to happen first. Consider what information or state "
            f"`{tool}` needs and which available tool provides it{provider}; make that call now and keep "
            f"`{tool}` for a later step.",
        )
    if error == "call:wrong_order":
        return (
            f"You called `{tool}` in the same step as the calls whose results it needs.",
            f"Make only the calls whose inputs are available now; call `{tool}` after you have seen the "
            "results of this step.",
        )
    if error == "call:wrong_name":
        meant = (
            f"it is meant to {lower_first(first_sentence(spec.description))}" if spec else "it does not exist"
        )
        wanted = f": one that can {purpose}" if purpose else ""
        return (
            f"`{tool}` is not the tool this step needs: {meant}.",
            f"Read the tool descriptions again and pick the one whose purpose matches this step{wanted}.",
        )
    if error == "call:missing_call":
        again = "another call of" if tool in {c.name for c in calls} else "a call of"
        return (
            f"The step is incomplete: it also needs {again} `{tool}`, independent of the calls you made.",
            "Check whether the request mentions more than one item that needs the same kind of call, and "
            "make all the independent calls of this step together.",
        )
    if error == "call:extra_call":
        return (
            f"You made more calls than this step needs (one more of `{tool}`).",
            f"Leave out the call of `{tool}` that the request does not need at this point.",
        )
    if error == "call:missing_param":
        desc = lower_first(param_description(spec, param).rstrip(".")) if spec else ""
        return (
            f"`{tool}` was called without `{param}`, which this step needs set.",
            f"Fill `{param}`{f' ({desc})' if desc else ''}; its value is in the request or in an earlier "
            "result.",
        )
    if error == "call:unexpected_param":
        return (
            f"`{tool}` got `{param}`, which it does not take here (or which should keep its default).",
            f"Pass only the parameters `{tool}` needs for this request and leave `{param}` out.",
        )
    if error == "call:wrong_type":
        schema = spec.properties.get(param, {}) if spec else {}
        kinds = join_words(sorted(schema_types(schema if isinstance(schema, dict) else {})), "or")
        return (
            f"`{tool}.{param}` has the wrong type.",
            f"The schema of `{param}` asks for {kinds or 'another type'}; pass the value as that type.",
        )
    if error == "call:no_call":
        return (
            "The answer contains no function call, but this step needs one.",
            "Answer with the calls of this step inside the <tool_call> block.",
        )
    if error == "call:parse_error":
        return (
            f"The calls could not be read: {inp.verdict.detail}",
            "Write the calls as [tool_name(param=value), ...] between <tool_call> and </tool_call>.",
        )
    return _wrong_value(inp, tool, param)


def _wrong_value(inp: VerifierInput, tool: str, param: str) -> tuple[str, str]:
    """Where the right value comes from (the request, or an earlier result) without saying it."""
    attempted = next(
        (c.arguments[param] for c in inp.attempt.calls if c.name == tool and param in c.arguments), None
    )
    expected = next(
        (c.arguments[param] for c in inp.ground_truth if c.name == tool and param in c.arguments), None
    )
    query = inp.query.text
    if expected is not None and text_contains(query, expected):
        return (
            f"The value of `{tool}.{param}` does not match the request.",
            f"The request states the value `{param}` needs; check which of the user's values belongs to "
            f"`{param}` (mind roles such as origin and destination) and use it exactly as written.",
        )
    if attempted is not None and text_contains(query, attempted):
        return (
            f"You passed one of the user's values to `{tool}.{param}` directly, but `{param}` needs a value "
            "the request does not state.",
            f"Find the earlier result (or the tool) that provides `{param}` and take the value from there.",
        )
    return (
        f"The value of `{tool}.{param}` is not the one the request needs.",
        f"`{param}` comes from an earlier result: look at the fields of the previous tool responses and pick "
        "the one (and the list item) that matches what the user asked for.",
    )


def _purpose(truth: Sequence[ToolCall], specs: dict[str, ToolSpec], exclude: set[str]) -> str:
    """What the tool the step needs does (its description), when the attempt did not call it."""
    wanted = [specs[c.name] for c in truth if c.name in specs and c.name not in exclude]
    return lower_first(first_sentence(wanted[0].description)) if wanted else ""


def _unstated(tool: str, calls: Sequence[ToolCall], query: str, specs: dict[str, ToolSpec]) -> list[str]:
    """Required parameters of the attempted call whose value the request does not state."""
    spec = specs.get(tool)
    call = next((c for c in calls if c.name == tool), None)
    if spec is None or call is None:
        return []
    return [
        p for p in spec.required if p not in call.arguments or not text_contains(query, call.arguments[p])
    ]


def _without_leaks(feedback: VerifierFeedback, inp: VerifierInput) -> VerifierFeedback:
    """Drop every sentence that states a ground-truth value the query does not."""
    fields: dict[str, object] = {}
    for name in ("root_cause", "corrective_hint"):
        text: str = getattr(feedback, name)
        if hint_problems(text, inp.ground_truth, inp.query):
            kept = [
                s
                for s in re.split(r"(?<=[.;:])\s+", text)
                if not hint_problems(s, inp.ground_truth, inp.query)
            ]
            text = " ".join(kept) or _FALLBACK
        fields[name] = text
    return feedback.model_copy(update=fields)
