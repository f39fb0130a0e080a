"""The LLM roles end to end against a small OpenAI-compatible HTTP server started by each test.

The server speaks just enough of ``POST /v1/chat/completions`` to replay a script of canned answers
(status, body, headers, delay), records every request body and counts requests in flight. No network
beyond 127.0.0.1 is used.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from hardgen.agents.base import (
    AgentError,
    EndpointFault,
    QueryGenerator,
    QueryInput,
    Reasoner,
    ReasonerInput,
    Summarizer,
    SummaryInput,
    TargetInput,
    TargetModel,
    ToolMaker,
    ToolMakerInput,
    Verifier,
    VerifierInput,
)
from hardgen.agents.llm import (
    LLMQueryGenerator,
    LLMReasoner,
    LLMSummarizer,
    LLMTargetModel,
    LLMToolMaker,
    LLMVerifier,
)
from hardgen.agents.llm.client import (
    DUMMY_API_KEY,
    LLMAgentError,
    endpoint_limit,
    make_chat_model,
    set_default_endpoint_limit,
    set_endpoint_limit,
)
from hardgen.agents.llm.parse import OutputError, extract_json_object, split_think
from hardgen.config import AgentConfig, ConfigError, TargetConfig
from hardgen.prompts import render
from hardgen.schema import CheckVerdict, Observation, ToolCall
from tests.llm_state import clean_llm_state, close_llm_connections  # noqa: F401  (autouse fixtures)
from tests.test_prompts import (
    example_advanced_tool,
    example_failed_attempt,
    example_query,
    example_steps,
    example_tools,
    example_trace,
)

# ------------------------------------------------------------------------------------ test server


@dataclass
class Canned:
    """One scripted answer of the server."""

    body: dict[str, Any] | str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def completion(
    content: str | None = "",
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
) -> Canned:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    if reasoning is not None:
        message["reasoning"] = reasoning
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return Canned(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "served-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def failure(status: int, message: str = "scripted failure") -> Canned:
    # retry-after-ms keeps the SDK's backoff short in tests (it honours the header).
    return Canned(
        {"error": {"message": message, "type": "test"}}, status=status, headers={"retry-after-ms": "1"}
    )


def tool_call(name: str, arguments: str, call_id: str = "call_x") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


class FakeOpenAI:
    """A tiny OpenAI-compatible chat server on 127.0.0.1 that replays ``script`` in order."""

    def __init__(self, script: list[Canned] | Callable[[dict[str, Any]], Canned]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    canned = server._next(body, self.path)
                try:
                    if canned.delay_s:
                        time.sleep(canned.delay_s)
                    data = canned.body if isinstance(canned.body, str) else json.dumps(canned.body)
                    payload = data.encode()
                    self.send_response(canned.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in canned.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def _next(self, body: dict[str, Any], path: str) -> Canned:
        if path != "/v1/chat/completions":
            return Canned({"error": {"message": f"no route {path}"}}, status=404)
        if callable(self.script):
            return self.script(body)
        if not self.script:
            return Canned({"error": {"message": "the test script is used up"}}, status=400)
        return self.script.pop(0)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeOpenAI]]:
    servers: list[FakeOpenAI] = []

    def start(script: list[Canned] | Callable[[dict[str, Any]], Canned]) -> FakeOpenAI:
        server = FakeOpenAI(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def config_for(server: FakeOpenAI, **overrides: Any) -> AgentConfig:
    values: dict[str, Any] = {
        "impl": "llm",
        "model": "test-model",
        "base_url": server.base_url,
        "temperature": 0.3,
        "max_tokens": 512,
        "timeout_s": 10.0,
        "max_retries": 2,
        "max_reasks": 1,
    }
    values.update(overrides)
    return AgentConfig(**values)


# ----------------------------------------------------------------------------------------- inputs


def tool_maker_input() -> ToolMakerInput:
    trace = example_trace()
    return ToolMakerInput(trace=trace, tools=example_tools(), seed=5)


def reasoner_input(**overrides: Any) -> ReasonerInput:
    values: dict[str, Any] = {
        "query": example_query(),
        "tools": example_tools(),
        "advanced_tool": example_advanced_tool(),
        "seed": 9,
    }
    values.update(overrides)
    return ReasonerInput(**values)


def verifier_input() -> VerifierInput:
    attempt = example_failed_attempt()
    return VerifierInput(
        query=example_query(),
        attempt=attempt,
        ground_truth=example_trace().steps[0].calls,
        execution_result=[Observation(call=attempt.calls[0], ok=False, error="unknown zip")],
        verdict=CheckVerdict(correct=False, error_type="call:wrong_name"),
        tools=example_tools(),
    )


TOOL_JSON = json.dumps(
    {
        "advanced_tool_name": "buy_tickets_between_cities",
        "description": "Buy a ticket between two cities named by the user.",
        "parameters": [
            {"name": "city_from", "type": "str", "description": "From.", "value": "Rivermist"},
            {"name": "city_to", "type": "string", "description": "To.", "value": "Stonebrook"},
        ],
        "returns": {"ticket_id": "string"},
    }
)
REASONER_ANSWER = (
    "<think>\nBoth zip codes are needed first.\n</think>\n<tool_call>\n"
    '[get_zipcode(city="Rivermist"), get_zipcode(city="Stonebrook")]\n</tool_call>'
)
LOOKUPS = [
    ToolCall(name="get_zipcode", arguments={"city": "Rivermist"}),
    ToolCall(name="get_zipcode", arguments={"city": "Stonebrook"}),
]


# ------------------------------------------------------------------------------------------ roles


async def test_tool_maker_reads_fenced_json_after_inline_thinking(serve: Callable[..., FakeOpenAI]) -> None:
    answer = (
        f"<think>The zip codes are intermediate {{not json}}.</think>\nHere it is:\n```json\n{TOOL_JSON}\n```"
    )
    server = serve([completion(answer, prompt_tokens=120, completion_tokens=40)])
    agent = LLMToolMaker(config_for(server, extra_body={"top_k": 20}))

    result = await agent.make_tool(tool_maker_input())

    tool = result.value
    assert tool.name == "buy_tickets_between_cities"
    assert [(p.name, p.type, p.value) for p in tool.parameters] == [
        ("city_from", "string", "Rivermist"),
        ("city_to", "string", "Stonebrook"),
    ]
    assert tool.returns == '{"ticket_id":"string"}'
    assert tool.primitive_tools == ["get_zipcode", "buy_tickets"]
    assert result.raw == answer
    [usage] = result.usage
    assert (usage.role, usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        "tool_maker",
        "served-model",
        120,
        40,
    )
    [body] = server.requests
    expected_prompt = render("tool_maker", trace=example_trace(), tools=example_tools(), history=[])
    assert body["messages"] == [{"role": "user", "content": expected_prompt}]
    assert body["model"] == "test-model"
    assert body["max_tokens"] == 512 and "max_completion_tokens" not in body
    assert body["temperature"] == 0.3 and body["seed"] == 5 and body["top_k"] == 20
    assert "response_format" not in body


async def test_query_generator_keeps_a_separate_reasoning_field_out_of_the_answer(
    serve: Callable[..., FakeOpenAI],
) -> None:
    server = serve(
        [
            completion(
                '{"query": "Get me a flight ticket from Rivermist to Stonebrook."}', reasoning_content="{"
            )
        ]
    )
    agent = LLMQueryGenerator(config_for(server))
    inp = QueryInput(advanced_tool=example_advanced_tool(), trace=example_trace(), tools=example_tools())

    result = await agent.make_query(inp)

    assert result.value.text == "Get me a flight ticket from Rivermist to Stonebrook."
    assert result.value.advanced_tool == "buy_tickets_between_cities"


@pytest.mark.parametrize(
    ("reply", "expected_cot"),
    [
        pytest.param(completion(REASONER_ANSWER), "Both zip codes are needed first.", id="inline-think"),
        pytest.param(
            completion(REASONER_ANSWER.split("</think>\n")[1], reasoning_content="Need zip codes (vLLM)."),
            "Need zip codes (vLLM).",
            id="reasoning_content-field",
        ),
        pytest.param(
            completion(REASONER_ANSWER.split("</think>\n")[1], reasoning="Need zip codes (Ollama)."),
            "Need zip codes (Ollama).",
            id="reasoning-field",
        ),
        pytest.param(
            completion(REASONER_ANSWER, reasoning_content="Field first."),
            "Field first.\n\nBoth zip codes are needed first.",
            id="both",
        ),
        pytest.param(
            completion(
                "Both zip codes are needed first.\n</think>\n" + REASONER_ANSWER.split("</think>\n")[1]
            ),
            "Both zip codes are needed first.",
            id="opening-tag-in-template",
        ),
    ],
)
async def test_reasoner_captures_the_cot_wherever_the_server_puts_it(
    serve: Callable[..., FakeOpenAI], reply: Canned, expected_cot: str
) -> None:
    server = serve([reply])
    result = await LLMReasoner(config_for(server)).reason(reasoner_input(attempt=1))

    attempt = result.value
    assert attempt.cot == expected_cot
    assert attempt.calls == LOOKUPS
    assert attempt.attempt == 1
    assert attempt.usage == result.usage and len(result.usage) == 1
    assert len(server.requests) == 1


async def test_reasoner_accepts_native_tool_calls(serve: Callable[..., FakeOpenAI]) -> None:
    calls = [
        tool_call("get_zipcode", '{"city": "Rivermist"}'),
        tool_call("get_zipcode", '{"city": "Stonebrook"}'),
    ]
    server = serve([completion(None, reasoning_content="Look both up.", tool_calls=calls)])
    result = await LLMReasoner(config_for(server)).reason(reasoner_input())
    assert result.value.calls == LOOKUPS
    assert result.value.cot == "Look both up."


async def test_reasoner_reasks_after_unreadable_native_calls(serve: Callable[..., FakeOpenAI]) -> None:
    calls = [tool_call("get_zipcode", '{"city": "Rivermist"}'), tool_call("get_zipcode", '{"city": ')]
    server = serve([completion(None, tool_calls=calls), completion(REASONER_ANSWER)])
    result = await LLMReasoner(config_for(server)).reason(reasoner_input())
    assert result.value.calls == LOOKUPS
    assert "unreadable tool call" in server.requests[1]["messages"][-1]["content"]


def test_an_llm_target_is_named_after_its_model() -> None:
    config = TargetConfig(impl="llm", model="qwen3-4b", base_url="http://127.0.0.1:9/v1")
    assert LLMTargetModel(config).name == "qwen3-4b"


async def test_refinement_prompt_carries_the_failed_attempts_and_feedback(
    serve: Callable[..., FakeOpenAI],
) -> None:
    server = serve([completion(REASONER_ANSWER)])
    failed = [example_failed_attempt()]
    inp = reasoner_input(failed_attempts=failed, attempt=2)

    result = await LLMReasoner(config_for(server)).reason(inp)

    assert result.value.attempt == 2
    expected = render(
        "reasoner_refine",
        query=inp.query,
        tools=inp.tools,
        advanced_tool=inp.advanced_tool,
        previous_turns=[],
        done_steps=[],
        failed_attempts=failed,
    )
    [body] = server.requests
    assert body["messages"][0]["content"] == expected
    assert "buy_tickets takes zip codes" in expected  # the Verifier's hint reached the prompt


async def test_malformed_answer_is_reasked_then_accepted(serve: Callable[..., FakeOpenAI]) -> None:
    bad = "<think>hmm</think>I would call get_zipcode(city=Rivermist) first."
    server = serve([completion(bad, finish_reason="length"), completion(REASONER_ANSWER)])

    result = await LLMReasoner(config_for(server, max_reasks=1)).reason(reasoner_input())

    assert result.value.calls == LOOKUPS
    assert len(result.usage) == 2
    assert len(server.requests) == 2
    first, second = (r["messages"] for r in server.requests)
    assert second[: len(first)] == first
    assert second[1] == {"role": "assistant", "content": "I would call get_zipcode(city=Rivermist) first."}
    assert second[2]["role"] == "user"
    assert second[2]["content"].startswith("Your previous answer could not be used:")
    assert "max_tokens=512" in second[2]["content"]  # the cut-off is named
    assert "<tool_call>" in second[2]["content"]  # the format is restated


async def test_reasks_are_bounded_then_malformed_output(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([completion("no json here")] * 3)

    with pytest.raises(AgentError) as info:
        await LLMVerifier(config_for(server, max_reasks=2)).diagnose(verifier_input())

    assert info.value.reason == "llm:malformed_output"
    assert info.value.raw == "no json here"
    assert "no valid JSON object" in str(info.value)
    assert len(server.requests) == 3
    assert isinstance(info.value, LLMAgentError) and len(info.value.usage) == 3


async def test_tool_maker_reasks_for_a_name_that_is_not_an_identifier(
    serve: Callable[..., FakeOpenAI],
) -> None:
    wrong = json.loads(TOOL_JSON) | {"advanced_tool_name": "buy tickets"}
    server = serve([completion(json.dumps(wrong)), completion(TOOL_JSON)])
    result = await LLMToolMaker(config_for(server)).make_tool(tool_maker_input())
    assert result.value.name == "buy_tickets_between_cities"
    assert "snake_case identifier" in server.requests[1]["messages"][2]["content"]


async def test_verifier_feedback_is_parsed(serve: Callable[..., FakeOpenAI]) -> None:
    answer = json.dumps(
        {
            "error_type": "missing dependency",
            "error_location": "buy_tickets",
            "root_cause": "Skipped the lookup.",
            "corrective_hint": "What does buy_tickets need that you do not have yet?",
            "should_reconsider": "inputs of buy_tickets",
        }
    )
    server = serve([completion(f"<think>compare</think>{answer}")])
    result = await LLMVerifier(config_for(server)).diagnose(verifier_input())
    assert result.value.error_type == "missing dependency"
    assert result.value.should_reconsider == ["inputs of buy_tickets"]


async def test_summary_drops_the_thinking(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([completion("<think>Ticket 14589.</think>\n\nYour ticket 14589 is booked.")])
    result = await LLMSummarizer(config_for(server)).summarize(
        SummaryInput(query=example_query(), steps=example_steps())
    )
    assert result.value == "Your ticket 14589 is booked."


# ------------------------------------------------------------------------------------ target model


def target_input() -> TargetInput:
    first = example_steps()[0]
    return TargetInput(query=example_query(), tools=example_tools(), transcript=[first], seed=3)


async def test_target_uses_native_tool_calling_with_stable_ids(serve: Callable[..., FakeOpenAI]) -> None:
    call = tool_call("buy_tickets", '{"zip_from": "83214", "zip_to": "74532"}', call_id="call_srv_1")
    server = serve([completion(None, tool_calls=[call]), completion(None, tool_calls=[call])])
    agent = LLMTargetModel(TargetConfig(impl="llm", name="qwen-small", model="m", base_url=server.base_url))

    result = await agent.act(target_input())
    again = await agent.act(target_input())

    assert agent.name == "qwen-small"
    assert result.value.calls == [
        ToolCall(name="buy_tickets", arguments={"zip_from": "83214", "zip_to": "74532"})
    ]
    assert again.value == result.value
    assert server.requests[0] == server.requests[1]  # the same transcript gives the same body
    body = server.requests[0]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_zipcode", "buy_tickets"]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool"]
    assert body["messages"][0]["content"] == render("target")
    assistant = body["messages"][2]
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_0_0", "call_0_1"]
    assert [json.loads(c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        {"city": "Rivermist"},
        {"city": "Stonebrook"},
    ]
    tools = body["messages"][3:]
    assert [(m["tool_call_id"], json.loads(m["content"])) for m in tools] == [
        ("call_0_0", {"zipcode": "83214"}),
        ("call_0_1", {"zipcode": "74532"}),
    ]


async def test_target_is_not_reasked_and_botched_calls_count_as_no_calls(
    serve: Callable[..., FakeOpenAI],
) -> None:
    server = serve([completion(None, tool_calls=[tool_call("buy_tickets", "{not json")])])
    result = await LLMTargetModel(config_for(server)).act(target_input())
    assert result.value.calls == []
    assert "invalid tool call" in result.value.text
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("content", "calls"),
    [
        (
            '<tool_call>\n{"name": "get_zipcode", "arguments": {"city": "Rivermist"}}\n</tool_call>',
            LOOKUPS[:1],
        ),
        ("Your ticket is booked.", []),
    ],
    ids=["calls-in-text", "final-answer"],
)
async def test_target_without_native_calls(
    serve: Callable[..., FakeOpenAI], content: str, calls: list[ToolCall]
) -> None:
    server = serve([completion(content)])
    result = await LLMTargetModel(config_for(server)).act(target_input())
    assert result.value.calls == calls


# --------------------------------------------------------------------------- retries and failures


async def test_rate_limit_and_server_errors_are_retried(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([failure(429), failure(503), completion(REASONER_ANSWER)])
    result = await LLMReasoner(config_for(server, max_retries=2)).reason(reasoner_input())
    assert result.value.calls == LOOKUPS
    assert len(server.requests) == 3
    assert [h.get("x-stainless-retry-count") for h in server.headers] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("script", "max_retries", "reason", "transient", "requests"),
    [
        pytest.param([failure(429)] * 3, 2, "llm:http_429", True, 3, id="429-after-retries"),
        pytest.param([failure(500)] * 2, 1, "llm:http_500", True, 2, id="500-after-retries"),
        pytest.param([failure(400)], 3, "llm:http_400", False, 1, id="400-not-retried"),
        pytest.param([failure(401)], 3, "llm:http_401", False, 1, id="401-not-retried"),
        pytest.param([failure(404)], 3, "llm:http_404", False, 1, id="404-not-retried"),
        pytest.param(
            [Canned({"error": {"message": "boom"}})] * 2, 1, "llm:bad_response", True, 2, id="200-error-body"
        ),
        pytest.param([Canned("<html>proxy</html>")] * 3, 2, "llm:bad_response", True, 3, id="200-not-json"),
    ],
)
async def test_http_failures_become_endpoint_faults(
    serve: Callable[..., FakeOpenAI],
    script: list[Canned],
    max_retries: int,
    reason: str,
    transient: bool,
    requests: int,
) -> None:
    server = serve(list(script))
    with pytest.raises(EndpointFault) as info:
        await LLMSummarizer(config_for(server, max_retries=max_retries)).summarize(
            SummaryInput(query=example_query(), steps=[])
        )
    assert not isinstance(info.value, AgentError)  # a node can never take it for the model's failure
    assert info.value.reason == reason
    assert info.value.transient is transient
    assert server.base_url in str(info.value)  # the message names the endpoint
    assert len(server.requests) == requests


async def test_a_broken_body_is_retried(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([Canned("<html>proxy</html>"), Canned('{"id": "x", "choices": [{'), completion("fine")])
    result = await LLMSummarizer(config_for(server, max_retries=2)).summarize(
        SummaryInput(query=example_query(), steps=[])
    )
    assert result.value == "fine"
    assert len(server.requests) == 3


async def test_a_context_overflow_is_the_models_failure(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([failure(400, "This model's maximum context length is 8192 tokens")])
    with pytest.raises(AgentError) as info:
        await LLMSummarizer(config_for(server)).summarize(SummaryInput(query=example_query(), steps=[]))
    assert info.value.reason == "llm:context_too_long"


async def test_an_oversized_answer_is_reasked_then_discarded(serve: Callable[..., FakeOpenAI]) -> None:
    huge = completion("x" * 300_000)
    server = serve([huge, completion("Done: all set.")])
    result = await LLMSummarizer(config_for(server)).summarize(SummaryInput(query=example_query(), steps=[]))
    assert result.value == "Done: all set."
    resent = server.requests[1]["messages"][1]["content"]
    assert len(resent) <= 4000  # the oversized answer is not sent back whole
    assert "over the cap" in server.requests[1]["messages"][2]["content"]

    server = serve([completion("y" * 2000)] * 2)
    config = config_for(server, max_reasks=1, options={"max_answer_bytes": 1000})
    with pytest.raises(AgentError) as info:
        await LLMSummarizer(config).summarize(SummaryInput(query=example_query(), steps=[]))
    assert info.value.reason == "llm:malformed_output"
    assert "options.max_answer_bytes" in str(info.value)


async def test_timeout_is_retried_then_reported(serve: Callable[..., FakeOpenAI]) -> None:
    slow = completion("late", completion_tokens=1)
    slow.delay_s = 1.0
    server = serve([slow, completion("on time")])
    result = await LLMSummarizer(config_for(server, timeout_s=0.2, max_retries=1)).summarize(
        SummaryInput(query=example_query(), steps=[])
    )
    assert result.value == "on time"
    assert len(server.requests) == 2

    slow_again = completion("late")
    slow_again.delay_s = 1.0
    server = serve([slow_again])
    with pytest.raises(EndpointFault) as info:
        await LLMSummarizer(config_for(server, timeout_s=0.2, max_retries=0)).summarize(
            SummaryInput(query=example_query(), steps=[])
        )
    assert info.value.reason == "llm:timeout" and info.value.transient


async def test_unreachable_endpoint(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve([])
    url = server.base_url
    server.close()
    breaker = {"probe_every_s": 0.1, "give_up_after_s": 0.5}
    config = AgentConfig(
        impl="llm", model="m", base_url=url, max_retries=0, options={"circuit_breaker": breaker}
    )
    started = asyncio.get_running_loop().time()
    with pytest.raises(EndpointFault) as info:
        await LLMSummarizer(config).summarize(SummaryInput(query=example_query(), steps=[]))
    # A refused connection opens the endpoint's breaker at once: the request waits for the endpoint
    # (probing it), then gives up as a transient fault that defers the item.
    assert info.value.reason == "llm:endpoint_down" and info.value.transient
    assert url in str(info.value)
    assert 0.4 < asyncio.get_running_loop().time() - started < 10


async def test_concurrent_requests_are_capped_per_endpoint(serve: Callable[..., FakeOpenAI]) -> None:
    def slow_answer(body: dict[str, Any]) -> Canned:
        canned = completion("done")
        canned.delay_s = 0.1
        return canned

    server = serve(slow_answer)
    set_endpoint_limit(server.base_url, 2)
    agent = LLMSummarizer(config_for(server))
    inp = SummaryInput(query=example_query(), steps=[])

    results = await asyncio.gather(*(agent.summarize(inp) for _ in range(6)))

    assert [r.value for r in results] == ["done"] * 6
    assert server.max_in_flight == 2


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_agent_survives_successive_event_loops(serve: Callable[..., FakeOpenAI]) -> None:
    # The server keeps connections alive; a pooled connection of a closed loop must not be reused.
    server = serve(lambda body: completion("ok"))
    agent = LLMSummarizer(config_for(server))
    inp = SummaryInput(query=example_query(), steps=[])
    assert [asyncio.run(agent.summarize(inp)).value for _ in range(3)] == ["ok"] * 3
    assert len(server.requests) == 3
    gc.collect()  # the unclosed connections of the finished loops are reported here, not in a later test


def test_endpoint_limits_default_and_per_role() -> None:
    local, other = "http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"
    assert endpoint_limit(local) == 64
    set_default_endpoint_limit(8)
    LLMSummarizer(
        AgentConfig(impl="llm", model="m", base_url=local, options={"max_concurrency_per_endpoint": 3})
    )
    assert (endpoint_limit(local + "/"), endpoint_limit(other)) == (3, 8)
    with pytest.raises(ConfigError, match="at least 1"):
        set_endpoint_limit(other, 0)


# ------------------------------------------------------------------------------ factory and config


def test_openai_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(AgentConfig(impl="llm", model="gpt-4o-mini"))


def test_a_model_name_is_required() -> None:
    with pytest.raises(ConfigError, match="model"):
        make_chat_model(AgentConfig(impl="llm", base_url="http://127.0.0.1:9/v1"))


def test_unknown_options_are_a_config_error() -> None:
    config = AgentConfig(
        impl="llm", model="m", base_url="http://127.0.0.1:9/v1", options={"max_concurency": 2}
    )
    with pytest.raises(ConfigError, match="max_concurency"):
        LLMReasoner(config)


async def test_key_and_base_url_come_from_the_environment(
    serve: Callable[..., FakeOpenAI], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve([completion("a"), completion("b")])
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    inp = SummaryInput(query=example_query(), steps=[])

    await LLMSummarizer(AgentConfig(impl="llm", model="m", api_key_env="HARDGEN_TEST_KEY")).summarize(inp)
    monkeypatch.setenv("HARDGEN_TEST_KEY", "sk-local-secret")
    await LLMSummarizer(AgentConfig(impl="llm", model="m", api_key_env="HARDGEN_TEST_KEY")).summarize(inp)

    assert [h["authorization"] for h in server.headers] == [
        f"Bearer {DUMMY_API_KEY}",
        "Bearer sk-local-secret",
    ]


def test_openai_itself_gets_max_completion_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = make_chat_model(AgentConfig(impl="llm", model="gpt-4o-mini", max_tokens=99))
    payload = model._get_request_payload([HumanMessage(content="hi")])
    assert payload["max_completion_tokens"] == 99 and "max_tokens" not in payload


def test_models_are_shared_per_endpoint_and_parameters() -> None:
    base = AgentConfig(impl="llm", model="m", base_url="http://127.0.0.1:9/v1")
    assert make_chat_model(base) is make_chat_model(base.model_copy())
    assert make_chat_model(base) is not make_chat_model(base.model_copy(update={"temperature": 0.9}))
    assert make_chat_model(base) is not make_chat_model(base.model_copy(update={"model": "other"}))


def test_llm_roles_satisfy_the_protocols(serve: Callable[..., FakeOpenAI]) -> None:
    config = AgentConfig(impl="llm", model="m", base_url="http://127.0.0.1:9/v1")
    assert isinstance(LLMToolMaker(config), ToolMaker)
    assert isinstance(LLMQueryGenerator(config), QueryGenerator)
    assert isinstance(LLMReasoner(config), Reasoner)
    assert isinstance(LLMVerifier(config), Verifier)
    assert isinstance(LLMSummarizer(config), Summarizer)
    assert isinstance(LLMTargetModel(config, "target"), TargetModel)


# ----------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text",
    [
        '{"query": "x"}',
        '<think>{"query": "wrong"</think>{"query": "x"}',
        'Sure!\n```json\n{"query": "x"}\n```\nDone.',
        'The answer is {"query": "x"} as requested {"query": "y"}',
        'I think {this} is it: {"query": "x"}',
        '</think>\n{"query": "x"}',
    ],
)
def test_json_is_found_around_thinking_and_prose(text: str) -> None:
    assert extract_json_object(text) == {"query": "x"}


@pytest.mark.parametrize("text", ["", "<think>only thinking", "[1, 2]", '{"query": NaN}', "{'query': 'x'}"])
def test_no_json_object_is_an_output_error(text: str) -> None:
    with pytest.raises(OutputError):
        extract_json_object(text)


def test_split_think_handles_truncated_thinking() -> None:
    assert split_think("<think>step one\nstep tw") == ("step one\nstep tw", "")
    assert split_think("a<think>b</think>c<think>d</think>e") == ("b\n\nd", "ace")
