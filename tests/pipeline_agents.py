"""Agents that tests swap in through the config (``impl: "tests.pipeline_agents:Class"``).

They show that any role can be replaced by a user's class, and let tests steer the pipeline into each
route of the K_max loop and into failures.
"""

from __future__ import annotations

from pathlib import Path

from hardgen.agents.base import AgentResult, ReasonerInput, SummaryInput, ToolMakerInput
from hardgen.config import AgentConfig
from hardgen.schema import AdvancedTool, ReasoningAttempt, ToolCall


class ScheduledReasoner:
    """The offline reasoner without mistakes, made wrong on purpose by a schedule of step positions.

    ``options.schedule`` lists, per step position (cycled), the attempt at which the step becomes right;
    0 means never (the step exhausts K_max).
    """

    def __init__(self, config: AgentConfig, role: str) -> None:
        from hardgen.agents.offline import OfflineReasoner

        self.inner = OfflineReasoner(config.model_copy(update={"options": {"error_rate": 0.0}}), role)
        schedule = config.options.get("schedule", [1, 2, 3, 0])
        assert isinstance(schedule, list)
        self.schedule = [int(x) for x in schedule if isinstance(x, int)]
        self.seen_failed: list[int] = []

    async def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]:
        res = await self.inner.reason(inp)
        position = len(inp.previous_turns) * 3 + len(inp.done_steps)
        right_at = self.schedule[position % len(self.schedule)]
        if right_at and inp.attempt >= right_at:
            return res
        # Wrong on purpose: the same tools with their arguments dropped (call:missing_param).
        wrong = [ToolCall(name=c.name, arguments={}) for c in res.value.calls] or [
            ToolCall(name="no_such_tool")
        ]
        attempt = res.value.model_copy(update={"calls": wrong, "raw": res.value.raw + "\n(wrong on purpose)"})
        return AgentResult(value=attempt, raw=attempt.raw, usage=res.usage)


class CountingToolMaker:
    """The offline Tool Maker, appending one line per call to ``options.log`` (to count node runs)."""

    def __init__(self, config: AgentConfig, role: str) -> None:
        from hardgen.agents.offline import OfflineToolMaker

        self.inner = OfflineToolMaker(config, role)
        self.log = Path(str(config.options["log"]))

    async def make_tool(self, inp: ToolMakerInput) -> AgentResult[AdvancedTool]:
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(f"{inp.seed}\n")
        return await self.inner.make_tool(inp)


class FlakySummarizer:
    """The offline summariser, raising once per item while ``options.marker_dir`` has no marker for it."""

    def __init__(self, config: AgentConfig, role: str) -> None:
        from hardgen.agents.offline import OfflineSummarizer

        self.inner = OfflineSummarizer(config, role)
        self.marker_dir = Path(str(config.options["marker_dir"]))

    async def summarize(self, inp: SummaryInput) -> AgentResult[str]:
        marker = self.marker_dir / f"{inp.seed}"
        if not marker.exists():
            marker.write_text("raised once")
            raise RuntimeError("a bug inside a node (raised once on purpose)")
        return await self.inner.summarize(inp)
