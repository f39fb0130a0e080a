"""Readable traces in LangSmith (or any LangChain callback handler): what each run is part of.

Every LangGraph thread is invoked with metadata and tags naming the run, the item (or Phase I's tool)
and the phase, and a run name such as ``item 17``; LangChain passes them down to every node and model
run of the thread. The nodes that call a role also set the position inside the item (turn, step), and
the LLM client adds it, with the role, to each model call. A user who sets ``LANGSMITH_TRACING=true``
and ``LANGSMITH_API_KEY`` gets one trace per trajectory, whose model calls can be filtered by
``role:reasoner``, ``turn:1``, ``step:2`` or the ``hardgen_*`` metadata keys.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the runner imports this module; langchain_core loads only when a graph runs
    from langchain_core.runnables import RunnableConfig

_POSITION: ContextVar[dict[str, Any] | None] = ContextVar("hardgen_trace_position", default=None)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def thread_config(run_id: str, phase: str, **where: Any) -> dict[str, Any]:
    """The ``metadata``, ``tags`` and ``run_name`` of one LangGraph thread (an item or a Phase I tool)."""
    label = " ".join(f"{k} {v}" for k, v in where.items())
    return {
        "run_name": label or phase,
        "metadata": {"hardgen_run_id": run_id, "hardgen_phase": phase}
        | {f"hardgen_{k}": v for k, v in where.items()},
        "tags": [run_id, f"phase:{phase}", *(f"{k}:{v}" for k, v in where.items())],
    }


def traced_node(fn: F) -> F:
    """Wrap a graph node ``(state, runtime)`` so that model calls made inside it know the turn and step."""

    @functools.wraps(fn)
    async def node(state: Any, runtime: Any) -> Any:
        position: dict[str, Any] = {}
        for name in ("turn_index", "step_index", "target_index"):
            value = getattr(state, name, None)
            if isinstance(value, int):
                position[name.removesuffix("_index")] = value
        token = _POSITION.set(position)
        try:
            return await fn(state, runtime)
        finally:
            _POSITION.reset(token)

    return node  # type: ignore[return-value]


def model_call_config(role: str) -> RunnableConfig:
    """The ``metadata``, ``tags`` and ``run_name`` of one model call by ``role`` at the current position."""
    position = _POSITION.get() or {}
    return {
        "run_name": role,
        "metadata": {"hardgen_role": role} | {f"hardgen_{k}": v for k, v in position.items()},
        "tags": [f"role:{role}", *(f"{k}:{v}" for k, v in position.items())],
    }
