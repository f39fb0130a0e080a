"""Nodes of the generation graph (Phase II + III). Each returns only the state keys it changes, and
for the lists with reducers (usage, turns, steps, attempts) only what it adds (see graphs/state.py).

The environment: each node that needs it takes the item's live environment from ``Deps.session`` in
the state that ``env_state`` (a snapshot hash) names, and a node that changes it stores the new
snapshot (``Deps.store_state``) and returns only the new hash.

The K_max loop: ``reasoner -> check``; a correct attempt goes to ``execute_step``; a wrong one to
``verifier`` (whose feedback joins the next prompt, eq. 5) while attempts remain, else to ``discard``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from langgraph.runtime import Runtime

from hardgen.agents.base import (
    AgentError,
    AgentResult,
    QueryInput,
    ReasonerInput,
    SummaryInput,
    ToolMakerInput,
    VerifierInput,
)
from hardgen.checker import check_calls
from hardgen.dataflow import bridges
from hardgen.decontam import query_problems_for
from hardgen.environment.apigraph.sampler import GraphUpdates, Sampler
from hardgen.graphs.deps import Deps
from hardgen.graphs.state import GenerateState, derive_seed, rng_for
from hardgen.guards import (
    advanced_tool_problems,
    generate_guarded,
    hint_problems,
    query_problems,
    summary_problems,
    undo_chain,
)
from hardgen.schema import (
    CheckVerdict,
    Observation,
    ReasoningAttempt,
    Step,
    TokenUsage,
    ToolSpec,
    Trace,
    Turn,
    VerifierFeedback,
    canonical_json,
)

log = logging.getLogger(__name__)

Update = dict[str, Any]
T = TypeVar("T")


def _discard(stage: str, reason: str) -> Update:
    return {"status": "discarded", "discard_stage": stage, "discard_reason": reason}


def primitive_specs(trace: Trace, specs: Mapping[str, ToolSpec]) -> list[ToolSpec]:
    """The specs of the distinct tools a trace calls, in the order it first calls them."""
    return [specs[name] for name in dict.fromkeys(trace.tool_names)]


def _primitive_specs(state: GenerateState, deps: Deps) -> list[ToolSpec]:
    assert state.trace is not None
    return primitive_specs(state.trace, deps.specs(state.plan.suites))


@dataclass
class Guarded(Generic[T]):
    """What a guarded agent call gave: a value that passed its guard, or why there is none."""

    value: T | None
    usage: list[TokenUsage]
    agent_error: str | None = None

    def failure(self, guard_reason: str) -> str:
        """The reason to record when ``value`` is None: the agent's error, else the guard's."""
        return self.agent_error or guard_reason


async def call_guarded(
    call: Callable[[int], Awaitable[AgentResult[T]]], check: Callable[[T], list[str]], retries: int
) -> Guarded[T]:
    """Call an agent (``call(i)``, i = regeneration index for the seed), regenerating while ``check``
    finds problems (guards.generate_guarded); agent errors become a reason, never an exception."""
    usage: list[TokenUsage] = []

    async def make(i: int) -> T:
        res = await call(i)
        usage.extend(res.usage)
        return res.value

    try:
        outcome = await generate_guarded(make, check, retries)
    except AgentError as exc:
        return Guarded(None, usage, exc.reason)
    return Guarded(outcome.value if outcome.ok else None, usage)


# ------------------------------------------------------------------------------------ Phase I part


async def sample_trace(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """Sample an executable hard trace for the next turn from the API graph (eqs. 1 and 2)."""
    deps = runtime.context
    plan, turn, key = state.plan, state.turn_index, state.thread
    env = deps.session(key, plan.suites, state.env_state, plan.seed)
    start = env.snapshot()
    ref = state.env_state or deps.snapshots.put(start, owner=key)
    updates = GraphUpdates.model_validate(state.graph_updates) if state.graph_updates else GraphUpdates()
    called = set(state.called)
    sampling = deps.settings.sampling
    sampler = Sampler(
        deps.graph,
        env,
        rng_for(plan.seed, "sample", turn),
        max_calls=sampling.max_calls_per_trajectory,
        updates=updates,
        retries_per_call=sampling.retries_per_call,
        parallel_steps=sampling.parallel_steps,
        after_target=sampling.after_target,
    )
    try:
        history = [o for t in state.turns for step in t.steps for o in step.observations]
        # The trajectory's call budget: what earlier turns used, one call kept for each later turn.
        used = sum(len(t.trace.calls) for t in state.turns)
        later = len(plan.calls_per_turn) - turn - 1
        budget = max(1, sampling.max_calls_per_trajectory - used - later)
        calls = min(plan.calls_per_turn[turn], budget)
        context = [t.trace for t in state.turns]
        trace = sampler.sample_turn(
            calls,
            called=called,
            history=history,
            max_calls=budget,
            prefer_bridging=sampling.prefer_bridging,
            reject=lambda t: undo_chain(t) is not None,  # join a queue only to leave it: no request
            wanted=(lambda t: bridges(t, context)) if sampling.prefer_bridging else None,
            # The snapshot before this turn is env_state (and, for turn 0, the trajectory's
            # initial_state): the trace does not keep another copy.
            record_initial=False,
        )
        # The session replays the trace through the Reasoner's verified calls, from the state before it.
        env.restore(start)
        deps.moved(key, ref)
    except BaseException:
        deps.moved(key, None)
        raise
    if not trace.calls:
        return _discard("sample", "sample:no_executable_trace")
    called.update(trace.tool_names)
    result: Update = {
        "trace": trace,
        "env_state": ref,
        "called": sorted(called),
        "graph_updates": updates.model_dump(mode="json"),
    }
    if turn == 0:
        result["initial_state"] = ref
    return result


# ----------------------------------------------------------------------------------- Phase II


async def tool_maker(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """A_T: abstract the trace into one advanced tool (eq. 3), guarded against intermediate values."""
    deps = runtime.context
    trace = state.trace
    assert trace is not None
    tools = _primitive_specs(state, deps)
    out = await call_guarded(
        lambda i: deps.agents.tool_maker.make_tool(
            ToolMakerInput(
                trace=trace,
                tools=tools,
                history=state.turns,
                seed=derive_seed(state.plan.seed, "tool_maker", state.turn_index, i),
            )
        ),
        lambda tool: advanced_tool_problems(tool, trace, context=[t.trace for t in state.turns]),
        deps.settings.pipeline.guard_retries,
    )
    usage = out.usage
    if out.value is None:
        return {**_discard("tool_maker", out.failure("guard:advanced_tool_leak")), "usage": usage}
    return {"advanced_tool": out.value, "usage": usage}


async def query_generator(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """A_Q: a hard query needing the whole chain and naming none of its steps (eq. 4), guarded."""
    deps = runtime.context
    trace, tool = state.trace, state.advanced_tool
    assert trace is not None and tool is not None
    tools = _primitive_specs(state, deps)
    names = list(deps.specs(state.plan.suites))
    out = await call_guarded(
        lambda i: deps.agents.query_generator.make_query(
            QueryInput(
                advanced_tool=tool,
                trace=trace,
                tools=tools,
                history=state.turns,
                seed=derive_seed(state.plan.seed, "query", state.turn_index, i),
            )
        ),
        lambda q: (
            query_problems(q, trace, names, context=[t.trace for t in state.turns])
            + query_problems_for(deps.settings, q.text)  # BFCL decontamination (hardgen.decontam)
        ),
        deps.settings.pipeline.guard_retries,
    )
    usage = out.usage
    if out.value is None:
        return {**_discard("query", out.failure("guard:query_leak")), "usage": usage}
    return {"query": out.value, "usage": usage}


# ---------------------------------------------------------------------------------- Phase III


async def reasoner(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """A_R: propose CoT + calls for the current step, with every earlier hint of this step (eq. 5)."""
    deps = runtime.context
    assert state.query is not None and state.advanced_tool is not None
    k = len(state.attempts) + 1
    inp = ReasonerInput(
        query=state.query,
        tools=_primitive_specs(state, deps),
        advanced_tool=state.advanced_tool,
        previous_turns=state.turns,
        done_steps=state.steps,
        failed_attempts=state.attempts,
        attempt=k,
        seed=derive_seed(state.plan.seed, "reasoner", state.turn_index, state.step_index, k),
    )
    try:
        res = await deps.agents.reasoner.reason(inp)
    except AgentError as exc:
        return _discard("reasoner", exc.reason)
    attempt = res.value.model_copy(update={"attempt": k, "usage": res.usage})
    return {"attempts": [attempt], "usage": res.usage}


async def check(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """The function-call checker: AST match, else state equivalence on a copy of the session."""
    deps = runtime.context
    assert state.trace is not None
    attempt = state.attempts[-1]
    i = state.step_index
    expected = state.trace.steps[i].calls
    if attempt.parse_error:
        verdict = CheckVerdict(
            correct=False, error_type="call:parse_error", error_location="output", detail=attempt.parse_error
        )
    else:
        env = deps.session(state.thread, state.plan.suites, state.env_state, state.plan.seed)
        verdict = check_calls(  # on forks of the session: it is not changed
            attempt.calls,
            expected,
            deps.specs(state.plan.suites),
            env=env,
            later_steps=[s.calls for s in state.trace.steps[i + 1 :]],
            stated=state.query.text if state.query is not None else "",
        )
    checked = attempt.model_copy(update={"verdict": verdict})
    return {"attempts": [checked]}  # replaces the unchecked attempt (same number)


def route_after_check(state: GenerateState) -> Literal["execute_step", "verifier", "discard"]:
    if state.status == "discarded":
        return "discard"
    last = state.attempts[-1] if state.attempts else None
    if last is None or last.verdict is None:
        raise ValueError(f"route_after_check: no checked attempt in item {state.plan.item}")
    if last.verdict.correct:
        return "execute_step"
    if last.attempt < state.plan.k_max:
        return "verifier"
    return "discard"


async def verifier(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """A_V: diagnose the wrong attempt and hint without revealing the answer (guarded)."""
    deps = runtime.context
    assert state.trace is not None and state.query is not None
    attempt = state.attempts[-1]
    verdict = attempt.verdict
    assert verdict is not None
    truth = state.trace.steps[state.step_index].calls
    env = deps.session(state.thread, state.plan.suites, state.env_state, state.plan.seed)
    before = env.snapshot()
    try:
        executed = [env.execute(c) for c in attempt.calls]
        env.restore(before)  # the wrong calls ran to show their results; the session is left as it was
    except BaseException:
        deps.moved(state.thread, None)
        raise
    query = state.query
    tools = _primitive_specs(state, deps)

    def leaks(feedback: VerifierFeedback) -> list[str]:
        text = " ".join([feedback.corrective_hint, feedback.root_cause, *feedback.should_reconsider])
        return hint_problems(text, truth, query)

    out = await call_guarded(
        lambda i: deps.agents.verifier.diagnose(
            VerifierInput(
                query=query,
                attempt=attempt,
                ground_truth=truth,
                execution_result=executed,
                verdict=verdict,
                tools=tools,
                seed=derive_seed(
                    state.plan.seed, "verifier", state.turn_index, state.step_index, attempt.attempt, i
                ),
            )
        ),
        leaks,
        deps.settings.pipeline.guard_retries,
    )
    usage = out.usage
    if out.value is None:
        return {**_discard("verifier", out.failure("guard:hint_leak")), "usage": usage}
    diagnosed = attempt.model_copy(update={"feedback": out.value})
    return {"attempts": [diagnosed], "usage": usage}  # replaces the checked attempt (same number)


def route_after_verifier(state: GenerateState) -> Literal["reasoner", "discard"]:
    return "discard" if state.status == "discarded" else "reasoner"


async def execute_step(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """Execute the verified calls in the session; their feedback joins the next step's prompt."""
    deps = runtime.context
    assert state.trace is not None
    attempt = state.attempts[-1]
    expected = state.trace.steps[state.step_index]
    key = state.thread
    env = deps.session(key, state.plan.suites, state.env_state, state.plan.seed)
    deps.moved(key, None)  # until the new state is stored
    observations = [env.execute(c) for c in attempt.calls]
    if not all(o.ok for o in observations):
        failed = next(o for o in observations if not o.ok)
        return _discard("execute", f"execute:{failed.error_type}")
    if attempt.verdict is not None and attempt.verdict.matched_by == "ast":
        want = sorted(_obs_key(o) for o in expected.observations)
        if sorted(_obs_key(o) for o in observations) != want:
            return _discard("execute", "execute:observation_mismatch")
    step = Step(
        index=state.step_index,
        calls=attempt.calls,
        observations=observations,
        cot=clean_cot(attempt),
        attempts=state.attempts,
    )
    env_state = deps.store_state(key, env)
    deps.moved(key, env_state)
    return {"steps": [step], "attempts": [], "env_state": env_state}


def clean_cot(attempt: ReasoningAttempt) -> str:
    """The CoT a verified step keeps: one a model could write seeing only the conversation so far.

    A first attempt's reasoning is that already. A refined attempt's reasoning answers feedback the
    training example never shows, so the step keeps its ``final_cot`` (a first answer's reasoning toward
    the same calls), or no reasoning at all when the agent gave none; the raw attempts stay in
    ``Step.attempts`` as they were.
    """
    if attempt.attempt <= 1:
        return attempt.cot
    return attempt.final_cot


def _obs_key(obs: Observation) -> str:
    return canonical_json([obs.call.name, obs.ok, obs.output])


def route_after_execute(state: GenerateState) -> Literal["reasoner", "summarize", "discard"]:
    if state.status == "discarded":
        return "discard"
    assert state.trace is not None
    return "reasoner" if state.step_index < len(state.trace.steps) else "summarize"


async def summarize(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """Close the turn with the assistant's summary and file it in the history."""
    deps = runtime.context
    assert state.trace is not None and state.advanced_tool is not None and state.query is not None
    query, steps = state.query, state.steps

    def ask(i: int) -> Awaitable[AgentResult[str]]:
        # Regeneration i > 0 after the length guard fired gets its own seed; the first keeps the old one.
        extra = (i,) if i else ()
        seed = derive_seed(state.plan.seed, "summary", state.turn_index, *extra)
        return deps.agents.summarizer.summarize(SummaryInput(query=query, steps=steps, seed=seed))

    out = await call_guarded(ask, summary_problems, deps.settings.pipeline.guard_retries)
    if out.value is None:
        return {**_discard("summarize", out.failure("guard:summary_length")), "usage": out.usage}
    res = AgentResult(value=out.value, usage=out.usage)
    turn = Turn(
        index=state.turn_index,
        trace=state.trace,
        advanced_tool=state.advanced_tool,
        query=state.query,
        steps=state.steps,
        summary=res.value,
    )
    return {
        "turns": [turn],
        "trace": None,
        "advanced_tool": None,
        "query": None,
        "steps": [],
        "usage": res.usage,
    }


def route_after_summary(state: GenerateState) -> Literal["sample_trace", "finish", "discard"]:
    if state.status == "discarded":
        return "discard"
    return "sample_trace" if state.turn_index < len(state.plan.calls_per_turn) else "finish"


def route_continue(state: GenerateState) -> Literal["continue", "discard"]:
    """After a node that may discard (sampling, Phase II): go on or stop."""
    return "discard" if state.status == "discarded" else "continue"


async def finish(state: GenerateState) -> Update:
    return {"status": "kept"}


async def discard(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """Stop the item, keeping why (stage and reason) and the attempts of a step that hit K_max."""
    runtime.context.end_session(state.thread)
    if state.status == "discarded":
        return {}
    return _discard("reasoner", "reasoner:k_max_exhausted")


def failed_step(state: GenerateState) -> Step | None:
    """The step that exhausted K_max (attempts but no verified calls), for the results store."""
    if state.discard_reason != "reasoner:k_max_exhausted" or not state.attempts:
        return None
    return Step(index=state.step_index, calls=[], observations=[], attempts=state.attempts)
