"""The dependencies the banking, trading, filesystem, messaging and travel suites declare are true.

Checked by executing them, with the per-suite cases (tests/suite_cases) as scenarios:

* prerequisite edge (before, after): some success case of ``after`` has ``before`` among its setup calls;
  with those ``before`` calls left out, ``after`` fails with ``tool:precondition``.
* value edge (before, after, output, parameter): a success case of ``before`` yields a value at the path
  ``output`` ("a.b", "items[].field", "names[]"), and a success case of ``after`` still succeeds with that
  value as ``parameter`` (before's calls run first, or after's setup runs first). Edges the cases cannot
  show get an explicit scenario in ``EXPLICIT``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from hardgen.environment import Dependency, Environment, get_suite
from hardgen.schema import ToolCall
from tests.suite_cases import Case

SUITES = ("banking", "trading", "filesystem", "messaging", "travel")
Calls = tuple[tuple[str, dict[str, Any]], ...]

# (before, after, output, parameter) -> (setup, before's args, after's args without the parameter)
EXPLICIT: dict[tuple[str, str, str, str], tuple[Calls, dict[str, Any], dict[str, Any]]] = {
    ("mkdir", "mv", "dir_name", "destination"): ((), {"dir_name": "old"}, {"source": "README.md"}),
    ("mkdir", "cp", "dir_name", "destination"): ((), {"dir_name": "old"}, {"source": "README.md"}),
    ("touch", "echo", "file_name", "file_name"): ((), {"file_name": "log.txt"}, {"content": "started"}),
    ("echo", "cat", "file_name", "file_name"): ((), {"content": "hi", "file_name": "hi.txt"}, {}),
    ("list_stock_orders", "cancel_stock_order", "orders[].order_id", "order_id"): (
        (("trading_login", {"username": "jwilson", "password": "Bull$Market1"}),),
        {"status": "open"},
        {},
    ),
}


def cases(suite: str) -> list[Case]:
    return list(importlib.import_module(f"tests.suite_cases.{suite}").CASES)


def resolve(output: Any, path: str) -> list[Any]:
    """Every value at ``path`` in ``output``."""
    found = [output]
    for part in path.split("."):
        is_list = part.endswith("[]")
        key = part[:-2] if is_list else part
        step = []
        for node in found:
            value = node.get(key) if isinstance(node, dict) and key else node
            if is_list:
                step.extend(value if isinstance(value, list) else [])
            elif value is not None:
                step.append(value)
        found = step
    return found


def execute(env: Environment, tool: str, args: dict[str, Any]) -> Any:
    obs = env.execute(ToolCall(name=tool, arguments=args))
    return obs


def run_all(env: Environment, calls: Calls) -> bool:
    return all(execute(env, t, a).ok for t, a in calls)


def edges(kind: str) -> list[Any]:
    return [
        pytest.param(
            suite,
            dep,
            id=f"{suite}:{dep.before}->{dep.after}" + (f".{dep.parameter}" if dep.parameter else ""),
        )
        for suite in SUITES
        for dep in get_suite(suite).dependencies
        if dep.kind == kind
    ]


@pytest.mark.parametrize(("suite", "dep"), edges("prerequisite"))
def test_prerequisite_edge_blocks_until_before_ran(suite: str, dep: Dependency) -> None:
    candidates = [
        c for c in cases(suite) if c.tool == dep.after and c.ok and any(t == dep.before for t, _ in c.setup)
    ]
    assert candidates, f"no success case of {dep.after} runs {dep.before} first"
    errors = []
    for case in candidates:
        env = Environment.from_suites([suite])
        for tool, args in case.setup:
            if tool != dep.before:
                execute(env, tool, args)  # steps that need `before` may fail here; that is fine
        obs = execute(env, case.tool, case.args)
        if obs.error_type == "tool:precondition":
            return
        errors.append(f"{case.args}: {obs.error_type or 'ok'}")
    pytest.fail(f"{dep.after} does not fail with tool:precondition without {dep.before}: {errors}")


@pytest.mark.parametrize(("suite", "dep"), edges("value"))
def test_value_edge_output_feeds_the_parameter(suite: str, dep: Dependency) -> None:
    key = (dep.before, dep.after, dep.output, dep.parameter)
    if key in EXPLICIT:
        setup, before_args, after_args = EXPLICIT[key]
        env = Environment.from_suites([suite])
        assert run_all(env, setup)
        obs = execute(env, dep.before, before_args)
        assert obs.ok, obs.error
        values = resolve(obs.output, dep.output)
        assert values, f"{dep.before} output has nothing at {dep.output}: {obs.output}"
        after = execute(env, dep.after, {**after_args, dep.parameter: values[0]})
        assert after.ok, after.error
        return
    befores = [c for c in cases(suite) if c.tool == dep.before and c.ok]
    afters = [c for c in cases(suite) if c.tool == dep.after and c.ok]
    assert befores and afters
    seen_values: list[Any] = []
    for b in befores:
        for a in afters:
            for order in ("before-first", "after-setup-first"):
                env = Environment.from_suites([suite])
                if order == "after-setup-first" and not run_all(env, a.setup):
                    continue
                if not run_all(env, b.setup):
                    continue
                obs = execute(env, b.tool, b.args)
                if not obs.ok:
                    continue
                values = resolve(obs.output, dep.output)
                seen_values.extend(values)
                if order == "before-first" and not run_all(env, a.setup):
                    continue
                snapshot = env.snapshot()
                for value in values:
                    env.restore(snapshot)
                    if execute(env, a.tool, {**a.args, dep.parameter: value}).ok:
                        return
    assert seen_values, f"no success case of {dep.before} has a value at {dep.output!r}"
    pytest.fail(f"no value of {dep.before}.{dep.output} ({seen_values[:5]}) made a {dep.after} case succeed")
