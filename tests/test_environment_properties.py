"""Property: the snapshot is the whole state, for every registered suite.

After any sequence of calls, restoring the (JSON round-tripped) snapshot into a fresh environment gives the
same state hash, and both environments then answer any further sequence of calls with the same
observations and end in the same state. No plausible call crashes a tool (``env:tool_exception``).

Calls are drawn per suite from its specs (plausible arguments, with values taken from its entities) and
from its test cases taken whole (setup such as a login, then the call), so that sequences reach deep
states: sessions, bookings, orders, moved files.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardgen.environment import Environment, all_suites
from hardgen.schema import JSONDict, JsonValue, ToolCall, ToolSpec, canonical_json

SUITES = sorted(all_suites())
CRASHES = ("env:tool_exception", "env:bad_output", "env:timeout", "env:output_too_large")


@dataclass(frozen=True)
class Pools:
    specs: list[ToolSpec]
    entities: dict[str, list[JsonValue]]
    strings: list[str]
    cases: list[list[ToolCall]]


@cache
def pools(suite: str) -> Pools:
    env = Environment.from_suites([suite])
    entities = env.entities()
    strings = sorted({v for values in entities.values() for v in values if isinstance(v, str)}) or ["x"]
    try:
        module = importlib.import_module(f"tests.suite_cases.{suite}")
        cases = [
            [ToolCall(name=t, arguments=a) for t, a in (*c.setup, (c.tool, c.args))] for c in module.CASES
        ]
    except ModuleNotFoundError:
        cases = []
    return Pools(sorted(env.specs, key=lambda s: s.name), entities, strings, cases)


def _value(p: Pools, schema: JSONDict, param: str) -> st.SearchStrategy[Any]:
    if isinstance(schema.get("enum"), list):
        return st.sampled_from(schema["enum"])  # type: ignore[arg-type]
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(st.none(), *[_value(p, {**schema, "type": k}, param) for k in kind if k != "null"])
    pool = [v for v in p.entities.get(param, []) if not isinstance(v, bool)]
    if kind == "string":
        named = [v for v in pool if isinstance(v, str)]
        anything = st.one_of(st.sampled_from(p.strings), st.text(max_size=8))
        return st.one_of(st.sampled_from(named), anything) if named else anything
    if kind == "integer":
        ints = [v for v in pool if isinstance(v, int)]
        small = st.integers(min_value=-2, max_value=60)
        return st.one_of(st.sampled_from(ints), small) if ints else small
    if kind == "number":
        return st.one_of(
            st.integers(-5, 500), st.floats(-10, 10_000, allow_nan=False).map(lambda f: round(f, 2))
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = schema.get("items")
        return st.lists(_value(p, items if isinstance(items, dict) else {}, param), max_size=3)
    if kind == "object":
        return st.just({})
    return st.one_of(st.none(), st.integers(0, 5), st.sampled_from(p.strings))


@st.composite
def _spec_call(draw: st.DrawFn, p: Pools, spec: ToolSpec) -> list[ToolCall]:
    args: dict[str, Any] = {}
    for name, schema in spec.properties.items():
        if name in spec.required or draw(st.booleans()):
            args[name] = draw(_value(p, schema if isinstance(schema, dict) else {}, name))
    return [ToolCall(name=spec.name, arguments=args)]


def calls(suite: str) -> st.SearchStrategy[list[ToolCall]]:
    p = pools(suite)
    blocks = [
        st.sampled_from(p.specs).flatmap(lambda spec: _spec_call(p, spec)),
        st.just([ToolCall(name="no_such_tool", arguments={"bogus": 1})]),
    ]
    if p.cases:  # weighted: whole cases reach deep states, random calls mostly fail early
        blocks += [st.sampled_from(p.cases)] * 3
    return st.lists(st.one_of(*blocks), max_size=6).map(lambda bs: [c for block in bs for c in block])


@pytest.mark.parametrize("suite", SUITES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_restored_snapshot_behaves_exactly_like_the_original(suite: str, data: st.DataObject) -> None:
    original = Environment.from_suites([suite])
    for c in data.draw(calls(suite), label="prefix"):
        original.execute(c)
    snapshot = json.loads(json.dumps(original.snapshot()))

    restored = Environment.from_suites([suite])
    restored.restore(snapshot)
    assert restored.state_hash() == original.state_hash()

    for c in data.draw(calls(suite), label="suffix"):
        a, b = original.execute(c), restored.execute(c)
        assert a.model_dump() == b.model_dump(), c.render()
        assert a.error_type not in CRASHES, f"{c.render()}: {a.error}"  # plausible input never crashes a tool
    assert restored.state_hash() == original.state_hash()


# Suites whose answers do not depend on the order of keys in their state: a store that keeps state as
# canonical JSON (sorted keys) and restores it later must see the same observations and entities.
KEY_ORDER_FREE = ("banking", "trading", "filesystem", "messaging")


@pytest.mark.parametrize("suite", KEY_ORDER_FREE)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_answers_do_not_depend_on_key_order_of_the_state(suite: str, data: st.DataObject) -> None:
    original = Environment.from_suites([suite])
    for c in data.draw(calls(suite), label="prefix"):
        original.execute(c)
    restored = Environment.from_suites([suite])
    restored.restore(json.loads(canonical_json(original.snapshot())))
    assert restored.entities() == original.entities()
    for c in data.draw(calls(suite), label="suffix"):
        a, b = original.execute(c), restored.execute(c)
        assert canonical_json(a.model_dump()) == canonical_json(b.model_dump()), c.render()
