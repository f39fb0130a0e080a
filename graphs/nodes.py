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
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
from hardgen.environment.base import Environment
from hardgen.graphs.deps import Deps
from hardgen.graphs.state import GenerateState, TurnSetup, derive_seed, rng_for
from hardgen.guards import (
    advanced_tool_problems,
    generate_guarded,
    hint_problems,
    ill_posed,
    query_problems,
    required_inputs,
    summary_problems,
)
from hardgen.kinds import (
    ADDED_TOOLS_MESSAGE,
    LONG_LISTING,
    combined_query,
    enlarge_state,
    foreign_suites,
    hidden_tool_for,
    longest_listing,
    no_call_reason,
    supply_text,
    withheld_parameter,
    withheld_problems,
    withholdable,
    without_value,
)
from hardgen.schema import (
    AdvancedTool,
    CheckVerdict,
    HardQuery,
    JSONDict,
    Observation,
    ReasoningAttempt,
    Step,
    TokenUsage,
    ToolSpec,
    Trace,
    Turn,
    TurnKind,
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
    return primitive_specs(state.trace, _setup_specs(state, deps))


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
    kind = plan.kind_of(turn)
    drawn = kind
    if kind == "irrelevance":
        foreign = _sample_foreign(state, deps)
        if foreign is not None:
            return foreign
        kind = "base"  # no other domain's tools in the graph: a base turn instead (counted as unmade)
    env, start, ref = _turn_start(state, deps)
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
        specs = {s.name: s for s in env.specs}
        trace = sampler.sample_turn(
            calls,
            called=called,
            history=history,
            max_calls=budget,
            prefer_bridging=sampling.prefer_bridging,
            reject=lambda t: bool(ill_posed(t, context, specs)),  # undo chains, amounts no one gave, ...
            wanted=_wanted(kind, context, sampling.prefer_bridging, state.called),
            tries=4 if kind == "base" else KIND_TRIES * (2 if kind == "long_context" else 1),
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
    setup = _turn_setup(kind, trace, state.called, context)
    if drawn != "base" and (setup is None or setup.kind != drawn):
        setup = TurnSetup(kind="base", unmade=drawn)  # made as a base turn; stats count it
    called.update(trace.tool_names)
    result: Update = {
        "trace": trace,
        "env_state": ref,
        "called": sorted(called),
        "graph_updates": updates.model_dump(mode="json"),
        "setup": setup,
    }
    if turn == 0:
        result["initial_state"] = ref
    return result


def _turn_start(state: GenerateState, deps: Deps) -> tuple[Environment, JSONDict, str]:
    """The item's live environment in the state the turn starts from, that state's snapshot and its
    hash (stored here before turn 1, when ``env_state`` is still '')."""
    plan, key = state.plan, state.thread
    ref = state.env_state or _start_state(state, deps)
    env = deps.session(key, plan.suites, ref, plan.seed)
    start = env.snapshot()
    return env, start, ref or deps.snapshots.put(start, owner=key)


def _start_state(state: GenerateState, deps: Deps) -> str:
    """The hash of the session's state before turn 1 when a turn of the trajectory is a long-context
    one: the suites' own, grown large (hardgen.kinds.enlarge_state) and stored. '': the suites' own
    state, as a fresh session has it."""
    plan, key = state.plan, state.thread
    if "long_context" not in plan.kinds:
        return ""
    fresh = deps.session(key, plan.suites, "", plan.seed).snapshot()
    return deps.snapshots.put(enlarge_state(fresh, rng_for(plan.seed, "enlarge")), owner=key)


# Targets a turn of another kind than base may draw before it is made as a base turn: a chain that can
# carry the kind (a long listing, a value the user can withhold, a tool not used before) is rarer; a
# long_context turn draws twice as many (few of a session's tools list 20+ items).
KIND_TRIES = 12


def _wanted(
    kind: TurnKind, context: list[Trace], prefer_bridging: bool, called_before: Sequence[str] = ()
) -> Callable[[Trace], bool] | None:
    """What the sampler prefers in a trace: a value flow, and a chain that can carry the turn's kind
    (:func:`_can_carry`). The sampler's last try drops the preference; :func:`_turn_setup` then finds
    whether the kind can still be made."""
    if kind == "base":
        return (lambda t: bridges(t, context)) if prefer_bridging else None
    return lambda t: (
        _can_carry(kind, t, context, called_before) and (not prefer_bridging or bridges(t, context))
    )


def _can_carry(kind: TurnKind, trace: Trace, context: list[Trace], called_before: Sequence[str]) -> bool:
    """Whether a trace can make a turn of ``kind``: a long listing to pick from (long_context), a value
    the user must give that a query can leave out (missing_param), a tool no earlier turn called
    (missing_func)."""
    if kind == "long_context":
        return longest_listing(trace) >= LONG_LISTING
    if kind == "missing_param":
        return any(withholdable(e.value) for e in required_inputs(trace, context, None))
    if kind == "missing_func":
        return hidden_tool_for(trace, called_before) is not None
    return True


def _turn_setup(
    kind: TurnKind, trace: Trace, called_before: Sequence[str], context: list[Trace]
) -> TurnSetup | None:
    """The turn's setup (hardgen.kinds); None when the trace cannot carry the kind (a base turn)."""
    if kind == "base" or not _can_carry(kind, trace, context, called_before):
        return None
    if kind == "missing_func":
        hidden = hidden_tool_for(trace, called_before)
        return TurnSetup(kind=kind, hidden_tools=[hidden] if hidden else [])
    return TurnSetup(kind=kind)


def _sample_foreign(state: GenerateState, deps: Deps) -> Update | None:
    """An irrelevance turn's trace: sampled in a fresh session of another domain's suite, never in
    this one (the request it leads to needs tools the trajectory does not have). None: no such suite."""
    plan, turn = state.plan, state.turn_index
    domains: dict[str, str] = {}
    for name in deps.graph.tools:
        spec = deps.graph.spec(name)
        domains.setdefault(spec.suite, spec.domain)
    candidates = foreign_suites(plan.suites, sorted(domains), domains)
    if not candidates:
        return None
    rng = rng_for(plan.seed, "foreign", turn)
    suite = rng.choice(candidates)
    try:
        env = deps.environment([suite], None, seed=plan.seed)
    except Exception:  # a suite the environment cannot build alone (a backend's class): no such turn
        log.debug("irrelevance: cannot build %s alone", suite, exc_info=True)
        return None
    try:
        sampler = Sampler(
            deps.graph,
            env,
            rng,
            max_calls=2,
            retries_per_call=deps.settings.sampling.retries_per_call,
            parallel_steps=deps.settings.sampling.parallel_steps,
            after_target=deps.settings.sampling.after_target,
        )
        trace = sampler.sample_turn(1, called=set(), prefer_bridging=False, record_initial=False)
    finally:
        env.close()
    if not trace.calls:
        return None
    _env, _start, session = _turn_start(state, deps)  # the session itself is not changed by this turn
    deps.moved(state.thread, session)
    result: Update = {
        "trace": trace,
        "setup": TurnSetup(kind="irrelevance", foreign_suites=[suite]),
        "env_state": session,
    }
    if turn == 0:
        result["initial_state"] = session
    return result


def _setup_specs(state: GenerateState, deps: Deps) -> dict[str, ToolSpec]:
    """The specs of the trace's tools: the session's, or for an irrelevance turn its foreign suite's."""
    if state.setup is not None and state.setup.foreign_suites:
        return deps.specs(state.setup.foreign_suites)
    return deps.specs(state.plan.suites)


def _no_call_due(state: GenerateState) -> bool:
    """Whether the current step's right answer makes no call (the first step of such a turn)."""
    return state.setup is not None and state.setup.no_call_first and not state.steps


def _call_steps(state: GenerateState) -> list[Step]:
    return [s for s in state.steps if s.calls]


def _trace_step_index(state: GenerateState) -> int:
    """The index in the trace of the current step (a no-call step has no trace step)."""
    return len(_call_steps(state))


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
    names = list(dict.fromkeys([*deps.specs(state.plan.suites), *_setup_specs(state, deps)]))
    context = [t.trace for t in state.turns]
    setup, shown = state.setup, tool
    withheld = None
    if setup is not None and setup.kind == "missing_param":
        required = [e.value for e in required_inputs(trace, context, None)]
        withheld = withheld_parameter(tool, required, rng_for(state.plan.seed, "withhold", state.turn_index))
        if withheld is None:  # no advanced parameter carries a value to leave out: a base turn instead
            setup = TurnSetup(kind="base", unmade="missing_param")
        else:
            shown = tool.model_copy(update={"parameters": [p for p in tool.parameters if p is not withheld]})
            setup = setup.model_copy(
                update={
                    "withheld_param": withheld.name,
                    "withheld_value": withheld.value,
                    "followup": supply_text(withheld),
                }
            )
    elif setup is not None and setup.kind == "missing_func":
        setup = setup.model_copy(update={"followup": ADDED_TOOLS_MESSAGE})

    def problems(q: HardQuery) -> list[str]:
        if setup is None or withheld is None:
            whole = q
            extra: list[str] = []
        else:  # the request and the follow-up state every input; the request alone leaves one out
            whole = combined_query(q, setup.followup)
            extra = withheld_problems(q.text, withheld.value)
        return (
            query_problems(whole, trace, names, context=context)
            + extra
            + query_problems_for(deps.settings, q.text)  # BFCL decontamination (hardgen.decontam)
        )

    out = await call_guarded(
        lambda i: deps.agents.query_generator.make_query(
            QueryInput(
                advanced_tool=shown,
                trace=trace,
                tools=tools,
                history=state.turns,
                seed=derive_seed(state.plan.seed, "query", state.turn_index, i),
            )
        ),
        problems,
        deps.settings.pipeline.guard_retries,
    )
    usage = out.usage
    if out.value is None:
        return {**_discard("query", out.failure("guard:query_leak")), "usage": usage}
    return {"query": out.value, "usage": usage, "setup": setup}


# ---------------------------------------------------------------------------------- Phase III


async def reasoner(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """A_R: propose CoT + calls for the current step, with every earlier hint of this step (eq. 5)."""
    deps = runtime.context
    assert state.query is not None and state.advanced_tool is not None
    k = len(state.attempts) + 1
    query, tools, advanced = reasoner_view(state, deps)
    inp = ReasonerInput(
        query=query,
        tools=tools,
        advanced_tool=advanced,
        previous_turns=state.turns,
        done_steps=_call_steps(state),
        failed_attempts=state.attempts,
        attempt=k,
        no_call_allowed=not deps.settings.sampling.turn_kinds.base_only,
        seed=derive_seed(state.plan.seed, "reasoner", state.turn_index, state.step_index, k),
    )
    try:
        res = await deps.agents.reasoner.reason(inp)
    except AgentError as exc:
        return _discard("reasoner", exc.reason)
    attempt = res.value.model_copy(update={"attempt": k, "usage": res.usage})
    return {"attempts": [attempt], "usage": res.usage}


def reasoner_view(state: GenerateState, deps: Deps) -> tuple[HardQuery, list[ToolSpec], AdvancedTool]:
    """What the Reasoner is shown for the current step: the request as the user has stated it so far,
    the tools at hand, the advanced tool (a withheld value is unknown: None)."""
    assert state.query is not None and state.advanced_tool is not None
    query, tools, advanced = state.query, _primitive_specs(state, deps), state.advanced_tool
    setup = state.setup
    if setup is None:
        return query, tools, advanced
    first = _no_call_due(state)
    if setup.kind == "missing_param":
        if first:
            advanced = without_value(advanced, setup.withheld_param)
        else:
            query = combined_query(query, setup.followup)
    elif setup.kind == "missing_func" and first:
        tools = [t for t in tools if t.name not in setup.hidden_tools]
    elif setup.kind == "irrelevance":
        tools = list(deps.specs(state.plan.suites).values())  # the session's tools, none of which fit
    return query, tools, advanced


async def check(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """The function-call checker: AST match, else state equivalence on a copy of the session."""
    deps = runtime.context
    assert state.trace is not None
    attempt = state.attempts[-1]
    i = _trace_step_index(state)
    no_call = _no_call_due(state)
    expected = [] if no_call else state.trace.steps[i].calls
    if attempt.parse_error:
        verdict = CheckVerdict(
            correct=False, error_type="call:parse_error", error_location="output", detail=attempt.parse_error
        )
    else:
        stated = reasoner_view(state, deps)[0].text if state.query is not None else ""
        env = deps.session(state.thread, state.plan.suites, state.env_state, state.plan.seed)
        verdict = check_calls(  # on forks of the session: it is not changed
            attempt.calls,
            expected,
            deps.specs(state.plan.suites),
            env=env,
            later_steps=[s.calls for s in state.trace.steps[i + (0 if no_call else 1) :]],
            stated=stated,
        )
        if verdict.correct and no_call and not attempt.reply.strip():
            verdict = CheckVerdict(
                correct=False,
                error_type="reply:empty",
                error_location="reply",
                detail="No call was due, but the answer says nothing to the user.",
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
    no_call = _no_call_due(state)
    truth = [] if no_call else state.trace.steps[_trace_step_index(state)].calls
    setup = state.setup
    env = deps.session(state.thread, state.plan.suites, state.env_state, state.plan.seed)
    before = env.snapshot()
    try:
        executed = [env.execute(c) for c in attempt.calls]
        env.restore(before)  # the wrong calls ran to show their results; the session is left as it was
    except BaseException:
        deps.moved(state.thread, None)
        raise
    query, tools, _ = reasoner_view(state, deps)
    reason = no_call_reason(setup) if no_call and setup is not None else ""

    def leaks(feedback: VerifierFeedback) -> list[str]:
        text = " ".join([feedback.corrective_hint, feedback.root_cause, *feedback.should_reconsider])
        withheld = (
            withheld_problems(text, setup.withheld_value)
            if setup is not None and setup.kind == "missing_param" and no_call
            else []
        )
        return hint_problems(text, truth, query) + withheld

    out = await call_guarded(
        lambda i: deps.agents.verifier.diagnose(
            VerifierInput(
                query=query,
                attempt=attempt,
                ground_truth=truth,
                execution_result=executed,
                verdict=verdict,
                tools=tools,
                no_call_reason=reason,
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
    if _no_call_due(state):  # the verified answer makes no call: nothing runs, the reply is the step
        reply = Step(
            index=state.step_index,
            calls=[],
            observations=[],
            cot=clean_cot(attempt),
            attempts=state.attempts,
            reply=attempt.reply.strip(),
        )
        return {"steps": [reply], "attempts": []}
    expected = state.trace.steps[_trace_step_index(state)]
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
    setup = state.setup
    if setup is not None and setup.kind == "irrelevance":
        return "summarize"  # the no-call answer ends the turn
    total = len(state.trace.steps) + (1 if setup is not None and setup.no_call_first else 0)
    return "reasoner" if state.step_index < total else "summarize"


async def summarize(state: GenerateState, runtime: Runtime[Deps]) -> Update:
    """Close the turn with the assistant's summary and file it in the history."""
    deps = runtime.context
    assert state.trace is not None and state.advanced_tool is not None and state.query is not None
    setup = state.setup
    if setup is not None and setup.kind == "irrelevance":
        return _close_turn(state, deps, summary="", usage=[])
    query, steps = reasoner_view(state, deps)[0], _call_steps(state)

    def ask(i: int) -> Awaitable[AgentResult[str]]:
        # Regeneration i > 0 after the length guard fired gets its own seed; the first keeps the old one.
        extra = (i,) if i else ()
        seed = derive_seed(state.plan.seed, "summary", state.turn_index, *extra)
        return deps.agents.summarizer.summarize(SummaryInput(query=query, steps=steps, seed=seed))

    out = await call_guarded(ask, summary_problems, deps.settings.pipeline.guard_retries)
    if out.value is None:
        return {**_discard("summarize", out.failure("guard:summary_length")), "usage": out.usage}
    return _close_turn(state, deps, summary=out.value, usage=out.usage)


def _close_turn(state: GenerateState, deps: Deps, summary: str, usage: list[TokenUsage]) -> Update:
    """File the finished turn (with its kind) in the history and clear the per-turn keys."""
    assert state.trace is not None and state.advanced_tool is not None and state.query is not None
    setup = state.setup
    trace = state.trace
    specs = deps.specs(state.plan.suites)
    extra: dict[str, Any] = {}
    if setup is not None:
        extra = {
            "kind": setup.kind,
            "unmade_kind": setup.unmade,
            "followup": setup.followup,
            "withheld_param": setup.withheld_param,
            "withheld_value": setup.withheld_value,
            "hidden_tools": setup.hidden_tools,
            "added_tools": [specs[n] for n in setup.hidden_tools if n in specs],
        }
        if setup.kind == "irrelevance":  # the foreign trace never ran in this session
            trace = Trace(target=trace.target)
    turn = Turn(
        index=state.turn_index,
        trace=trace,
        advanced_tool=state.advanced_tool,
        query=state.query,
        steps=state.steps,
        summary=summary,
        **extra,
    )
    return {
        "turns": [turn],
        "trace": None,
        "advanced_tool": None,
        "query": None,
        "steps": [],
        "setup": None,
        "usage": usage,
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
