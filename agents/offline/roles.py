"""The six offline role classes, each ``Class(config, role)``; see :mod:`hardgen.agents.offline`."""

from __future__ import annotations

import json
import random

from hardgen.agents.base import (
    AgentError,
    AgentResult,
    QueryInput,
    ReasonerInput,
    SummaryInput,
    TargetAction,
    TargetInput,
    ToolMakerInput,
    VerifierInput,
)
from hardgen.agents.offline.query import advanced_tool_json, make_advanced_tool, make_hard_query
from hardgen.agents.offline.reasoner import ReasonerOptions, reason_step
from hardgen.agents.offline.target import direct_call, summarize
from hardgen.agents.offline.text import estimate_tokens
from hardgen.agents.offline.verifier import diagnose
from hardgen.calls import FINAL_CLOSE, FINAL_OPEN, THINK_CLOSE, render_response
from hardgen.config import AgentConfig
from hardgen.schema import AdvancedTool, HardQuery, Model, ReasoningAttempt, TokenUsage, VerifierFeedback

MODEL_NAME = "offline"

__all__ = [
    "OfflineQueryGenerator",
    "OfflineReasoner",
    "OfflineSummarizer",
    "OfflineTargetModel",
    "OfflineToolMaker",
    "OfflineVerifier",
    "ReasonerOptions",
]


class _OfflineAgent:
    """What every offline role shares: its configuration, a seeded RNG and usage accounting."""

    def __init__(self, config: AgentConfig, role: str) -> None:
        self.config = config
        self.role = role

    def rng(self, seed: int) -> random.Random:
        """The RNG of one call: seeded by the input's seed, salted with the role."""
        return random.Random(f"{self.role}:{seed}")

    def usage(self, inp: Model, raw: str) -> list[TokenUsage]:
        """One usage entry with token counts estimated from the prompt's and the answer's length."""
        prompt = inp.model_dump_json(exclude={"seed"})
        return [
            TokenUsage(
                role=self.role,
                model=MODEL_NAME,
                prompt_tokens=estimate_tokens(prompt),
                completion_tokens=estimate_tokens(raw),
            )
        ]


def _think(cot: str, answer: str) -> str:
    return f"<think>\n{cot.strip()}\n</think>\n{answer.strip()}"


class OfflineToolMaker(_OfflineAgent):
    """A_T without a model: the parameters are the trace's external inputs, named after the parameter
    that consumes them (``origin_city``/``destination_city`` when one appears twice).

    Raises:
        AgentError: ``offline:empty_trace`` for a trace without calls.
    """

    async def make_tool(self, inp: ToolMakerInput) -> AgentResult[AdvancedTool]:
        if not inp.trace.calls:
            raise AgentError("offline:empty_trace", "the trace has no calls: there is nothing to abstract")
        tool, cot = make_advanced_tool(inp.trace, inp.tools, [t.trace for t in inp.history])
        raw = _think(cot, advanced_tool_json(tool))
        return AgentResult(value=tool, raw=raw, usage=self.usage(inp, raw))


class OfflineQueryGenerator(_OfflineAgent):
    """A_Q without a model: a fluent request that states every user value and nothing in between."""

    async def make_query(self, inp: QueryInput) -> AgentResult[HardQuery]:
        rng = self.rng(inp.seed)
        context = [t.trace for t in inp.history]
        query, cot = make_hard_query(inp.advanced_tool, inp.trace, inp.tools, len(inp.history), rng, context)
        raw = _think(cot, query.text)
        return AgentResult(value=query, raw=raw, usage=self.usage(inp, raw))


class OfflineReasoner(_OfflineAgent):
    """A_R without a model; options: ``error_rate`` (0.35: attempt k errs with ``error_rate**k``),
    ``error_schedule``, ``mistakes``, ``parallel``, ``max_parallel``.

    Raises:
        ConfigError: an option is invalid (the loader reports it under ``agents.reasoner``).
    """

    def __init__(self, config: AgentConfig, role: str) -> None:
        super().__init__(config, role)
        self.options = ReasonerOptions.from_options(dict(config.options))

    async def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]:
        attempt = reason_step(inp, self.options, self.rng(inp.seed))
        raw = render_response(attempt.cot, attempt.calls, attempt.reply)
        if attempt.final_cot:  # a refinement also gives the reasoning a first answer would (the LLM format)
            think, _, calls = raw.partition(THINK_CLOSE)
            final = f"{FINAL_OPEN}\n{attempt.final_cot.strip()}\n{FINAL_CLOSE}"
            raw = f"{think}{THINK_CLOSE}\n{final}\n{calls.lstrip()}"
        usage = self.usage(inp, raw)
        value = attempt.model_copy(update={"raw": raw, "usage": usage})
        return AgentResult(value=value, raw=raw, usage=usage)


class OfflineVerifier(_OfflineAgent):
    """A_V without a model: the checker's verdict explained, with a hint that names no answer value."""

    async def diagnose(self, inp: VerifierInput) -> AgentResult[VerifierFeedback]:
        feedback, cot = diagnose(inp)
        raw = _think(cot, json.dumps(feedback.model_dump(), ensure_ascii=False, indent=2))
        return AgentResult(value=feedback, raw=raw, usage=self.usage(inp, raw))


class OfflineSummarizer(_OfflineAgent):
    """The assistant's closing message after the turn's last tool response (Figure 9)."""

    async def summarize(self, inp: SummaryInput) -> AgentResult[str]:
        text, cot = summarize([s.observations for s in inp.steps], self.rng(inp.seed), inp.query.text)
        raw = _think(cot, text)
        return AgentResult(value=text, raw=raw, usage=self.usage(inp, raw))


class OfflineTargetModel(_OfflineAgent):
    """Phase I's model under test: one call of the best-matching tool, then it stops; chains defeat it.

    Its ``name`` is the target's configured name (``offline-target`` by default).
    """

    def __init__(self, config: AgentConfig, role: str) -> None:
        super().__init__(config, role)
        name = getattr(config, "name", "")
        self.name: str = name if isinstance(name, str) and name else "offline-target"

    async def act(self, inp: TargetInput) -> AgentResult[TargetAction]:
        if inp.transcript:
            text, _ = summarize([s.observations for s in inp.transcript], self.rng(inp.seed), inp.query.text)
            raw = render_response("I have the tool's result, so the request is done.", [], text)
            action = TargetAction(calls=[], text=text, raw=raw)
        else:
            call, cot = direct_call(inp.query.text, inp.tools)
            calls = [call] if call is not None else []
            text = "" if calls else "I cannot find a tool for this request."
            raw = render_response(cot, calls, text)
            action = TargetAction(calls=calls, text=text, raw=raw)
        return AgentResult(value=action, raw=raw, usage=self.usage(inp, raw))
