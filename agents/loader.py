"""Build agents from the configuration: ``offline``, ``llm`` or any ``"package.module:Class"``.

Every implementation class is constructed as ``Class(config, role)`` and must satisfy its role's
Protocol (:data:`hardgen.agents.base.ROLE_PROTOCOLS`): the role's method, as ``async def``, and for a
target model a ``name``. Anything wrong (a module that does not import, a missing class, a class without
the method) is one :class:`~hardgen.config.ConfigError` that says which role and what to fix.

The built-in implementations are imported only when a role uses them, so a custom agent needs neither
the offline nor the LLM stack.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from hardgen.agents.base import (
    ROLE_PROTOCOLS,
    AgentFactory,
    QueryGenerator,
    Reasoner,
    Summarizer,
    TargetModel,
    ToolMaker,
    Verifier,
)
from hardgen.config import AgentConfig, AgentsConfig, ConfigError, TargetConfig

BUILTIN_MODULES = {"offline": "hardgen.agents.offline", "llm": "hardgen.agents.llm"}
_ROLE_CLASS_SUFFIX = {
    "tool_maker": "ToolMaker",
    "query_generator": "QueryGenerator",
    "reasoner": "Reasoner",
    "verifier": "Verifier",
    "summarizer": "Summarizer",
    "target": "TargetModel",
}
BUILTIN_CLASSES = {
    impl: {role: f"{prefix}{suffix}" for role, suffix in _ROLE_CLASS_SUFFIX.items()}
    for impl, prefix in (("offline", "Offline"), ("llm", "LLM"))
}


@dataclass
class Agents:
    """The five roles of the generation pipeline."""

    tool_maker: ToolMaker
    query_generator: QueryGenerator
    reasoner: Reasoner
    verifier: Verifier
    summarizer: Summarizer


def role_members(role: str) -> tuple[list[str], list[str]]:
    """The methods and the plain attributes a role's Protocol requires."""
    proto = ROLE_PROTOCOLS[role]
    methods = [n for n, v in vars(proto).items() if not n.startswith("_") and callable(v)]
    attributes = [n for n in getattr(proto, "__annotations__", {}) if not n.startswith("_")]
    return methods, attributes


def load_agent(role: str, config: AgentConfig, *, where: str | None = None) -> object:
    """Construct the implementation of ``role`` that ``config.impl`` names.

    Args:
        role: A key of ``ROLE_PROTOCOLS`` (``tool_maker``, ..., ``target``).
        config: The role's configuration; passed to the class as ``Class(config, role)``.
        where: Where the role is configured, for messages (default ``agents.<role>``).

    Raises:
        ConfigError: The implementation cannot be imported, constructed, or does not fit the role.
    """
    where = where or f"agents.{role}"
    if role not in ROLE_PROTOCOLS:
        raise ConfigError(f"{where}: unknown role {role!r}; roles are {', '.join(ROLE_PROTOCOLS)}")
    module_name, class_path = _locate(role, config.impl, where)
    factory = _resolve(module_name, class_path, where)
    try:
        agent = factory(config, role)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    except Exception as exc:
        raise ConfigError(
            f"{where}: {module_name}:{class_path}(config, role) failed: {type(exc).__name__}: {exc}"
        ) from exc
    problem = _protocol_problem(role, agent)
    if problem is not None:
        raise ConfigError(f"{where}: {module_name}:{class_path} {problem}")
    return agent


def load_agents(config: AgentsConfig) -> Agents:
    """The five pipeline roles from ``settings.agents``."""
    # Each agent was checked against its role's Protocol by load_agent.
    return Agents(
        tool_maker=cast(ToolMaker, load_agent("tool_maker", config.tool_maker)),
        query_generator=cast(QueryGenerator, load_agent("query_generator", config.query_generator)),
        reasoner=cast(Reasoner, load_agent("reasoner", config.reasoner)),
        verifier=cast(Verifier, load_agent("verifier", config.verifier)),
        summarizer=cast(Summarizer, load_agent("summarizer", config.summarizer)),
    )


def load_targets(targets: Sequence[TargetConfig]) -> list[TargetModel]:
    """The models under test of Phase I from ``settings.self_eval.targets``; their names must differ."""
    loaded: list[TargetModel] = []
    for i, config in enumerate(targets):
        loaded.append(cast(TargetModel, load_agent("target", config, where=f"self_eval.targets[{i}]")))
    names = [t.name for t in loaded]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(
            f"self_eval.targets: target names repeat ({', '.join(repeated)}); "
            "give each target a distinct name"
        )
    return loaded


# ------------------------------------------------------------------------------------------ internals


def _locate(role: str, impl: str, where: str) -> tuple[str, str]:
    if impl in BUILTIN_MODULES:
        return BUILTIN_MODULES[impl], BUILTIN_CLASSES[impl][role]
    module_name, sep, class_path = impl.partition(":")
    if not sep or not module_name.strip() or not class_path.strip():
        raise ConfigError(f"{where}.impl: {impl!r} must be 'offline', 'llm' or 'package.module:Class'")
    return module_name.strip(), class_path.strip()


def _resolve(module_name: str, class_path: str, where: str) -> AgentFactory:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        hint = "is it installed, and is the name spelled right?"
        raise ConfigError(
            f"{where}.impl: cannot import module {module_name!r} (no module {missing!r}; {hint})"
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"{where}.impl: importing module {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    target: object = module
    for part in class_path.split("."):
        if not hasattr(target, part):
            available = sorted(
                n for n, v in vars(module).items() if inspect.isclass(v) and not n.startswith("_")
            )
            raise ConfigError(
                f"{where}.impl: module {module_name!r} has no class {class_path!r}"
                + (f"; it defines: {', '.join(available)}" if available else "")
            )
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"{where}.impl: {module_name}:{class_path} is not a class")
    return cast(AgentFactory, target)


def _is_async(member: object) -> bool:
    """``async def`` methods, also behind ``functools.wraps`` decorators or as an async ``__call__``."""
    if inspect.iscoroutinefunction(member):
        return True
    try:
        unwrapped = inspect.unwrap(member)  # type: ignore[arg-type]
    except ValueError:
        return False
    call = inspect.getattr_static(type(member), "__call__", None)
    return inspect.iscoroutinefunction(unwrapped) or inspect.iscoroutinefunction(call)


def _protocol_problem(role: str, agent: object) -> str | None:
    methods, attributes = role_members(role)
    for name in methods:
        member = getattr(agent, name, None)
        if member is None:
            return f"is not a {role} agent: it has no method {name}()"
        if not callable(member):
            return f"is not a {role} agent: {name} is not a method"
        if not _is_async(member):
            return f"is not a {role} agent: {name}() must be 'async def'"
    for name in attributes:
        if not hasattr(agent, name):
            return f"is not a {role} agent: it has no attribute {name!r}"
    return None
