"""Every tool of every built-in suite: its success and failure cases, and that none is left untested."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.suite_cases as suite_cases
from hardgen.environment import Environment, all_suites
from hardgen.schema import ToolCall
from tests.suite_cases import Case


def _load_cases() -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {}
    for info in pkgutil.iter_modules(suite_cases.__path__):
        module = importlib.import_module(f"tests.suite_cases.{info.name}")
        cases[info.name] = list(module.CASES)
    return cases


CASES = _load_cases()


def _case_id(suite: str, case: Case, i: int) -> str:
    return f"{suite}-{case.tool}-{case.id or ('ok' if case.ok else case.error_type)}-{i}"


PARAMS = [
    pytest.param(suite, case, id=_case_id(suite, case, i))
    for suite, suite_list in CASES.items()
    for i, case in enumerate(suite_list)
]


@pytest.mark.parametrize(("suite", "case"), PARAMS)
def test_tool_case(suite: str, case: Case) -> None:
    env = Environment.from_suites([suite])
    for tool, args in case.setup:
        obs = env.execute(ToolCall(name=tool, arguments=args))
        assert obs.ok, f"setup call {tool}({args}) failed: {obs.error}"
    obs = env.execute(ToolCall(name=case.tool, arguments=case.args))
    if case.ok:
        assert obs.ok, f"{case.tool}({case.args}) failed: {obs.error_type}: {obs.error}"
        assert isinstance(obs.output, dict)
        for key, value in case.expect.items():
            assert obs.output.get(key) == value, f"{key}: {obs.output.get(key)!r} != {value!r}"
    else:
        assert not obs.ok, f"{case.tool}({case.args}) should fail but returned {obs.output!r}"
        assert obs.error_type == case.error_type, obs.error
        assert obs.error


@pytest.mark.parametrize("suite", sorted(all_suites()))
def test_every_tool_has_success_and_failure_cases(suite: str) -> None:
    assert suite in CASES, f"no tests/suite_cases/{suite}.py"
    tools = set(all_suites()[suite].tool_names())
    ok = {c.tool for c in CASES[suite] if c.ok}
    failing = {c.tool for c in CASES[suite] if not c.ok}
    assert not tools - ok, f"tools without a success case: {sorted(tools - ok)}"
    assert not tools - failing, f"tools without a failure case: {sorted(tools - failing)}"
    unknown = (ok | failing) - tools
    assert not unknown, f"cases name tools the suite does not have: {sorted(unknown)}"
