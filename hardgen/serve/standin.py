"""The stand-in model: OpenAI chat-completion requests in, offline agents' answers out.

:class:`StandIn` is the server without HTTP. It checks a request body the way the API does (400 with
an OpenAI error object), recognises the role asking (a role prompt's opening line, or ``tools`` for a
model under test), reads the role's input back from the prompt (:mod:`hardgen.serve.reading`), asks the
offline agent, and writes the answer the way a reasoning model served by vLLM writes it: a ``<think>``
block (or a ``reasoning_content`` field) and then JSON for the Tool Maker, Query Generator and
Verifier, the paper's ``<tool_call>[..]</tool_call>`` for the Reasoner, prose for the summariser, and
native ``tool_calls`` for a model under test. Ids and timestamps derive from the request, so the same
request gets byte-identical answers and re-recorded cassettes do not change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from pydantic import JsonValue, ValidationError

from hardgen import __version__
from hardgen.agents.llm.parse import split_think
from hardgen.agents.offline import (
    OfflineQueryGenerator,
    OfflineReasoner,
    OfflineSummarizer,
    OfflineTargetModel,
    OfflineToolMaker,
    OfflineVerifier,
)
from hardgen.agents.offline.query import advanced_tool_json
from hardgen.agents.offline.text import estimate_tokens
from hardgen.config import AgentConfig, TargetConfig
from hardgen.prompts import render
from hardgen.schema import ToolCall, canonical_json
from hardgen.serve.faults import FAULT_KINDS, OVERSIZED_BYTES, FaultInjector
from hardgen.serve.reading import (
    PROMPT_TEMPLATES,
    BoundedDict,
    PromptReadError,
    Role,
    RunMemory,
    SpecCatalogue,
    TraceContext,
    message_text,
    read_query_generator,
    read_reasoner,
    read_summary,
    read_target,
    read_tool_maker,
    read_verifier,
    recognise,
    without_reasks,
)

log = logging.getLogger(__name__)

CREATED = 1_700_000_000  # a fixed timestamp: answers depend on the request only
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool")
JSON_ROLES: tuple[Role, ...] = ("tool_maker", "query_generator", "verifier")


@dataclass(frozen=True)
class StandInOptions:
    """How the stand-in answers (``hardgen serve`` options).

    Attributes:
        seed: Seeds fault injection.
        latency_ms: Added to every answer (benchmarks).
        fault_rate: Probability that one try of a request fails.
        faults: The fault kinds to draw from (see :mod:`hardgen.serve.faults`).
        max_faults_per_request: At most this many faults per request and its retries/re-asks (None: no
            limit).
        hang_s: How long a ``timeout`` fault keeps the client waiting (it ends early when the client
            disconnects).
        retry_after_ms: The ``retry-after-ms`` header of 429 and 500 answers.
        think: ``inline`` writes the reasoning as a ``<think>`` block in the content (reasoning models
            without a reasoning parser); ``field`` puts it into ``reasoning_content`` (vLLM, SGLang).
        error_rate: The offline Reasoner's mistake rate (attempt k errs with ``error_rate ** k``).
        api_key: When set, requests must carry ``Authorization: Bearer <api_key>``.
    """

    seed: int = 0
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    max_faults_per_request: int | None = None
    hang_s: float = 60.0
    retry_after_ms: int = 20
    think: Literal["inline", "field"] = "inline"
    error_rate: float = 0.35
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.think not in ("inline", "field"):
            raise ValueError(f"--think must be 'inline' or 'field', not {self.think!r}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"--reasoner-error-rate must be between 0 and 1, not {self.error_rate}")

    @property
    def fingerprint(self) -> str:
        """What answered, for ``system_fingerprint`` (and so for every recorded cassette)."""
        faults = f" faults={','.join(self.faults)}" if self.fault_rate else ""
        return (
            f"hardgen-standin/{__version__} seed={self.seed} fault_rate={self.fault_rate:g}{faults} "
            f"think={self.think} reasoner_error_rate={self.error_rate:g}"
        )


class RequestError(Exception):
    """A request the API refuses: an HTTP status and an OpenAI error object."""

    def __init__(
        self, status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None,
        code: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.param = param
        self.code = code

    def payload(self) -> dict[str, JsonValue]:
        return error_payload(str(self), kind=self.kind, param=self.param, code=self.code)


def error_payload(
    message: str, *, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, JsonValue]:
    """An OpenAI error body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass
class Reply:
    """An assistant message before it is written out: reasoning, answer text, native tool calls."""

    role: Role
    cot: str
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass
class Outcome:
    """What the HTTP layer sends: a completion, or a fault to act out."""

    completion: dict[str, JsonValue] | None = None
    fault: str | None = None
    role: str = ""


@dataclass
class Stats:
    """Counters the server reports at ``GET /hardgen/stats``."""

    requests: int = 0
    completions: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    roles: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    memory_misses: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "requests": self.requests,
            "completions": self.completions,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "roles": dict(sorted(self.roles.items())),
            "faults": dict(sorted(self.faults.items())),
            "errors": dict(sorted(self.errors.items())),
            "memory_misses": dict(sorted(self.memory_misses.items())),
        }


class StandIn:
    """The offline agents behind the OpenAI chat-completions protocol."""

    def __init__(self, options: StandInOptions | None = None, catalogue: SpecCatalogue | None = None) -> None:
        self.options = options or StandInOptions()
        self.faults = FaultInjector(
            seed=self.options.seed,
            rate=self.options.fault_rate,
            kinds=self.options.faults,
            max_per_task=self.options.max_faults_per_request,
        )
        self.memory = RunMemory()
        self.catalogue = catalogue or SpecCatalogue()
        self.stats = Stats()
        self._replies: BoundedDict[str, Reply] = BoundedDict(4096)
        self._target_prompt = render("target")
        plain = AgentConfig()
        self.tool_maker = OfflineToolMaker(plain, "tool_maker")
        self.query_generator = OfflineQueryGenerator(plain, "query_generator")
        self.reasoner = OfflineReasoner(
            AgentConfig(options={"error_rate": self.options.error_rate}), "reasoner"
        )
        self.verifier = OfflineVerifier(plain, "verifier")
        self.summarizer = OfflineSummarizer(plain, "summarizer")
        self.target = OfflineTargetModel(TargetConfig(), "target")

    def warm_up(self) -> None:
        """Load now what the first requests would otherwise load (the built-in suites' tool specs and
        the English lexicon the offline agents phrase with), as a model server loads its weights before
        it listens: the first requests are then not slower than the rest, and the server's CPU seconds
        count answering only. Optional: an in-process server for tests starts faster without it."""
        from lemminflect import getInflection, getLemma

        from hardgen.agents.offline.text import is_verb

        _ = self.catalogue.specs
        is_verb("book")
        getLemma("books", upos="NOUN")
        getInflection("book", tag="VBD")

    # ------------------------------------------------------------------------------------ requests

    async def chat(self, body: JsonValue) -> Outcome:
        """Answer one ``POST /v1/chat/completions`` body.

        Raises:
            RequestError: The body is not a valid request, or its prompt is not a hardgen role prompt.
        """
        request = check_request(body)
        messages: list[dict[str, JsonValue]] = request["messages"]  # type: ignore[assignment]
        task_messages = without_reasks(messages)
        task = _digest(
            {
                "model": request.get("model"),
                "messages": task_messages,
                "tools": request.get("tools"),
                "seed": request.get("seed"),
                "response_format": request.get("response_format"),
            }
        )
        role = self._role(task_messages, request.get("tools"))
        self.stats.roles[role] += 1
        fault = self.faults.decide(task)
        if fault is not None:
            self.stats.faults[fault] += 1
        if fault in ("429", "500", "timeout", "broken_body"):
            return Outcome(fault=fault, role=role, completion=None)
        reply = self._replies.get(task)
        if reply is None:
            reply = await self._answer(role, task_messages, request, task)
            self._replies.put(task, reply)
        if fault is not None:
            reply = garble(reply, fault, random.Random(f"{self.options.seed}:{task}:{fault}"))
        self.stats.completions += 1
        return Outcome(completion=self._completion(reply, request, task, fault), role=role)

    def _role(self, messages: list[dict[str, JsonValue]], tools: JsonValue) -> Role:
        if tools:
            return "target"
        for message in messages:
            text = message_text(message)
            if message.get("role") == "system" and text == self._target_prompt:
                return "target"
            template = recognise(text)
            if template is not None:
                return PROMPT_TEMPLATES[template]
        raise RequestError(
            400,
            "the stand-in answers hardgen's role prompts only (Tool Maker, Query Generator, Reasoner, "
            "Verifier, summary) and requests with tools (a model under test); this prompt is none of them",
            code="unknown_prompt",
        )

    async def _answer(
        self, role: Role, messages: list[dict[str, JsonValue]], request: dict[str, JsonValue], task: str
    ) -> Reply:
        seed = _seed(request.get("seed"), task)
        prompt = next((message_text(m) for m in messages if m.get("role") in ("user", "system")), "")
        try:
            return await self._ask(role, prompt, messages, request, seed)
        except (PromptReadError, ValidationError) as exc:
            raise RequestError(
                400, f"cannot read the {role} prompt: {exc}", code="unreadable_prompt"
            ) from exc

    async def _ask(
        self,
        role: Role,
        prompt: str,
        messages: list[dict[str, JsonValue]],
        request: dict[str, JsonValue],
        seed: int,
    ) -> Reply:
        if role == "tool_maker":
            inp, history_len = read_tool_maker(prompt, seed, self.catalogue)
            made = await self.tool_maker.make_tool(inp)
            names = [t.name for t in inp.tools]
            self.memory.remember_trace(
                TraceContext(
                    trace=inp.trace, tools=inp.tools, history_len=history_len, advanced_tool=made.value
                ),
                names,
            )
            return Reply(role, split_think(made.raw)[0], advanced_tool_json(made.value))
        if role == "query_generator":
            asked = read_query_generator(prompt, seed, self.memory, self.catalogue)
            if not asked.remembered:
                self.stats.memory_misses["query_generator"] += 1
            query = await self.query_generator.make_query(asked.input)
            self.memory.remember_query(query.value.text, asked.whole_tool, asked.withheld)
            answer = json.dumps({"query": query.value.text}, ensure_ascii=False)
            return Reply(role, split_think(query.raw)[0], answer)
        if role == "reasoner":
            reasoner_input, remembered = read_reasoner(prompt, seed, self.memory, self.catalogue)
            if not remembered:
                self.stats.memory_misses["reasoner"] += 1
            attempt = await self.reasoner.reason(reasoner_input)
            cot, calls_block = split_think(attempt.raw)
            return Reply(role, cot, calls_block)
        if role == "verifier":
            feedback = await self.verifier.diagnose(read_verifier(prompt, seed, self.catalogue))
            return Reply(role, split_think(feedback.raw)[0], feedback.value.model_dump_json(indent=2))
        if role == "summarizer":
            summary = await self.summarizer.summarize(read_summary(prompt, seed))
            return Reply(role, split_think(summary.raw)[0], summary.value)
        action = await self.target.act(read_target(messages, request.get("tools"), seed, self.catalogue))
        cot = split_think(action.raw)[0]
        return Reply(role, cot, action.value.text, list(action.value.calls))

    # ------------------------------------------------------------------------------------ writing

    def _completion(
        self, reply: Reply, request: dict[str, JsonValue], task: str, fault: str | None
    ) -> dict[str, JsonValue]:
        response_format = request.get("response_format")
        json_mode = isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        )
        think = "field" if json_mode else self.options.think
        content = reply.text if think == "field" else f"<think>\n{reply.cot}\n</think>\n{reply.text}"
        reasoning = reply.cot if think == "field" else None
        finish = "tool_calls" if reply.tool_calls else "stop"
        tool_calls: list[JsonValue] = []
        for i, call in enumerate(reply.tool_calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            if fault == "malformed":
                arguments = arguments[:-1]  # a model under test is never re-asked: a botched call stays
            function: dict[str, JsonValue] = {"name": call.name, "arguments": arguments}
            tool_calls.append(
                {"id": f"call_{_digest([task, i])[:24]}", "type": "function", "function": function}
            )
        limit = None if fault == "oversized" else _max_tokens(request)
        if fault == "oversized":
            content += "\n" + ("lorem ipsum " * (OVERSIZED_BYTES // 12 + 1))[:OVERSIZED_BYTES]
        if fault == "truncated" or (limit is not None and estimate_tokens(content) > limit):
            keep = int(len(content) * 0.6) if fault == "truncated" else max(0, limit or 0) * 4
            content, tool_calls, finish = content[:keep], [], "length"
        message: dict[str, JsonValue] = {"role": "assistant", "content": content or None}
        if reasoning:
            message["reasoning_content"] = reasoning
        if tool_calls:
            message["tool_calls"] = tool_calls
        messages = request.get("messages")
        shown = (
            "".join(message_text(m) for m in messages if isinstance(m, dict))
            if isinstance(messages, list)
            else ""
        )
        if request.get("tools"):
            shown += canonical_json(request["tools"])
        prompt_tokens = estimate_tokens(shown)
        completion_tokens = estimate_tokens(
            (content or "") + (reasoning or "") + "".join(canonical_json(t) for t in tool_calls)
        )
        return {
            "id": f"chatcmpl-{task[:24]}",
            "object": "chat.completion",
            "created": CREATED,
            "model": request.get("model"),
            "system_fingerprint": self.options.fingerprint,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


# ----------------------------------------------------------------------------------------- helpers


def check_request(body: JsonValue) -> dict[str, JsonValue]:
    """The body as a request, checked as the API checks it.

    Raises:
        RequestError: 400 with the parameter at fault.
    """
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in MESSAGE_ROLES:
            raise RequestError(
                400, f"messages[{i}] needs a role, one of {', '.join(MESSAGE_ROLES)}", param=f"messages[{i}]"
            )
    n = body.get("n", 1)
    if n not in (1, None):
        raise RequestError(400, "the stand-in answers with one choice only (n = 1)", param="n")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise RequestError(400, "tools must be an array", param="tools")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RequestError(400, "seed must be an integer", param="seed")
    return body


def garble(reply: Reply, fault: str, rng: random.Random) -> Reply:
    """The answer spoiled by a content fault (``malformed``, ``wrong_call``; ``truncated`` is applied to
    the written message)."""
    if fault == "wrong_call":
        if reply.role in ("reasoner", "target") and (reply.tool_calls or "<tool_call>" in reply.text):
            if reply.tool_calls:
                i = rng.randrange(len(reply.tool_calls))
                calls = list(reply.tool_calls)
                calls[i] = calls[i].model_copy(update={"name": calls[i].name + "_v2"})
                return Reply(reply.role, reply.cot, reply.text, calls)
            head, sep, rest = reply.text.partition("<tool_call>\n[")
            name_end = next((j for j, ch in enumerate(rest) if ch in '("{'), 0)
            if sep and name_end:
                return Reply(reply.role, reply.cot, f"{head}{sep}{rest[:name_end]}_v2{rest[name_end:]}")
        fault = "malformed"
    if fault != "malformed":
        return reply
    if reply.role in JSON_ROLES:
        return Reply(reply.role, reply.cot, reply.text.replace('"', "'"))
    if reply.role == "reasoner":
        return Reply(reply.role, reply.cot, reply.text.replace("]\n</tool_call>", "\n</tool_call>"))
    if reply.role == "summarizer":
        return Reply(reply.role, reply.cot, "")
    if reply.tool_calls:  # the target: broken arguments are written out in _completion
        return reply
    return Reply(reply.role, reply.cot, reply.text + '\n<tool_call>\n{"name": ')


def _max_tokens(request: dict[str, JsonValue]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = request.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _seed(value: JsonValue, task: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(task[:12], 16)  # no seed sent: the request itself decides


def _digest(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
