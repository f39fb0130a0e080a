"""Phase I self-evaluation: which tools do the target models fail on?

For every tool: sample a trace that reaches it, abstract it (Tool Maker), ask for a hard query (Query
Generator), then let each target model act on the query with native tool calls against a fresh
environment, step by step. A target fails when its execution result differs from the trace's: the final
state differs, or the target tool's result never shows up among its observations. A tool joins the
failure set when all targets fail on it (the paper's rule; ``self_eval.rule: any`` is the alternative).

Faults follow the generation graph's rules: a target's transport failure is never its failure. A tool
whose thread met a transient endpoint fault is deferred (its checkpoint kept, the cause recorded) and
no failure statistics are saved until a resume has judged every tool; a permanent fault stops the run.
A thread is finished only when it was skipped or every target was judged: an interrupted one resumes
from its checkpoint, never judged half-done.

    START -> se_sample -> se_tool_maker -> se_query -> target_act <-> target_execute
                                                       target_act -> judge -> (next target) target_act | END
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from hardgen.agents.base import AgentError, EndpointFault, QueryInput, TargetInput, ToolMakerInput
from hardgen.environment.apigraph.sampler import GraphUpdates, Sampler
from hardgen.graphs.deps import Deps
from hardgen.graphs.nodes import call_guarded, primitive_specs
from hardgen.graphs.state import SelfEvalState, derive_seed, rng_for
from hardgen.graphs.threads import run_thread
from hardgen.guards import advanced_tool_problems, query_problems
from hardgen.schema import Step, Trace, TraceStep, canonical_json
from hardgen.store import ResultStore
from hardgen.tracing import thread_config, traced_node

log = logging.getLogger(__name__)
Update = dict[str, Any]
MAX_TRACE_CALLS = 6


def _truncate_at_target(trace: Trace, tool: str) -> Trace | None:
    steps: list[TraceStep] = []
    for step in trace.steps:
        steps.append(step)
        if any(c.name == tool for c in step.calls):
            return trace.model_copy(update={"steps": steps})
    return None


async def se_sample(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    deps = runtime.context
    env = deps.environment(state.suites, seed=state.seed)
    try:
        sampler = Sampler(
            deps.graph,
            env,
            rng_for(state.seed, "self_eval", state.tool),
            updates=GraphUpdates(),
            retries_per_call=deps.settings.sampling.retries_per_call,
            parallel_steps=deps.settings.sampling.parallel_steps,
        )
        trace = sampler.sample_trace(state.tool, MAX_TRACE_CALLS, called=set())
    finally:
        env.close()
    truncated = _truncate_at_target(trace, state.tool)
    if truncated is None:
        return {"skipped": "sample:target_unreachable"}
    replay = deps.environment(state.suites, truncated.initial_state)
    try:
        for call in truncated.calls:
            replay.execute(call)
        truncated = truncated.model_copy(update={"final_state_hash": replay.state_hash()})
    finally:
        replay.close()
    return {"trace": truncated, "env_state": truncated.initial_state}


async def se_tool_maker(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    deps = runtime.context
    trace = state.trace
    assert trace is not None
    tools = primitive_specs(trace, deps.specs(state.suites))
    out = await call_guarded(
        lambda i: deps.agents.tool_maker.make_tool(
            ToolMakerInput(
                trace=trace, tools=tools, seed=derive_seed(state.seed, "se_tool_maker", state.tool, i)
            )
        ),
        lambda t: advanced_tool_problems(t, trace),
        deps.settings.pipeline.guard_retries,
    )
    usage = [*state.usage, *out.usage]
    if out.value is None:
        skipped = f"tool_maker:{out.agent_error}" if out.agent_error else "guard:advanced_tool_leak"
        return {"skipped": skipped, "usage": usage}
    return {"advanced_tool": out.value, "usage": usage}


async def se_query(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    deps = runtime.context
    trace, tool = state.trace, state.advanced_tool
    assert trace is not None and tool is not None
    specs = deps.specs(state.suites)
    tools = primitive_specs(trace, specs)
    out = await call_guarded(
        lambda i: deps.agents.query_generator.make_query(
            QueryInput(
                advanced_tool=tool,
                trace=trace,
                tools=tools,
                seed=derive_seed(state.seed, "se_query", state.tool, i),
            )
        ),
        lambda q: query_problems(q, trace, list(specs)),
        deps.settings.pipeline.guard_retries,
    )
    usage = [*state.usage, *out.usage]
    if out.value is None:
        skipped = f"query:{out.agent_error}" if out.agent_error else "guard:query_leak"
        return {"skipped": skipped, "usage": usage}
    return {"query": out.value, "usage": usage}


def route_prepared(state: SelfEvalState) -> Literal["continue", "end"]:
    return "end" if state.skipped else "continue"


async def target_act(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    """The current target model's next move on the hard query (native tool calling)."""
    deps = runtime.context
    assert state.query is not None
    target = deps.targets[state.target_index]
    inp = TargetInput(
        query=state.query,
        tools=list(deps.specs(state.suites).values()),
        transcript=state.transcript,
        seed=derive_seed(state.seed, "target", state.tool, state.target_index, len(state.transcript)),
    )
    try:
        res = await target.act(inp)
    except AgentError as exc:
        return {"outcomes": {**state.outcomes, target.name: f"fail: {exc.reason}"}}
    action = res.value
    if not action.calls or len(state.transcript) >= deps.settings.self_eval.max_steps:
        return {"usage": [*state.usage, *res.usage], "outcomes": {**state.outcomes, target.name: "judge"}}
    step = Step(index=len(state.transcript), calls=action.calls, observations=[], cot=action.text)
    return {"transcript": [*state.transcript, step], "usage": [*state.usage, *res.usage]}


async def target_execute(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    deps = runtime.context
    step = state.transcript[-1]
    env = deps.environment(state.suites, state.env_state)
    try:
        observations = [env.execute(c) for c in step.calls]
        env_state = env.snapshot()
    finally:
        env.close()
    done = step.model_copy(update={"observations": observations})
    return {"transcript": [*state.transcript[:-1], done], "env_state": env_state}


def route_after_act(state: SelfEvalState, runtime: Runtime[Deps]) -> Literal["target_execute", "judge"]:
    name = runtime.context.targets[state.target_index].name
    return "judge" if name in state.outcomes else "target_execute"


async def judge(state: SelfEvalState, runtime: Runtime[Deps]) -> Update:
    """Compare the target's execution result with the trace's; then reset for the next target."""
    deps = runtime.context
    assert state.trace is not None
    name = deps.targets[state.target_index].name
    verdict = state.outcomes.get(name, "judge")
    if verdict == "judge":
        env = deps.environment(state.suites, state.env_state)
        try:
            same_state = env.state_hash() == state.trace.final_state_hash
        finally:
            env.close()
        wanted = state.trace.steps[-1].observations
        seen = {
            canonical_json([o.call.name, o.output]) for s in state.transcript for o in s.observations if o.ok
        }
        reached = all(canonical_json([o.call.name, o.output]) in seen for o in wanted)
        if same_state and reached:
            verdict = "pass"
        else:
            verdict = "fail: " + ("state differs" if not same_state else "target result not reached")
    return {
        "outcomes": {**state.outcomes, name: verdict},
        "target_index": state.target_index + 1,
        "transcript": [],
        "env_state": state.trace.initial_state,
    }


def route_after_judge(state: SelfEvalState, runtime: Runtime[Deps]) -> Literal["target_act", "__end__"]:
    return "target_act" if state.target_index < len(runtime.context.targets) else "__end__"


def build_self_eval_graph(checkpointer: Any = None) -> Any:
    g = StateGraph(SelfEvalState, context_schema=Deps)
    g.add_node("se_sample", se_sample)
    g.add_node("se_tool_maker", traced_node(se_tool_maker))
    g.add_node("se_query", traced_node(se_query))
    g.add_node("target_act", traced_node(target_act))
    g.add_node("target_execute", target_execute)
    g.add_node("judge", judge)
    g.add_edge(START, "se_sample")
    g.add_conditional_edges("se_sample", route_prepared, {"continue": "se_tool_maker", "end": END})
    g.add_conditional_edges("se_tool_maker", route_prepared, {"continue": "se_query", "end": END})
    g.add_conditional_edges("se_query", route_prepared, {"continue": "target_act", "end": END})
    g.add_conditional_edges("target_act", route_after_act)
    g.add_edge("target_execute", "target_act")
    g.add_conditional_edges("judge", route_after_judge)
    return g.compile(checkpointer=checkpointer)


async def run_self_eval(runner: Any, deps: Deps, store: ResultStore) -> dict[str, int]:
    """Evaluate every tool of the run's pool, record failure statistics into the graph, save it."""
    from hardgen.environment.backends import build_environment, suite_pool
    from hardgen.faults import RunDeferred
    from hardgen.runner import defer_or_stop, gather_or_stop

    settings = deps.settings
    pool = suite_pool(settings.environment)
    owner: dict[str, str] = {}
    for name in pool:
        env = build_environment([name], settings.environment)
        try:
            owner.update({t: name for t in env.tool_names})
        finally:
            env.close()
    done = {(tool, target) for tool, target, _f, _r in store.self_eval_results()}
    names = [t.name for t in deps.targets]
    todo = [tool for tool in sorted(owner) if any((tool, n) not in done for n in names)]
    sem = asyncio.Semaphore(settings.run.concurrency)
    counts = {"evaluated": 0, "skipped": 0}
    durability = settings.run.durability
    deferred: dict[str, str] = {}
    stop: list[EndpointFault] = []

    def finished(values: Any) -> bool:
        state = SelfEvalState.model_validate(values)
        return bool(state.skipped) or state.target_index >= len(names)

    async with runner.open_checkpointer() as saver:
        graph = build_self_eval_graph(checkpointer=None if durability == "none" else saver)

        async def one(tool: str) -> None:
            async with sem:
                if stop:
                    return
                thread = f"{runner.run_id}/self_eval/{tool}"
                work = f"self_eval/{tool}"
                try:
                    out = await run_thread(
                        graph,
                        saver,
                        thread,
                        lambda: _initial(runner, settings, tool, owner),
                        context=deps,
                        durability=durability,
                        is_finished=finished,
                        trace=thread_config(runner.run_id, "self_eval", tool=tool),
                    )
                except EndpointFault as fault:
                    defer_or_stop(fault, work, store, deferred, stop)
                    return
                store.undefer(work)
                state = SelfEvalState.model_validate(out)
                if state.skipped:
                    counts["skipped"] += 1
                    for n in names:
                        store.add_self_eval(tool, n, False, f"skipped: {state.skipped}")
                else:
                    counts["evaluated"] += 1
                    for n in names:
                        verdict = state.outcomes.get(n, "fail: no outcome")
                        store.add_self_eval(tool, n, verdict != "pass", verdict)
                if durability != "none" and not runner.keep_checkpoints:
                    await saver.adelete_thread(thread)
                runner.item_done(state.usage)

        runner.start_phase("phase I", len(owner), len(owner) - len(todo))
        await gather_or_stop([one(t) for t in todo], stop)
    if deferred:
        first = next(iter(deferred.values()))
        raise RunDeferred(
            f"Phase I deferred {len(deferred)} tool(s) after endpoint faults (first: {first}); "
            f"run the same command again, or 'hardgen resume {runner.dir.path}', once the endpoint answers"
        )
    # A run dir's graph.json with statistics was saved by a Phase I that finished over this same store
    # (a repeated self-eval, or one killed after saving): its verdicts are in it already.
    if not (runner.dir.graph.exists() and deps.graph.has_failure_stats):
        for tool, target, failed, reason in store.self_eval_results():
            if not reason.startswith("skipped"):
                deps.graph.record_outcome(tool, target, failed)
    deps.graph.save(runner.dir.graph)
    return counts


def _initial(runner: Any, settings: Any, tool: str, owner: dict[str, str]) -> SelfEvalState:
    return SelfEvalState(
        run_id=runner.run_id,
        tool=tool,
        seed=derive_seed(settings.run.seed, "self_eval", tool),
        suites=[owner[tool]],
    )
