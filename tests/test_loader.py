"""Loading agent implementations by name, with one clear error for every way a name can be wrong."""

from __future__ import annotations

import functools
import subprocess
import sys
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hardgen.agents.base import (
    AgentResult,
    ReasonerInput,
    TargetAction,
    TargetInput,
)
from hardgen.agents.loader import Agents, load_agent, load_agents, load_targets
from hardgen.config import AgentConfig, AgentsConfig, ConfigError, TargetConfig
from hardgen.schema import ReasoningAttempt

# --------------------------------------------------------------------------- implementations under test


class Recorder:
    """Keeps what the loader passed to the constructor."""

    def __init__(self, config: AgentConfig, role: str) -> None:
        self.config = config
        self.role = role


class GoodReasoner(Recorder):
    async def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]:
        return AgentResult(ReasoningAttempt(attempt=inp.attempt))


class AnyRole(Recorder):
    """Fits every role of the generation pipeline."""

    async def make_tool(self, inp: object) -> None: ...
    async def make_query(self, inp: object) -> None: ...
    async def reason(self, inp: object) -> None: ...
    async def diagnose(self, inp: object) -> None: ...
    async def summarize(self, inp: object) -> None: ...


class SyncReasoner(Recorder):
    def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]:
        return AgentResult(ReasoningAttempt(attempt=1))


class NoMethod(Recorder):
    async def think(self, inp: ReasonerInput) -> None: ...


class AttributeNotMethod(Recorder):
    reason = "yes"


def logged(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Awaitable[Any]:
        return func(*args, **kwargs)

    return wrapper


class DecoratedReasoner(Recorder):
    @logged
    async def reason(self, inp: ReasonerInput) -> None: ...


class _AsyncCallable:
    async def __call__(self, inp: ReasonerInput) -> None: ...


class CallableObjectReasoner(Recorder):
    def __init__(self, config: AgentConfig, role: str) -> None:
        super().__init__(config, role)
        self.reason = _AsyncCallable()


class BrokenConstructor:
    def __init__(self, config: AgentConfig, role: str) -> None:
        raise RuntimeError("endpoint URL is malformed")


class RejectsConfig:
    def __init__(self, config: AgentConfig, role: str) -> None:
        raise ConfigError("model must be set for the llm reasoner")


class WrongSignature:
    def __init__(self) -> None:
        pass


class Target(Recorder):
    def __init__(self, config: AgentConfig, role: str) -> None:
        super().__init__(config, role)
        self.name = config.name if isinstance(config, TargetConfig) else "?"

    async def act(self, inp: TargetInput) -> AgentResult[TargetAction]:
        return AgentResult(TargetAction())


class NamelessTarget(Recorder):
    async def act(self, inp: TargetInput) -> AgentResult[TargetAction]:
        return AgentResult(TargetAction())


def impl(cls: type) -> AgentConfig:
    return AgentConfig(impl=f"tests.test_loader:{cls.__qualname__}", model="m", options={"k": 1})


# ------------------------------------------------------------------------------------------- loading


def test_custom_class_is_constructed_with_config_and_role() -> None:
    config = impl(GoodReasoner)
    agent = load_agent("reasoner", config)
    assert isinstance(agent, GoodReasoner)
    assert (agent.config, agent.role) == (config, "reasoner")


@pytest.mark.parametrize("cls", [DecoratedReasoner, CallableObjectReasoner])
def test_async_methods_behind_decorators_or_callables_are_accepted(cls: type) -> None:
    assert isinstance(load_agent("reasoner", impl(cls)), cls)


def test_load_agents_builds_all_five_roles() -> None:
    config = AgentsConfig(
        tool_maker=impl(AnyRole),
        query_generator=impl(AnyRole),
        reasoner=impl(GoodReasoner),
        verifier=impl(AnyRole),
        summarizer=impl(AnyRole),
    )
    agents = load_agents(config)
    assert isinstance(agents, Agents)
    assert isinstance(agents.reasoner, GoodReasoner)
    roles = [
        getattr(agents, r).role
        for r in ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
    ]
    assert roles == ["tool_maker", "query_generator", "reasoner", "verifier", "summarizer"]


@pytest.mark.parametrize(("impl_name", "prefix"), [("offline", "Offline"), ("llm", "LLM")])
def test_builtin_names_map_to_role_classes(
    monkeypatch: pytest.MonkeyPatch, impl_name: str, prefix: str
) -> None:
    fake = types.ModuleType(f"hardgen.agents.{impl_name}")
    for suffix, base in [("Reasoner", GoodReasoner), ("Verifier", AnyRole), ("TargetModel", Target)]:
        setattr(fake, prefix + suffix, type(prefix + suffix, (base,), {}))
    monkeypatch.setitem(sys.modules, f"hardgen.agents.{impl_name}", fake)
    agent = load_agent("reasoner", AgentConfig(impl=impl_name))
    assert type(agent).__name__ == f"{prefix}Reasoner" and agent.role == "reasoner"  # type: ignore[attr-defined]
    assert type(load_agent("target", TargetConfig(impl=impl_name))).__name__ == f"{prefix}TargetModel"
    with pytest.raises(ConfigError) as err:
        load_agent("summarizer", AgentConfig(impl=impl_name))
    assert str(err.value).startswith(
        f"agents.summarizer.impl: module 'hardgen.agents.{impl_name}' has no class '{prefix}Summarizer'"
    )


def test_the_loader_imports_without_the_builtin_implementations() -> None:
    code = (
        "import sys, hardgen.agents.loader\n"
        "assert 'hardgen.agents.offline' not in sys.modules and 'hardgen.agents.llm' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -------------------------------------------------------------------------------------------- errors


def load_error(role: str, config: AgentConfig) -> str:
    with pytest.raises(ConfigError) as err:
        load_agent(role, config)
    return str(err.value)


def test_missing_module() -> None:
    message = load_error("reasoner", AgentConfig(impl="no_such_pkg.agents:Reasoner"))
    assert message == (
        "agents.reasoner.impl: cannot import module 'no_such_pkg.agents' (no module 'no_such_pkg'; "
        "is it installed, and is the name spelled right?)"
    )


def test_module_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_agents_mod.py").write_text("raise RuntimeError('needs an API key at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_agents_mod", raising=False)
    message = load_error("verifier", AgentConfig(impl="broken_agents_mod:Verifier"))
    assert message == (
        "agents.verifier.impl: importing module 'broken_agents_mod' failed: "
        "RuntimeError: needs an API key at import"
    )


def test_missing_class_lists_what_the_module_has() -> None:
    message = load_error("reasoner", AgentConfig(impl="tests.test_loader:Reasoner"))
    assert message.startswith(
        "agents.reasoner.impl: module 'tests.test_loader' has no class 'Reasoner'; it defines: "
    )
    assert "GoodReasoner" in message


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (NoMethod, "is not a reasoner agent: it has no method reason()"),
        (SyncReasoner, "is not a reasoner agent: reason() must be 'async def'"),
        (AttributeNotMethod, "is not a reasoner agent: reason is not a method"),
    ],
)
def test_class_that_does_not_fit_the_role(cls: type, problem: str) -> None:
    assert (
        load_error("reasoner", impl(cls))
        == f"agents.reasoner: tests.test_loader:{cls.__qualname__} {problem}"
    )


def test_constructor_failures() -> None:
    assert load_error("reasoner", impl(BrokenConstructor)) == (
        "agents.reasoner: tests.test_loader:BrokenConstructor(config, role) failed: RuntimeError: "
        "endpoint URL is malformed"
    )
    assert (
        load_error("reasoner", impl(RejectsConfig))
        == "agents.reasoner: model must be set for the llm reasoner"
    )
    assert "WrongSignature(config, role) failed: TypeError" in load_error("reasoner", impl(WrongSignature))


def test_not_a_class_and_unknown_role() -> None:
    assert load_error("reasoner", AgentConfig(impl="tests.test_loader:GOOD")) == (
        "agents.reasoner.impl: tests.test_loader:GOOD is not a class"
    )
    assert load_error("planner", impl(GoodReasoner)).startswith("agents.planner: unknown role 'planner'")


GOOD = "a string, not a class"


# ------------------------------------------------------------------------------------------- targets


def target(name: str, cls: type = Target) -> TargetConfig:
    return TargetConfig(impl=f"tests.test_loader:{cls.__qualname__}", name=name)


def test_load_targets() -> None:
    targets = load_targets([target("qwen3-4b"), target("llama-3.2-3b")])
    assert [t.name for t in targets] == ["qwen3-4b", "llama-3.2-3b"]


def test_target_errors_name_their_position() -> None:
    with pytest.raises(ConfigError) as err:
        load_targets([target("a"), target("b", NamelessTarget)])
    assert str(err.value) == (
        "self_eval.targets[1]: tests.test_loader:NamelessTarget is not a target agent: "
        "it has no attribute 'name'"
    )
    with pytest.raises(ConfigError) as err:
        load_targets([target("same"), target("other"), target("same")])
    assert str(err.value) == (
        "self_eval.targets: target names repeat (same); give each target a distinct name"
    )
