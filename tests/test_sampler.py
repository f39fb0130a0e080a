"""The hard-trace Sampler: each branch of eq. (2), legality, replay, determinism, learning from execution."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from hardgen.environment import Backend, Dependency, Environment, Suite, ToolError
from hardgen.environment.apigraph.graph import APIGraph, GraphUpdates
from hardgen.environment.apigraph.sampler import Sampler, probe_graph
from hardgen.schema import JSONDict, Observation, ToolSpec, Trace


class Shop(Suite):
    """A small suite: a city's code leads to an item (with a session), an item can be finished."""

    name = "shop"
    domain = "demo"
    description = "Look up codes, fetch and finish items."
    default_state: ClassVar[dict[str, Any]] = {
        "accounts": {"ann": {"password": "pw-ann"}, "bob": {"password": "pw-bob"}},
        "session_user": None,
        "cities": {"Rivermist": {"code": "RM1"}, "Stonebrook": {"code": "SB2"}},
        "items": {},
        "next_id": 100,
    }
    dependencies = (
        Dependency("open_session", "fetch_item", "prerequisite"),
        Dependency("city_code", "fetch_item", "value", "code", "code"),
        Dependency("fetch_item", "finish_item", "value", "item_id", "item_id"),
    )

    def open_session(self, username: str, password: str) -> dict:
        """Open a session for an account.

        Args:
            username: The account's username.
            password: The account's password.

        Returns:
            The username.
        """
        account = self.accounts.get(username)
        if account is None or account["password"] != password:
            raise ToolError("Wrong username or password.", "permission")
        self.session_user = username
        return {"username": username}

    def city_code(self, city: str) -> dict:
        """Look up the code of a city.

        Args:
            city: The city's name.

        Returns:
            The city's code.
        """
        if city not in self.cities:
            raise ToolError(f"No city named {city!r}.", "not_found")
        return {"city": city, "code": self.cities[city]["code"]}

    def fetch_item(self, code: str) -> dict:
        """Fetch a new item for a city code; needs an open session.

        Args:
            code: A city code.

        Returns:
            The new item's id.
        """
        if not self.session_user:
            raise ToolError("No session: open a session with a username first.", "precondition")
        if code not in {c["code"] for c in self.cities.values()}:
            raise ToolError(f"Unknown code {code!r}.", "not_found")
        self.next_id += 1
        item_id = f"IT{self.next_id}"
        self.items[item_id] = {"code": code, "done": False}
        return {"item_id": item_id}

    def finish_item(self, item_id: str) -> dict:
        """Finish an item.

        Args:
            item_id: The item's id.

        Returns:
            The item's id and status.
        """
        if item_id not in self.items:
            raise ToolError(f"No item {item_id!r}.", "not_found")
        self.items[item_id]["done"] = True
        return {"item_id": item_id, "status": "done"}

    def ping(self) -> dict:
        """Check that the shop answers.

        Returns:
            A pong.
        """
        return {"pong": True}


def shop_env() -> Environment:
    return Environment([Shop()])


@pytest.fixture
def shop_graph() -> APIGraph:
    return APIGraph.from_environment(shop_env())


def sample(graph: APIGraph, seed: int, target: str | None, m: int, **kwargs: Any) -> tuple[Trace, Sampler]:
    sampler = Sampler(graph, shop_env(), random.Random(seed), **kwargs)
    return sampler.sample_trace(target, m), sampler


# ------------------------------------------------------------------------------------------ eq. (2)


def test_the_target_is_called_first_when_it_is_legal(shop_graph: APIGraph) -> None:
    for seed in range(5):
        trace, _ = sample(shop_graph, seed, "city_code", 1)
        assert trace.tool_names == ["city_code"]
        assert trace.target == "city_code"


def test_otherwise_the_legal_tool_nearest_the_target_comes_first(shop_graph: APIGraph) -> None:
    # finish_item needs fetch_item (needs open_session and city_code) and, here, ping: ping is nearest
    shop_graph.add_edge("ping", "finish_item", kind="prerequisite", origin="declared")
    firsts = {sample(shop_graph, seed, "finish_item", 1)[0].tool_names[0] for seed in range(8)}
    assert firsts == {"ping"}


def test_ties_in_distance_are_broken_by_the_seed(shop_graph: APIGraph) -> None:
    firsts = Counter(sample(shop_graph, seed, "finish_item", 1)[0].tool_names[0] for seed in range(16))
    assert set(firsts) == {"open_session", "city_code"}  # both at distance 2; never ping (no path)


def test_the_walk_reaches_the_target_through_its_requirements(shop_graph: APIGraph) -> None:
    trace, _ = sample(shop_graph, 3, "finish_item", 1)
    names = trace.tool_names
    assert names[-1] == "finish_item"
    assert sorted(names[:2]) == ["city_code", "open_session"]
    assert names[2] == "fetch_item"
    calls = trace.calls
    assert calls[2].arguments["code"] == trace.observations[names.index("city_code")].output["code"]  # type: ignore[index,call-overload]
    assert calls[3].arguments["item_id"] == trace.observations[2].output["item_id"]  # type: ignore[index,call-overload]


def test_after_the_target_any_legal_tool_may_follow(shop_graph: APIGraph) -> None:
    seconds = Counter()
    for seed in range(30):
        trace, _ = sample(shop_graph, seed, "city_code", 2)
        assert trace.tool_names[0] == "city_code" and len(trace.calls) == 2
        called = {"city_code"}
        second = trace.tool_names[1]
        assert shop_graph.is_legal(second, called)
        seconds[second] += 1
    assert {"ping", "open_session"} <= set(seconds)  # uniform over the legal tools, not just neighbours
    assert "finish_item" not in seconds  # never legal here


def test_the_connected_option_keeps_the_walk_near_what_was_called(shop_graph: APIGraph) -> None:
    after: dict[str, set[str]] = {"uniform": set(), "connected": set()}
    for mode, names in after.items():
        for seed in range(25):
            trace, _ = sample(shop_graph, seed, "fetch_item", 4, after_target=mode)
            names.update(trace.tool_names[3:])
    assert "ping" in after["uniform"]  # eq. (2) as written: any legal tool
    assert "ping" not in after["connected"]  # ping has no edge to anything called
    assert after["connected"] <= {"finish_item", "open_session", "city_code", "fetch_item"}


def test_a_target_called_in_an_earlier_turn_makes_the_walk_random(shop_graph: APIGraph) -> None:
    names = set()
    for seed in range(10):
        sampler = Sampler(shop_graph, shop_env(), random.Random(seed))
        trace = sampler.sample_trace("city_code", 1, called={"city_code"})
        names.update(trace.tool_names)
    assert len(names) > 1


# ---------------------------------------------------------------------------------------- sessions


def test_called_is_updated_in_place_and_history_feeds_the_next_turn(shop_graph: APIGraph) -> None:
    env = shop_env()
    sampler = Sampler(shop_graph, env, random.Random(1))
    called: set[str] = set()
    first = sampler.sample_trace("fetch_item", 3, called)
    assert {"open_session", "city_code", "fetch_item"} <= called
    item = next(o.output["item_id"] for o in first.observations if o.call.name == "fetch_item")  # type: ignore[index,call-overload]
    second = sampler.sample_trace("finish_item", 1, called, history=first.observations)
    assert second.tool_names == ["finish_item"]  # legal already: fetch_item ran in turn 1
    assert second.calls[0].arguments == {"item_id": item}
    assert second.initial_state != first.initial_state  # turn 2 starts where turn 1 left the session


def test_traces_hold_only_successful_calls_and_replay_exactly(shop_graph: APIGraph) -> None:
    for seed in range(10):
        trace, _ = sample(shop_graph, seed, None, 3)
        assert all(o.ok for o in trace.observations)
        assert_replays(trace, shop_env)


def test_same_seed_same_trace_and_the_graph_is_only_read(shop_graph: APIGraph) -> None:
    before = shop_graph.fingerprint()
    a, sa = sample(shop_graph, 7, "finish_item", 4)
    b, sb = sample(shop_graph, 7, "finish_item", 4)
    assert a.model_dump() == b.model_dump()
    assert sa.updates == sb.updates
    assert shop_graph.fingerprint() == before
    assert sa.updates.executions["fetch_item"].ok >= 1


def test_choose_target_draws_failure_tools_by_failure_rate(shop_graph: APIGraph) -> None:
    sampler = Sampler(shop_graph, shop_env(), random.Random(0))
    assert {sampler.choose_target() for _ in range(60)} == set(shop_graph.tools)  # no statistics yet
    for _ in range(2):
        shop_graph.record_outcome("finish_item", "m1", failed=True)
        shop_graph.record_outcome("ping", "m1", failed=False)
    shop_graph.record_outcome("city_code", "m1", failed=True)
    shop_graph.record_outcome("city_code", "m1", failed=False)
    drawn = Counter(sampler.choose_target() for _ in range(300))
    assert set(drawn) == {"finish_item", "city_code"}  # the failure set (rule "all")
    assert drawn["finish_item"] > drawn["city_code"]  # rate 1.0 against 0.5
    assert sampler.sample_trace(None, 2).target in {"finish_item", "city_code"}


def test_an_unreachable_target_is_not_drawn(shop_graph: APIGraph) -> None:
    sampler = Sampler(shop_graph, shop_env(), random.Random(0), max_calls=2)
    assert "finish_item" not in {sampler.choose_target() for _ in range(80)}  # needs 4 calls


# ----------------------------------------------------------------------------------------- learning


def test_a_precondition_failure_leads_to_the_missing_tool_and_is_learned() -> None:
    graph = APIGraph.from_environment(shop_env(), declared=False, infer=False)
    trace, sampler = sample(graph, 0, "fetch_item", 1)
    names = trace.tool_names
    assert names.index("open_session") < names.index("fetch_item")
    learned = {(e.before, e.after, e.kind) for e in sampler.updates.edges}
    assert ("open_session", "fetch_item", "prerequisite") in learned
    assert len(trace.steps[-1].calls) == 1  # it needed the session: not in the same parallel step
    graph.apply(sampler.updates)
    assert graph.prerequisites("fetch_item") == {"open_session"}


def test_values_found_in_earlier_outputs_teach_edges_and_mappings() -> None:
    graph = APIGraph.from_environment(shop_env(), declared=False, infer=False)
    graph.add_edge("open_session", "fetch_item", kind="prerequisite", origin="declared")
    graph.add_edge("fetch_item", "finish_item", kind="prerequisite", origin="declared")
    updates = GraphUpdates()
    for seed in range(6):
        Sampler(graph, shop_env(), random.Random(seed), updates=updates).sample_trace("finish_item", 4)
    learned = {(e.before, e.after): e for e in updates.edges if e.kind == "value"}
    assert ("fetch_item", "finish_item") in learned
    assert learned[("fetch_item", "finish_item")].mappings[0].output == "item_id"
    finished = updates.values_for("finish_item", "item_id")
    assert finished is not None and finished.ok


def test_probing_refutes_inferred_prerequisites_a_tool_does_not_need() -> None:
    graph = APIGraph.from_environment(shop_env(), declared=False, trust_inferred="always")
    inferred = {
        a for a in graph.g.pred["city_code"] if "prerequisite" in graph.g.edges[a, "city_code"]["kinds"]
    }
    assert "open_session" in inferred  # the suite has a log-in tool: inference assumes every tool needs it
    graph.apply(probe_graph(graph, shop_env, seed=1))
    assert "open_session" not in graph.prerequisites("city_code")  # it worked without a session
    assert "open_session" in graph.prerequisites("fetch_item")  # it did not


# ------------------------------------------------------------------------------------- parallel steps


def test_independent_calls_form_one_step_as_in_the_papers_figure_8() -> None:
    env = Environment.from_suites(["travel"])
    graph = APIGraph.from_environment(env)
    found = False
    for seed in range(8):
        env = Environment.from_suites(["travel"])
        trace = Sampler(graph, env, random.Random(seed), max_calls=10).sample_trace("book_flight", 3)
        for step in trace.steps:
            names = [c.name for c in step.calls]
            if names.count("get_zipcode") == 2:
                found = True
            assert_independent(step.calls, step.observations)
        assert_replays(trace, lambda: Environment.from_suites(["travel"]))
    assert found


def test_parallel_steps_can_be_switched_off() -> None:
    graph = APIGraph.from_environment(Environment.from_suites(["travel"]))
    for seed in range(3):
        env = Environment.from_suites(["travel"])
        trace = Sampler(graph, env, random.Random(seed), parallel_steps=False).sample_trace("book_flight", 3)
        assert all(len(step.calls) == 1 for step in trace.steps)


# ----------------------------------------------------------------------------------- property tests


class FlagBackend(Backend):
    """Parameterless tools t0..tn; a tool fails (precondition) until all its prerequisites ran."""

    domain = "demo"

    def __init__(self, prereqs: Mapping[int, set[int]], n: int) -> None:
        self.name = "flags"
        self.n = n
        self.prereqs = {i: set(prereqs.get(i, set())) for i in range(n)}
        self.done: list[int] = []
        self.dependencies = tuple(
            Dependency(f"t{j}", f"t{i}", "prerequisite") for i in range(n) for j in sorted(self.prereqs[i])
        )

    def tool_specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(
                name=f"t{i}",
                description=f"Step {i}.",
                parameters={"type": "object", "properties": {}, "required": []},
                suite=self.name,
                domain=self.domain,
            )
            for i in range(self.n)
        ]

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        i = int(tool[1:])
        missing = sorted(j for j in self.prereqs[i] if j not in self.done)
        if missing:
            raise ToolError(f"Run t{missing[0]} first.", "precondition")
        self.done.append(i)
        return {"step": i, "seq": len(self.done)}

    def snapshot(self) -> JSONDict:
        return {"state": {"done": list(self.done)}}

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        state = snapshot["state"]
        assert isinstance(state, dict) and isinstance(state["done"], list)
        self.done = [int(x) for x in state["done"]]  # type: ignore[arg-type]

    def fork(self) -> FlagBackend:
        twin = FlagBackend(self.prereqs, self.n)
        twin.restore(self.snapshot())
        return twin


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, dict[int, set[int]]]:
    n = draw(st.integers(min_value=2, max_value=7))
    prereqs = {
        i: draw(st.sets(st.integers(min_value=0, max_value=i - 1), max_size=2)) if i else set()
        for i in range(n)
    }
    return n, prereqs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag=dags(), seed=st.integers(min_value=0, max_value=10_000), m=st.integers(min_value=1, max_value=5))
def test_sampled_traces_never_call_a_tool_before_its_prerequisites(
    dag: tuple[int, dict[int, set[int]]], seed: int, m: int
) -> None:
    n, prereqs = dag

    def fresh() -> Environment:
        return Environment([FlagBackend(prereqs, n)])

    graph = APIGraph.from_environment(fresh(), infer=False)
    env = fresh()
    sampler = Sampler(graph, env, random.Random(seed), max_calls=n + 2)
    called: set[str] = set()
    for _turn in range(2):
        seen = set(called)
        trace = sampler.sample_trace(None, m, called)
        assert seen | set(trace.tool_names) == called
        for step in trace.steps:
            start = set(seen)
            for call in step.calls:
                need = {f"t{j}" for j in prereqs[int(call.name[1:])]}
                assert need <= start, f"{call.name} before {sorted(need - start)}"
            seen |= {c.name for c in step.calls}
        assert_replays(trace, fresh)
    assert all(
        count.failed == 0 for count in sampler.updates.executions.values()
    )  # never tried an illegal call


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), m=st.integers(min_value=1, max_value=5))
def test_traces_on_real_suites_respect_prerequisites_and_replay(seed: int, m: int) -> None:
    suites = ["travel", "banking"]
    graph = _real_graph(tuple(suites))
    env = Environment.from_suites(suites)
    trace = Sampler(graph, env, random.Random(seed)).sample_trace(None, m)
    seen: set[str] = set()
    for step in trace.steps:
        start = set(seen)
        for call in step.calls:
            assert graph.is_legal(call.name, start), call.name
        seen |= {c.name for c in step.calls}
    assert_replays(trace, lambda: Environment.from_suites(suites))


_GRAPHS: dict[tuple[str, ...], APIGraph] = {}


def _real_graph(suites: tuple[str, ...]) -> APIGraph:
    if suites not in _GRAPHS:
        _GRAPHS[suites] = APIGraph.from_environment(Environment.from_suites(list(suites)))
    return _GRAPHS[suites]


# -------------------------------------------------------------------------------------------- helpers


def assert_replays(trace: Trace, fresh: Any) -> None:
    """Re-execute the trace's calls on a fresh environment restored from its initial state."""
    env = fresh()
    env.restore(trace.initial_state)
    for call, observation in zip(trace.calls, trace.observations, strict=True):
        again = env.execute(call)
        assert again == observation, f"{call.render()}: {again.output!r} != {observation.output!r}"
    assert env.state_hash() == trace.final_state_hash


def assert_independent(calls: list[Any], observations: list[Observation]) -> None:
    """No call of a parallel step takes a value an earlier call of the same step returned."""
    for i, call in enumerate(calls):
        for earlier in observations[:i]:
            produced = earlier.output.values() if isinstance(earlier.output, dict) else []
            assert not set(map(str, call.arguments.values())) & set(map(str, produced)), call.render()
