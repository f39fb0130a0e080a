"""The declared dependencies of the calendar, analytics, games and maths suites are true.

A value edge ``before.output -> after.parameter`` holds when the output path exists in ``before``'s
successful output and a value found there is accepted by ``after`` in that parameter. A prerequisite edge
holds when ``after`` fails with ``tool:precondition`` until ``before`` ran, with otherwise valid arguments,
and succeeds once it did.

Outputs must not depend on the key order of the state either: the result store saves snapshots as
canonical (key-sorted) JSON, so an environment restored from it must answer exactly as the original.

The calls come from the suites' own success cases in ``tests/suite_cases``: a ``before`` case is run
(setup and call), then an ``after`` case's setup (skipping calls that already ran) and the ``after`` call
with the parameter replaced by the value read from the ``before`` output.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from hardgen.environment import Dependency, Environment, get_suite
from hardgen.schema import Observation, ToolCall, canonical_json
from tests.suite_cases import Case

SUITES = ("calendar", "analytics", "games", "maths")


def _cases(suite: str) -> list[Case]:
    return list(importlib.import_module(f"tests.suite_cases.{suite}").CASES)


def _successes(suite: str, tool: str) -> list[Case]:
    found = [c for c in _cases(suite) if c.tool == tool and c.ok]
    assert found, f"{suite}: no success case for {tool}"
    return found


def _edges(kind: str) -> Iterator[Any]:
    for suite in SUITES:
        for dep in get_suite(suite).dependencies:
            if dep.kind == kind:
                label = f"{dep.before}->{dep.after}" + (
                    f":{dep.output}->{dep.parameter}" if dep.parameter else ""
                )
                yield pytest.param(suite, dep, id=f"{suite}-{label}")


class _Runner:
    """A fresh single-suite environment that remembers which calls already ran."""

    def __init__(self, suite: str) -> None:
        self.env = Environment.from_suites([suite])
        self.done: set[str] = set()

    def call(self, tool: str, args: dict[str, Any]) -> Observation:
        self.done.add(_key(tool, args))
        return self.env.execute(ToolCall(name=tool, arguments=args))

    def setup(self, calls: tuple[tuple[str, dict[str, Any]], ...], skip_done: bool = True) -> None:
        for tool, args in calls:
            if skip_done and _key(tool, args) in self.done:
                continue
            obs = self.call(tool, args)
            assert obs.ok, f"setup call {tool}({args}) failed: {obs.error}"


def _key(tool: str, args: dict[str, Any]) -> str:
    return canonical_json([tool, args])


def _resolve(output: Any, path: str) -> list[Any]:
    """The values at a dotted path ("a.b", "items[].field"); fails when a key is missing."""
    current = [output]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        found: list[Any] = []
        for node in current:
            assert isinstance(node, dict) and key in node, f"{path!r}: no {key!r} in {node!r}"
            value = node[key]
            if many:
                assert isinstance(value, list), f"{path!r}: {key!r} is not a list"
                found.extend(value)
            else:
                found.append(value)
        current = found
    return current


def _fit(suite: str, tool: str, parameter: str, value: Any) -> Any:
    """Wrap a single value for a list parameter (an id fed into a list of ids)."""
    schema = get_suite(suite).specs()
    spec = next(s for s in schema if s.name == tool)
    prop = spec.properties[parameter]
    kinds = prop.get("type") if isinstance(prop, dict) else None
    wants_list = kinds == "array" or (isinstance(kinds, list) and "array" in kinds)
    return [value] if wants_list and not isinstance(value, list) else value


@pytest.mark.parametrize("suite", SUITES)
def test_declared_dependencies_name_real_tools_and_parameters(suite: str) -> None:
    cls = get_suite(suite)
    specs = {s.name: s for s in cls.specs()}
    assert cls.dependencies, f"{suite} declares no dependencies"
    for dep in cls.dependencies:
        assert dep.before in specs and dep.after in specs, dep
        if dep.kind == "value":
            assert dep.output, dep
            assert dep.parameter in specs[dep.after].properties, dep
        else:
            assert not dep.output and not dep.parameter, dep
    assert len(set(cls.dependencies)) == len(cls.dependencies), f"{suite} declares an edge twice"


@pytest.mark.parametrize(("suite", "dep"), list(_edges("value")))
def test_value_edge_output_feeds_parameter(suite: str, dep: Dependency) -> None:
    attempts: list[str] = []
    for before in _successes(suite, dep.before):
        runner = _Runner(suite)
        runner.setup(before.setup, skip_done=False)
        obs = runner.call(before.tool, before.args)
        assert obs.ok, f"{before.tool}({before.args}) failed: {obs.error}"
        values = _resolve(obs.output, dep.output)
        checkpoint = (runner.env.snapshot(), set(runner.done))
        for after in _successes(suite, dep.after):
            for value in values:
                runner.env.restore(checkpoint[0])
                runner.done = set(checkpoint[1])
                runner.setup(after.setup)
                args = {**after.args, dep.parameter: _fit(suite, dep.after, dep.parameter, value)}
                result = runner.call(after.tool, args)
                if result.ok:
                    return
                attempts.append(f"{after.tool}({args}) -> {result.error_type}: {result.error}")
    pytest.fail(
        f"no value of {dep.before}.{dep.output} was accepted by {dep.after}.{dep.parameter}:\n"
        + "\n".join(attempts)
    )


@pytest.mark.parametrize(("suite", "dep"), list(_edges("prerequisite")))
def test_prerequisite_edge_blocks_until_before_ran(suite: str, dep: Dependency) -> None:
    for after in _successes(suite, dep.after):
        tools = [tool for tool, _ in after.setup]
        assert dep.before in tools, f"{after.tool} succeeds in a case that never runs {dep.before} first"
        split = tools.index(dep.before)
        runner = _Runner(suite)
        runner.setup(after.setup[:split], skip_done=False)
        blocked = runner.call(after.tool, after.args)
        assert not blocked.ok and blocked.error_type == "tool:precondition", (
            f"{after.tool} before {dep.before}: {blocked.error_type}: {blocked.error or blocked.output}"
        )
        runner.setup(after.setup[split:], skip_done=False)
        unblocked = runner.call(after.tool, after.args)
        assert unblocked.ok, f"{after.tool} after {dep.before}: {unblocked.error_type}: {unblocked.error}"


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _reorder_state(env: Environment) -> None:
    """Restore the state with every object's keys in reverse order (sorted order would often be a no-op)."""
    env.restore(_reversed_keys(json.loads(canonical_json(env.snapshot()))))


@pytest.mark.parametrize("suite", SUITES)
def test_outputs_do_not_depend_on_state_key_order(suite: str) -> None:
    for case in _cases(suite):
        plain, resorted = _Runner(suite), _Runner(suite)
        _reorder_state(resorted.env)
        for runner in (plain, resorted):
            runner.setup(case.setup, skip_done=False)
        _reorder_state(resorted.env)
        want = plain.call(case.tool, case.args)
        got = resorted.call(case.tool, case.args)
        assert (got.output, got.error) == (want.output, want.error), (
            f"{case.tool}({case.args}) answers differently from reordered state"
        )
        assert resorted.env.state_hash() == plain.env.state_hash()
