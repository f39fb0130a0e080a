"""Running one LangGraph thread to its end, whether it is new, interrupted or already finished."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


async def run_thread(
    graph: Any,
    saver: Any,
    thread_id: str,
    start: Callable[[], Any],
    *,
    context: Any,
    durability: str,
    is_finished: Callable[[Any], bool] = lambda values: True,
    trace: dict[str, Any] | None = None,
) -> Any:
    """Run a thread and return its final state values.

    A thread with a checkpoint and a next node was interrupted: it continues from that checkpoint
    (``invoke(None)``). One with no next node ended before (a crash came between its end and the
    caller's bookkeeping): its values are returned as they are, unless ``is_finished`` says it never
    really finished, in which case it is started over. A thread with no checkpoint starts from
    ``start()``. With ``durability="none"`` there are no checkpoints and every run starts fresh.
    ``trace`` adds ``metadata``, ``tags`` and ``run_name`` for tracing (:mod:`hardgen.tracing`).
    """
    config: dict[str, Any] = {
        "configurable": {"thread_id": thread_id},
        "recursion_limit": 10_000,
        **(trace or {}),
    }
    if durability == "none":
        return await graph.ainvoke(start(), config, context=context)
    kwargs: dict[str, Any] = {"context": context, "durability": durability}
    snapshot = await graph.aget_state(config)
    if snapshot.values:
        if snapshot.next:
            return await graph.ainvoke(None, config, **kwargs)
        if is_finished(snapshot.values):
            return snapshot.values
        await saver.adelete_thread(thread_id)
    return await graph.ainvoke(start(), config, **kwargs)
