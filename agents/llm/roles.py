"""The six LLM role classes, each ``Class(config, role)``; see :mod:`hardgen.agents.llm`."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import ValidationError

from hardgen.agents.base import (
    AgentResult,
    QueryInput,
    ReasonerInput,
    SummaryInput,
    TargetAction,
    TargetInput,
    ToolMakerInput,
    VerifierInput,
)
from hardgen.agents.llm.client import (
    ModelReply,
    answer_problem,
    call_model,
    make_chat_model,
    model_generation,
    resolve_base_url,
    set_endpoint_limit,
)
from hardgen.agents.llm.faults import BreakerPolicy, LLMAgentError, set_breaker_policy
from hardgen.agents.llm.parse import (
    OutputError,
    extract_json_object,
    summary_text,
    to_advanced_tool,
    to_feedback,
    to_hard_query,
    without_think,
)
from hardgen.calls import parse_response, split_final_reasoning
from hardgen.config import AgentConfig, ConfigError, TargetConfig
from hardgen.prompts import render
from hardgen.schema import (
    AdvancedTool,
    HardQuery,
    ReasoningAttempt,
    TokenUsage,
    VerifierFeedback,
    canonical_json,
)
from hardgen.scrub import scrub_text

__all__ = [
    "LLMQueryGenerator",
    "LLMReasoner",
    "LLMSummarizer",
    "LLMTargetModel",
    "LLMToolMaker",
    "LLMVerifier",
]

logger = logging.getLogger(__name__)
CLIP_REASKED = 4000  # an unusable answer sent back with a re-ask is cut to this many characters

T = TypeVar("T")

OPTIONS = (
    "max_concurrency_per_endpoint",
    "send_seed",
    "max_answer_bytes",
    "max_answer_tokens",
    "circuit_breaker",
)

TOOL_MAKER_FORMAT = (
    '{"advanced_tool_name": "snake_case_name", "description": "...", "parameters": '
    '[{"name": "...", "type": "string", "description": "...", "value": "..."}], "returns": "..."}'
)
QUERY_FORMAT = '{"query": "the user\'s request"}'
VERIFIER_FORMAT = (
    '{"error_type": "...", "error_location": "...", "root_cause": "...", "corrective_hint": "...", '
    '"should_reconsider": ["..."]}'
)
REASONER_FORMAT = (
    "<think>\nyour reasoning\n</think>\n<tool_call>\n[tool_name(param=value), ...]\n</tool_call>"
)
SUMMARY_FORMAT = "the message to the user, as plain text"


class _LLMRole:
    """What every LLM role shares: the model, the options, and the ask-parse-reask loop."""

    def __init__(self, config: AgentConfig, role: str) -> None:
        unknown = sorted(set(config.options) - set(OPTIONS))
        if unknown:
            raise ConfigError(
                f"options: unknown option(s) {', '.join(unknown)} for impl 'llm'; known: {', '.join(OPTIONS)}"
            )
        limit = config.options.get("max_concurrency_per_endpoint")
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise ConfigError(f"options.max_concurrency_per_endpoint must be an integer, not {limit!r}")
            set_endpoint_limit(config.base_url, limit)
        self.config = config
        self.role = role
        send_seed = config.options.get("send_seed", True)
        if not isinstance(send_seed, bool):
            raise ConfigError("options.send_seed must be true or false")
        self.send_seed = send_seed
        answer_problem(ModelReply("", "", "", TokenUsage(role=role, model="")), config)  # checks the caps
        policy = config.options.get("circuit_breaker")
        if policy is not None:
            if not isinstance(policy, dict):
                raise ConfigError("options.circuit_breaker must be a mapping")
            try:
                set_breaker_policy(resolve_base_url(config.base_url), BreakerPolicy(**policy))  # type: ignore[arg-type]
            except TypeError as exc:
                raise ConfigError(f"options.circuit_breaker: {exc}") from None
        make_chat_model(config)  # a bad model name or a missing key fails here, at start-up
        self._remembered: tuple[weakref.ref[asyncio.AbstractEventLoop], int, ChatOpenAI] | None = None

    @property
    def model(self) -> ChatOpenAI:
        """The chat model (cached per endpoint, parameters and event loop by the factory, and remembered
        here for the running loop: the factory's key costs more than the rest of a call's own code)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        remembered = self._remembered
        if remembered is not None:
            loop_ref, generation, model = remembered
            if loop_ref() is loop and generation == model_generation():
                return model
        model = make_chat_model(self.config)
        if loop is not None:
            self._remembered = (weakref.ref(loop), model_generation(), model)
        return model

    def _request_args(self, seed: int) -> dict[str, int]:
        return {"seed": seed} if self.send_seed else {}

    async def _ask(
        self, prompt: str, parse: Callable[[ModelReply], T], *, seed: int, expected: str
    ) -> tuple[T, ModelReply, list[TokenUsage]]:
        """Ask, parse, and re-ask after an unusable answer (at most ``max_reasks`` times).

        Raises:
            LLMAgentError: ``llm:malformed_output`` when no answer could be parsed, or the call's error.
        """
        messages: list[BaseMessage] = [HumanMessage(content=prompt)]
        usage: list[TokenUsage] = []
        problem = ""
        reply: ModelReply | None = None
        for _ in range(self.config.max_reasks + 1):
            try:
                reply = await call_model(
                    self.model, messages, role=self.role, config=self.config, **self._request_args(seed)
                )
            except LLMAgentError as exc:
                exc.usage = usage + exc.usage
                raise
            usage.append(reply.usage)
            problem = answer_problem(reply, self.config)
            if not problem:
                try:
                    return parse(reply), reply, usage
                except (OutputError, ValidationError) as exc:
                    problem = _problem(exc)
                    if reply.finish_reason == "length":
                        problem += f" (the answer was cut off at max_tokens={self.config.max_tokens})"
            logger.warning("%s: unusable answer (%s); %s", self.role, problem, _clip(reply.content))
            messages = [
                *messages,
                AIMessage(content=without_think(reply.content)[:CLIP_REASKED]),
                HumanMessage(content=render("reask", problem=problem, expected=expected)),
            ]
        tries = self.config.max_reasks + 1
        raise LLMAgentError(
            "llm:malformed_output",
            f"{self.role}: no usable answer from {self.config.model} in {tries} tries: {problem}",
            raw=reply.content if reply else "",
            usage=usage,
        )


def _problem(exc: OutputError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc)


def _clip(text: str, limit: int = 200) -> str:
    """A short one-line excerpt of model text for a log line, with credential-like strings masked."""
    flat = scrub_text(" ".join(text[: limit * 4].split()))
    return flat if len(flat) <= limit else flat[:limit] + "..."


class LLMToolMaker(_LLMRole):
    """Tool Maker (eq. 3, Figure 11): an executed trace -> one advanced tool."""

    def __init__(self, config: AgentConfig, role: str = "tool_maker") -> None:
        super().__init__(config, role)

    async def make_tool(self, inp: ToolMakerInput) -> AgentResult[AdvancedTool]:
        prompt = render("tool_maker", trace=inp.trace, tools=inp.tools, history=inp.history)
        names = inp.trace.tool_names

        def parse(reply: ModelReply) -> AdvancedTool:
            return to_advanced_tool(extract_json_object(reply.content), names)

        tool, reply, usage = await self._ask(prompt, parse, seed=inp.seed, expected=TOOL_MAKER_FORMAT)
        return AgentResult(value=tool, raw=reply.content, usage=usage)


class LLMQueryGenerator(_LLMRole):
    """Hard-Query Generator (eq. 4, Figure 12): an advanced tool -> a hard query."""

    def __init__(self, config: AgentConfig, role: str = "query_generator") -> None:
        super().__init__(config, role)

    async def make_query(self, inp: QueryInput) -> AgentResult[HardQuery]:
        prompt = render(
            "query_generator", advanced_tool=inp.advanced_tool, tools=inp.tools, history=inp.history
        )

        def parse(reply: ModelReply) -> HardQuery:
            return to_hard_query(extract_json_object(reply.content), inp.advanced_tool.name)

        query, reply, usage = await self._ask(prompt, parse, seed=inp.seed, expected=QUERY_FORMAT)
        return AgentResult(value=query, raw=reply.content, usage=usage)


class LLMReasoner(_LLMRole):
    """Reasoner (Figures 13 and 15): the next step's CoT and calls; refined prompts carry the feedback."""

    def __init__(self, config: AgentConfig, role: str = "reasoner") -> None:
        super().__init__(config, role)

    async def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]:
        context: dict[str, object] = {
            "query": inp.query,
            "tools": inp.tools,
            "advanced_tool": inp.advanced_tool,
            "previous_turns": inp.previous_turns,
            "done_steps": inp.done_steps,
            "no_call_allowed": inp.no_call_allowed,
        }
        if inp.failed_attempts:
            prompt = render("reasoner_refine", failed_attempts=inp.failed_attempts, **context)
        else:
            prompt = render("reasoner_initial", **context)

        def parse(reply: ModelReply) -> ReasoningAttempt:
            if reply.invalid_tool_calls:
                raise OutputError("unreadable tool call(s): " + "; ".join(reply.invalid_tool_calls))
            native = [{"name": c.name, "args": c.arguments} for c in reply.tool_calls]
            final, content = split_final_reasoning(reply.content)
            result = parse_response(content, reasoning=reply.reasoning or None, tool_calls=native or None)
            if result.error:
                raise OutputError(result.error)
            if not result.calls and not (inp.no_call_allowed and result.text.strip()):
                raise OutputError("it has no <tool_call> block with at least one call")
            return ReasoningAttempt(
                attempt=inp.attempt,
                cot=result.cot,
                final_cot=final,
                calls=result.calls,
                raw=reply.content,
                reply="" if result.calls else result.text.strip(),  # no call: the words to the user
            )

        attempt, reply, usage = await self._ask(prompt, parse, seed=inp.seed, expected=REASONER_FORMAT)
        return AgentResult(value=attempt.model_copy(update={"usage": usage}), raw=reply.content, usage=usage)


class LLMVerifier(_LLMRole):
    """Verifier (Figure 14): a wrong attempt and the ground truth -> structured corrective feedback."""

    def __init__(self, config: AgentConfig, role: str = "verifier") -> None:
        super().__init__(config, role)

    async def diagnose(self, inp: VerifierInput) -> AgentResult[VerifierFeedback]:
        prompt = render(
            "verifier",
            no_call_reason=inp.no_call_reason,
            query=inp.query,
            attempt=inp.attempt,
            ground_truth=inp.ground_truth,
            execution_result=inp.execution_result,
            verdict=inp.verdict,
            tools=inp.tools,
        )

        def parse(reply: ModelReply) -> VerifierFeedback:
            return to_feedback(extract_json_object(reply.content))

        feedback, reply, usage = await self._ask(prompt, parse, seed=inp.seed, expected=VERIFIER_FORMAT)
        return AgentResult(value=feedback, raw=reply.content, usage=usage)


class LLMSummarizer(_LLMRole):
    """The assistant's closing message of a turn (Figure 9's "Assistant Summary")."""

    def __init__(self, config: AgentConfig, role: str = "summarizer") -> None:
        super().__init__(config, role)

    async def summarize(self, inp: SummaryInput) -> AgentResult[str]:
        prompt = render("summary", query=inp.query, steps=inp.steps)

        def parse(reply: ModelReply) -> str:
            return summary_text(reply.content)

        text, reply, usage = await self._ask(prompt, parse, seed=inp.seed, expected=SUMMARY_FORMAT)
        return AgentResult(value=text, raw=reply.content, usage=usage)


class LLMTargetModel(_LLMRole):
    """A model under test (Phase I): native tool calling, one step per call, never re-asked.

    The conversation is rebuilt from the transcript on every step: the system prompt, the query, then per
    executed step an assistant message with its tool calls and one tool message per observation. Tool
    call ids are ``call_<step>_<i>``, so equal transcripts give equal request bodies.
    """

    def __init__(self, config: AgentConfig, role: str = "target") -> None:
        super().__init__(config, role)
        name = getattr(config, "name", "")
        # TargetConfig's default name describes the offline target; an LLM target goes by its model.
        if not name or name == TargetConfig.model_fields["name"].default:
            name = config.model or role
        self.name = str(name)

    def messages(self, inp: TargetInput) -> list[BaseMessage]:
        """The chat messages of one step: system prompt, query, and the transcript so far."""
        messages: list[BaseMessage] = [
            SystemMessage(content=render("target")),
            HumanMessage(content=inp.query.text),
        ]
        for s, step in enumerate(inp.transcript):
            ids = [f"call_{s}_{i}" for i in range(len(step.calls))]
            messages.append(
                AIMessage(
                    content=step.cot,
                    tool_calls=[
                        {"name": c.name, "args": dict(c.arguments), "id": ids[i], "type": "tool_call"}
                        for i, c in enumerate(step.calls)
                    ],
                )
            )
            for i, obs in enumerate(step.observations[: len(ids)]):
                messages.append(ToolMessage(content=canonical_json(obs.content()), tool_call_id=ids[i]))
        return messages

    async def act(self, inp: TargetInput) -> AgentResult[TargetAction]:
        model = self.model.bind_tools([t.to_openai() for t in inp.tools])
        reply = await call_model(
            model, self.messages(inp), role=self.role, config=self.config, **self._request_args(inp.seed)
        )
        problem = answer_problem(reply, self.config)
        if problem:
            raise LLMAgentError("llm:oversized_answer", f"{self.role}: {problem}", usage=[reply.usage])
        action = _target_action(reply)
        return AgentResult(value=action, raw=reply.content, usage=[reply.usage])


def _target_action(reply: ModelReply) -> TargetAction:
    """The target's move: native tool calls, else calls written in the text (servers without a tool
    parser), else none. A call it botched counts as its own failure, so the step has no calls."""
    text = without_think(reply.content)
    if reply.invalid_tool_calls:
        note = "invalid tool call(s): " + "; ".join(reply.invalid_tool_calls)
        return TargetAction(calls=[], text=f"{text}\n{note}".strip(), raw=reply.content)
    if reply.tool_calls:
        return TargetAction(calls=list(reply.tool_calls), text=text, raw=reply.content)
    parsed = parse_response(reply.content)
    if parsed.error is None and parsed.calls:
        return TargetAction(calls=parsed.calls, text=parsed.text, raw=reply.content)
    return TargetAction(calls=[], text=text, raw=reply.content)
