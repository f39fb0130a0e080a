"""The offline Reasoner (Phase III, Figures 13 and 15): plan, act one step, sometimes err, and repair.

At each step it plans the turn over the primitive tools (:mod:`hardgen.agents.offline.plan`), matches
the verified steps onto the plan and answers with the next ready calls. With a probability that decays
with the attempt number it makes one mistake of a kind the checker diagnoses (a skipped prerequisite, a
wrong value, a wrong order, a missing call, a wrong tool, a missing parameter), so the Verifier and the
K_max loop have real work. On a retry it reads the feedback: a mistake it made on purpose is not made
again; when its honest answer was judged wrong, the error type and location rule out the choice it made
(a value, a tool, an optional parameter, the grouping) and it plans again.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, JsonValue, ValidationError

from hardgen.agents.base import ReasonerInput
from hardgen.agents.offline.cot import continue_cot, initial_cot, mistake_cot, refine_cot
from hardgen.agents.offline.nocall import no_call_answer, substitute_call
from hardgen.agents.offline.plan import (
    Arg,
    Avoid,
    Grouping,
    Node,
    Planner,
    StepPlan,
    ToolBook,
    call_key,
    observations_of,
)
from hardgen.agents.offline.text import (
    first_sentence,
    join_words,
    label,
    last_key,
    leaves,
    lower_first,
    overlap,
    param_schema,
    render_value,
    words,
)
from hardgen.config import ConfigError
from hardgen.schema import JSONDict, Model, Observation, ReasoningAttempt, ToolCall

MistakeKind = Literal[
    "skipped_prerequisite", "wrong_value", "wrong_order", "missing_call", "wrong_tool", "missing_param"
]
MISTAKE_KINDS: tuple[MistakeKind, ...] = (
    "skipped_prerequisite",
    "wrong_value",
    "wrong_order",
    "missing_call",
    "wrong_tool",
    "missing_param",
)
_WEIGHTS: dict[str, float] = {
    "skipped_prerequisite": 3.0,
    "wrong_value": 3.0,
    "wrong_order": 2.0,
    "missing_call": 2.0,
    "wrong_tool": 1.0,
    "missing_param": 1.0,
}
# The mistake kind a checker error type reports.
_KIND_OF_ERROR = {
    "call:skipped_prerequisite": "skipped_prerequisite",
    "call:wrong_order": "wrong_order",
    "call:extra_call": "wrong_order",
    "call:wrong_value": "wrong_value",
    "call:wrong_type": "wrong_value",
    "call:missing_call": "missing_call",
    "call:wrong_name": "wrong_tool",
    "call:missing_param": "missing_param",
    "call:unexpected_param": "missing_param",
}

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ReasonerOptions(Model):
    """The offline Reasoner's options (``agents.reasoner.options``)."""

    error_rate: Probability = Field(
        default=0.35, description="Attempt k makes a mistake with probability error_rate ** k."
    )
    error_schedule: list[Probability] = Field(
        default_factory=list,
        description="Mistake probability per attempt (attempt 1 first; the last holds after); "
        "overrides error_rate.",
    )
    mistakes: list[MistakeKind] = Field(
        default_factory=lambda: list(MISTAKE_KINDS), description="The kinds of mistakes it may make."
    )
    parallel: bool = Field(default=True, description="Make independent ready calls together in one step.")
    max_parallel: int = Field(default=3, ge=1, description="Most calls in one step (the sampler's limit).")

    @classmethod
    def from_options(cls, options: dict[str, JsonValue]) -> ReasonerOptions:
        """Validate ``options``; a bad one is a ConfigError that names it."""
        try:
            return cls.model_validate(options)
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"offline reasoner: {problems}") from None

    @property
    def grouping(self) -> Grouping:
        return Grouping(parallel=self.parallel, max_parallel=self.max_parallel)

    def probability(self, attempt: int) -> float:
        """The probability that attempt ``attempt`` (from 1) makes a mistake."""
        if self.error_schedule:
            return self.error_schedule[min(attempt, len(self.error_schedule)) - 1]
        return float(self.error_rate**attempt)


@dataclass
class Mistake:
    kind: str
    calls: list[ToolCall]
    thought: str


def reason_step(inp: ReasonerInput, options: ReasonerOptions, rng: random.Random) -> ReasoningAttempt:
    """One attempt for the current step: CoT and calls (the raw text is added by the caller)."""
    answer = no_call_answer(inp)
    if answer is not None:
        return _no_call_attempt(inp, options, rng, *answer)
    step = plan_with_feedback(inp, options.grouping)
    if options.mistakes and rng.random() < options.probability(inp.attempt):
        mistake = make_mistake(step, inp, options.mistakes, rng)
        if mistake is not None:
            cot = mistake_cot(inp, step, mistake.thought)
            if not inp.failed_attempts:
                return ReasoningAttempt(attempt=inp.attempt, cot=cot, calls=mistake.calls)
            # A slip can still be accepted (a value equal in effect): if it is, the step keeps this
            # reasoning, written as a first answer would be, not the narrated refinement.
            first = inp.model_copy(update={"failed_attempts": []})
            final = mistake_cot(first, step, mistake.thought)
            return ReasoningAttempt(attempt=inp.attempt, cot=cot, final_cot=final, calls=mistake.calls)
    # The reasoning a first answer gives for these calls; a refined attempt keeps it as its final CoT.
    fresh = continue_cot(inp, step) if inp.done_steps else initial_cot(inp, step)
    if inp.failed_attempts:
        return ReasoningAttempt(
            attempt=inp.attempt, cot=refine_cot(inp, step), final_cot=fresh, calls=step.calls
        )
    return ReasoningAttempt(attempt=inp.attempt, cot=fresh, calls=step.calls)


def _no_call_attempt(
    inp: ReasonerInput, options: ReasonerOptions, rng: random.Random, cot: str, reply: str
) -> ReasoningAttempt:
    """No call is right here; with the mistake probability it calls a tool anyway (a substitute)."""
    if options.mistakes and rng.random() < options.probability(inp.attempt):
        call = substitute_call(inp)
        if call is not None:
            thought = "Rather than hold back, I make the call that comes closest with what I have."
            return ReasoningAttempt(attempt=inp.attempt, cot=f"{cot.split('.')[0]}. {thought}", calls=[call])
    if inp.failed_attempts:
        revised = "The feedback says no call was due: the request cannot be acted on as it stands. " + cot
        return ReasoningAttempt(attempt=inp.attempt, cot=revised, final_cot=cot, reply=reply)
    return ReasoningAttempt(attempt=inp.attempt, cot=cot, reply=reply)


# ------------------------------------------------------------------------------------- stepping


def plan_step(inp: ReasonerInput, grouping: Grouping, avoid: Avoid | None = None) -> StepPlan:
    """The next step as the planner sees it (no mistakes), avoiding what the feedback ruled out."""
    avoid = avoid or Avoid()
    history = [o for turn in inp.previous_turns for o in observations_of(turn.steps)]
    executed = observations_of(inp.done_steps)
    planner = Planner(ToolBook(inp.tools), inp.advanced_tool, inp.query.text, [*history, *executed], avoid)
    done = planner.match(executed)
    called = {o.call.name for o in [*history, *executed]}
    nodes = planner.next_step(done, called, grouping, avoid)
    if not nodes:  # nothing is ready (a producer gave nothing usable): try the next planned call anyway
        nodes = [n for n in planner.ordered() if n.id not in done][:1]
    calls = [ToolCall(name=n.tool, arguments=_arguments(planner, n, done, avoid)) for n in nodes]
    if avoid.tools and all(c.name in avoid.tools for c in calls):
        # The feedback says this call comes too early, and nothing else is left: a call it depends on
        # has to run again (its earlier result was used up, or the state changed since).
        again = _repeat_dependency(planner, nodes, done)
        if again is not None:
            calls = [again]
    for tool in avoid.repeat:
        twin = next((c for c in calls if c.name == tool), None) or _last_call(executed, tool)
        if twin is not None:
            calls.append(twin.model_copy(deep=True))
    if not calls:
        calls = [_guess_goal_call(inp)]
    return StepPlan(planner=planner, done=done, called=called, nodes=nodes, calls=calls, grouping=grouping)


def _repeat_dependency(
    planner: Planner, nodes: Sequence[Node], done: dict[int, Observation]
) -> ToolCall | None:
    """The most recent executed call the given nodes depend on, to be made again."""
    deps = [d for n in nodes for d in n.deps if d in done]
    if not deps:
        return None
    latest = max(deps, key=lambda d: list(done).index(d))
    return done[latest].call.model_copy(deep=True)


def _last_call(executed: Sequence[Observation], tool: str) -> ToolCall | None:
    return next((o.call for o in reversed(executed) if o.call.name == tool), None)


def _arguments(
    planner: Planner, node: Node, done: dict[int, Observation], avoid: Avoid
) -> dict[str, JsonValue]:
    concrete = planner.arguments(node, done)
    args = concrete if concrete is not None else naive_arguments(planner, node, done)
    return {k: v for k, v in args.items() if (node.tool, k) not in avoid.dropped}


def naive_arguments(planner: Planner, node: Node, done: dict[int, Observation]) -> dict[str, JsonValue]:
    """Arguments as a hasty model fills them: a value it does not have yet is replaced by the user's
    input it derives from (a city name for a zip code), or left out."""
    concrete = planner.arguments(node, done) or {}
    out: dict[str, JsonValue] = {}
    for param, arg in node.args.items():
        if arg.kind in ("adv", "seen"):
            out[param] = arg.value
        elif param in concrete:
            out[param] = concrete[param]
        elif arg.kind == "node":
            root = _root_value(planner, planner.nodes[arg.node], set())
            if root is not None:
                out[param] = root
    return out


def _root_value(planner: Planner, node: Node, seen: set[int]) -> JsonValue | None:
    """The first user value a chain of calls starts from."""
    if node.id in seen:
        return None
    seen.add(node.id)
    for arg in node.args.values():
        if arg.kind == "adv":
            return arg.value
    for arg in node.args.values():
        if arg.kind == "node":
            found = _root_value(planner, planner.nodes[arg.node], seen)
            if found is not None:
                return found
    return None


def _guess_goal_call(inp: ReasonerInput) -> ToolCall:
    """Nothing left in the plan: call the last primitive tool with the user's values that fit."""
    names = [t.name for t in inp.tools]
    listed = [t for t in inp.advanced_tool.primitive_tools if t in names]
    tool = (listed or names or ["unknown"])[-1]
    spec = next((t for t in inp.tools if t.name == tool), None)
    args: dict[str, JsonValue] = {}
    for param in spec.required if spec is not None else []:
        match = next(
            (p for p in inp.advanced_tool.parameters if set(words(param)) <= set(words(p.name))), None
        )
        if match is not None:
            args[param] = match.value
    return ToolCall(name=tool, arguments=args)


# ------------------------------------------------------------------------------------- feedback


def plan_with_feedback(inp: ReasonerInput, grouping: Grouping) -> StepPlan:
    """Plan the step, learning from every failed attempt that was this planner's honest answer."""
    avoid = Avoid()
    step = plan_step(inp, grouping, avoid)
    for failed in inp.failed_attempts:
        if _multiset(failed.calls) != _multiset(step.calls):
            continue  # a deliberate mistake: not repeating it is the fix
        error, location = _diagnosis(failed)
        if _learn(avoid, error, location, failed.calls):
            step = plan_step(inp, grouping, avoid)
    return step


def _diagnosis(failed: ReasoningAttempt) -> tuple[str, str]:
    feedback, verdict = failed.feedback, failed.verdict
    error = (feedback.error_type if feedback else None) or (verdict.error_type if verdict else None) or ""
    location = (
        (feedback.error_location if feedback else None) or (verdict.error_location if verdict else None) or ""
    )
    return error, location


def _learn(avoid: Avoid, error: str, location: str, calls: Sequence[ToolCall]) -> bool:
    """Record what a diagnosis rules out; False when it says nothing the planner can act on."""
    tool, _, rest = location.partition(".")
    param = rest.split("[", 1)[0].split(".", 1)[0]
    if error in ("call:wrong_value", "call:wrong_type") and tool and param:
        values = [c.arguments[param] for c in calls if c.name == tool and param in c.arguments]
        avoid.values.setdefault((tool, param), []).extend(values)
        return bool(values)
    if error == "call:unexpected_param" and tool and param:
        avoid.dropped.add((tool, param))
        return True
    if error == "call:missing_call":
        if tool and any(c.name == tool for c in calls):
            avoid.repeat.append(tool)  # the step needs this call twice
        else:
            avoid.widen = True
        return True
    if error in ("call:extra_call", "call:wrong_order") and tool:
        avoid.narrow.add(tool)
        return True
    if error in ("call:wrong_name", "call:skipped_prerequisite") and tool:
        avoid.tools.add(tool)
        return True
    return False


def _multiset(calls: Sequence[ToolCall]) -> Counter[str]:
    return Counter(call_key(c) for c in calls)


# ------------------------------------------------------------------------------------- mistakes


def make_mistake(
    step: StepPlan, inp: ReasonerInput, kinds: Sequence[str], rng: random.Random
) -> Mistake | None:
    """One plausible mistake for this step, of a kind not already reported on it, or None."""
    tried = {_KIND_OF_ERROR.get(_diagnosis(f)[0], "") for f in inp.failed_attempts}
    options = [k for k in kinds if k not in tried] or list(kinds)
    while options:
        kind = rng.choices(options, weights=[_WEIGHTS[k] for k in options])[0]
        options.remove(kind)
        mistake = _MAKERS[kind](step, inp, rng)
        if mistake is not None and _multiset(mistake.calls) != _multiset(step.calls):
            return mistake
    return None


def _dependents(step: StepPlan) -> list[Node]:
    """Later calls that need (directly or not) a call of this step."""
    needs = {n.id for n in step.nodes}
    found: list[Node] = []
    for node in step.planner.ordered():
        if node.id not in step.done and node.id not in needs and any(d in needs for d in node.deps):
            needs.add(node.id)
            found.append(node)
    return found


def _skip_prerequisite(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    dependents = _dependents(step)
    if not dependents:
        return None
    target = dependents[-1] if rng.random() < 0.5 else dependents[0]
    args = naive_arguments(step.planner, target, step.done)
    skipped = join_words([f"`{n.tool}`" for n in step.nodes])
    thought = (
        f"The request already gives me what I need, so I can call `{target.tool}` right away"
        f"{_with(args)}; I do not think {skipped} is needed first."
    )
    return Mistake("skipped_prerequisite", [ToolCall(name=target.tool, arguments=args)], thought)


def _wrong_order(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    current = {n.id for n in step.nodes}
    later = [n for n in step.planner.ordered() if n.id not in step.done and n.id not in current]
    if not later:
        return None
    target = rng.choice(later[:3])
    extra = ToolCall(name=target.tool, arguments=naive_arguments(step.planner, target, step.done))
    together = join_words([f"`{c.name}`" for c in step.calls])
    thought = f"To save a round trip I will also call `{target.tool}` now, together with {together}."
    return Mistake("wrong_order", [*step.calls, extra], thought)


def _missing_call(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    if len(step.calls) < 2:
        return None
    drop = rng.randrange(len(step.calls))
    kept = [c for i, c in enumerate(step.calls) if i != drop]
    thought = f"One call is enough for now: {join_words([f'`{c.name}`' for c in kept])}."
    return Mistake("missing_call", kept, thought)


def _wrong_value(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    specs = {t.name: t for t in inp.tools}
    spots: list[tuple[int, str, JsonValue]] = []
    for i, (node, call) in enumerate(zip(step.nodes, step.calls, strict=False)):
        spec = specs.get(call.name)
        if spec is None:
            continue
        for param, value in call.arguments.items():
            other = _confusable(step, node, param, value, param_schema(spec, param), inp)
            if other is not None:
                spots.append((i, param, other))
    if not spots:
        return None
    index, param, value = rng.choice(spots)
    calls = [c.model_copy(deep=True) for c in step.calls]
    calls[index].arguments[param] = value
    thought = f"For `{calls[index].name}` I will pass {label(param)} = {render_value(value)}."
    return Mistake("wrong_value", calls, thought)


def _confusable(
    step: StepPlan, node: Node, param: str, value: JsonValue, schema: JSONDict, inp: ReasonerInput
) -> JsonValue | None:
    """A value a model could take for the right one: another user value of the same kind, another item
    of the same list, another allowed option; a slightly changed value as the last resort."""
    enum = schema.get("enum")
    if isinstance(enum, list):
        return next((v for v in enum if v != value and v is not None), None)
    arg = node.args.get(param, Arg("missing"))
    if arg.kind == "adv":
        others = [
            p for p in inp.advanced_tool.parameters if type(p.value) is type(value) and p.value != value
        ]
        close = [p for p in others if overlap(words(p.name), words(arg.adv)) > 0]
        if close or others:
            return (close or others)[0].value
    obs = step.done.get(arg.node) if arg.kind == "node" else None
    if obs is not None and obs.ok:
        key = last_key(arg.path) if arg.path else param
        siblings = [v for path, v in leaves(obs.output) if last_key(path) == key and v != value]
        if siblings:
            return siblings[0]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return round(value * 2 + 1, 2)
    if isinstance(value, str) and len(value) > 3:
        return value[:-1]
    return None


def _wrong_tool(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    current = {c.name for c in step.calls}
    others = [t for t in inp.tools if t.name not in current]
    if not others:
        return None
    index = rng.randrange(len(step.calls))
    call = step.calls[index]
    target = max(others, key=lambda t: (overlap(words(t.name), words(call.name)), -inp.tools.index(t)))
    swapped = ToolCall(
        name=target.name, arguments={k: v for k, v in call.arguments.items() if k in target.properties}
    )
    calls = [swapped if i == index else c for i, c in enumerate(step.calls)]
    purpose = lower_first(first_sentence(target.description))
    return Mistake("wrong_tool", calls, f"`{target.name}` looks like the tool for this: it can {purpose}.")


def _missing_param(step: StepPlan, inp: ReasonerInput, rng: random.Random) -> Mistake | None:
    spots = [(i, p) for i, c in enumerate(step.calls) for p in c.arguments]
    if not spots:
        return None
    index, param = rng.choice(spots)
    calls = [c.model_copy(deep=True) for c in step.calls]
    del calls[index].arguments[param]
    thought = f"`{calls[index].name}` should work without the {label(param)}; I leave it out."
    return Mistake("missing_param", calls, thought)


_MAKERS: dict[str, Callable[[StepPlan, ReasonerInput, random.Random], Mistake | None]] = {
    "skipped_prerequisite": _skip_prerequisite,
    "wrong_value": _wrong_value,
    "wrong_order": _wrong_order,
    "missing_call": _missing_call,
    "wrong_tool": _wrong_tool,
    "missing_param": _missing_param,
}


def _with(args: dict[str, JsonValue]) -> str:
    return " with " + ", ".join(f"{k}={render_value(v)}" for k, v in args.items()) if args else ""
