"""``hardgen preview``: run a few items of a config in memory and show them as transcripts.

Nothing is written to a run directory: checkpoints live in LangGraph's in-memory saver, results in an
in-memory SQLite store, and the API graph in a temporary folder removed afterwards. Phase I is skipped
(it evaluates every tool, which is what a preview avoids) unless ``self_eval.graph`` names a graph with
failure statistics; items are the run's first N (same seed, same plans), so a preview shows what the run
would produce for them.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hardgen.calls import render_calls
from hardgen.config import Settings
from hardgen.export.common import observation_text
from hardgen.runner import FUNNEL_STAGES, Runner
from hardgen.schema import ReasoningAttempt, Trajectory
from hardgen.store import ResultStore


def preview_settings(settings: Settings, n: int) -> Settings:
    """The settings of a preview: the run's first ``n`` items, Phase I off unless a graph is given."""
    data = settings.model_dump(mode="json")
    data["run"]["trajectories"] = n
    if not settings.self_eval.graph:
        data["self_eval"]["enabled"] = False
    return Settings.model_validate(data)


def preview(settings: Settings, n: int, on_live: Callable[[Any], None] | None = None) -> list[Trajectory]:
    """Run the first ``n`` items of ``settings`` in memory and return them (kept and discarded)."""
    from langgraph.checkpoint.memory import InMemorySaver

    settings = preview_settings(settings, n)

    @asynccontextmanager
    async def in_memory() -> AsyncIterator[Any]:
        yield InMemorySaver()

    store = _KeptOpen(":memory:")
    with tempfile.TemporaryDirectory(prefix="hardgen-preview-") as tmp:
        runner = Runner(
            settings,
            Path(tmp),
            checkpointer_factory=in_memory,
            results_factory=lambda: store,
            on_live=on_live,
            write_live=False,
        )
        asyncio.run(runner.run())
    try:
        return list(store.trajectories(None))
    finally:
        store.really_close()


class _KeptOpen(ResultStore):
    """An in-memory store the runner cannot close (closing it would lose what it holds)."""

    def close(self) -> None:
        pass

    def really_close(self) -> None:
        super().close()


def funnel_path(t: Trajectory) -> str:
    """The stages an item went through, e.g. ``sample > tool_maker > ... > summarize: kept``."""
    stages: list[str] = []
    for stage in FUNNEL_STAGES:
        if t.status == "discarded" and stage == t.discard_stage:
            stages.append(f"{stage} X")
            return " > ".join(stages) + f": discarded ({t.discard_reason})"
        stages.append(stage)
    return " > ".join(stages) + f": {t.status}"


def _attempt_line(a: ReasoningAttempt) -> str:
    if a.verdict is not None and a.verdict.correct:
        return f"attempt {a.attempt}: correct ({a.verdict.matched_by} match)"
    why = a.verdict.error_type if a.verdict is not None else ("parse error" if a.parse_error else "unchecked")
    calls = render_calls(a.calls) if a.calls else (a.parse_error or a.raw[:200])
    return f"attempt {a.attempt}: wrong ({why}): {calls}"


def transcript(t: Trajectory) -> str:
    """A readable transcript of one item: its funnel path, then per turn the user's query and every
    assistant step (reasoning, calls, observations, the wrong attempts and the Verifier's hints)."""
    lines = [
        f"=== item {t.item} ({t.status}; suites {', '.join(t.suites)}; {len(t.tools)} tools shown)",
        f"path: {funnel_path(t)}",
    ]
    for turn in t.turns:
        kind = f" ({turn.kind})" if turn.kind != "base" else ""
        lines.append(f"--- turn {turn.index + 1}{kind}")
        lines.append(f"user: {turn.query.text}")
        for step in turn.steps:
            for a in step.attempts:
                if a.verdict is not None and a.verdict.correct:
                    continue
                lines.append(f"  [{_attempt_line(a)}]")
                if a.feedback is not None:
                    lines.append(f"  [verifier hint: {a.feedback.corrective_hint}]")
            if step.cot:
                lines.append(f"assistant (thinking): {step.cot}")
            if not step.calls:  # a no-call answer: words to the user, then the user's follow-up
                lines.append(f"assistant: {step.reply}")
                if turn.followup:
                    added = f" [tools added: {', '.join(turn.hidden_tools)}]" if turn.hidden_tools else ""
                    lines.append(f"user: {turn.followup}{added}")
                continue
            lines.append(f"assistant calls: {render_calls(step.calls)}")
            for obs in step.observations:
                lines.append(f"tool: {observation_text(obs)}")
        if turn.summary:
            lines.append(f"assistant: {turn.summary}")
    if t.failed_step is not None:
        lines.append(f"--- the step that used up its attempts (turn {(t.failed_turn or 0) + 1})")
        for a in t.failed_step.attempts:
            lines.append(f"  [{_attempt_line(a)}]")
            if a.feedback is not None:
                lines.append(f"  [verifier hint: {a.feedback.corrective_hint}]")
    return "\n".join(lines)
