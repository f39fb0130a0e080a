"""One HTTP connection pool per endpoint: roles reuse each other's connections, and a wave of requests as
large as the endpoint's concurrency limit reuses the connections of the wave before it.

A small keep-alive HTTP server on 127.0.0.1 answers every chat completion and records the client port of
each request, so the number of distinct ports is the number of TCP connections the client opened.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

from hardgen.agents.base import SummaryInput
from hardgen.agents.llm import LLMSummarizer
from hardgen.agents.llm.client import (
    aclose_chat_models,
    clear_model_cache,
    http2_available,
    make_chat_model,
    reset_endpoint_limits,
    set_endpoint_limit,
)
from hardgen.agents.llm.faults import reset_breakers
from hardgen.config import AgentConfig
from tests.test_prompts import example_query


class PortCounter:
    """A keep-alive chat-completions server that answers ``content`` after ``delay_s``."""

    def __init__(self, content: str, delay_s: float = 0.0) -> None:
        self.ports: list[int] = []
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    server.ports.append(self.client_address[1])
                time.sleep(delay_s)
                message = {"role": "assistant", "content": content}
                body = {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                }
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a whole wave connects at once

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[PortCounter]:
    found = PortCounter("Your ticket from Rivermist to Stonebrook is booked.", delay_s=0.2)
    yield found
    found.close()


@pytest.fixture(autouse=True)
async def _clean_state() -> AsyncIterator[None]:
    clear_model_cache()
    reset_endpoint_limits()
    reset_breakers()
    yield
    await aclose_chat_models()
    clear_model_cache()
    reset_endpoint_limits()
    reset_breakers()


def config(base_url: str, **overrides: Any) -> AgentConfig:
    return AgentConfig(impl="llm", model="m", base_url=base_url, max_retries=0, **overrides)


async def test_roles_with_different_parameters_share_the_endpoints_connections(server: PortCounter) -> None:
    cool = LLMSummarizer(config(server.base_url, temperature=0.2, max_tokens=300))
    warm = LLMSummarizer(config(server.base_url, temperature=0.9, max_tokens=900), role="closing")
    assert make_chat_model(cool.config) is not make_chat_model(warm.config)  # two models, one pool

    for _ in range(2):
        for role in (cool, warm):
            await role.summarize(SummaryInput(query=example_query(), steps=[]))

    assert len(server.ports) == 4
    assert len(set(server.ports)) == 1  # one connection, reused by both roles


async def test_a_wave_as_large_as_the_limit_reuses_the_connections_of_the_last(
    server: PortCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the SDK's default of 100 idle connections per pool: the pool keeps as many as the endpoint
    # lets requests fly, so the second wave opens no connection. (Idle connections expire after 5 s by
    # default; on a loaded machine a wave can take longer, so the expiry is lifted here.)
    defaults = openai.DEFAULT_CONNECTION_LIMITS
    monkeypatch.setattr(
        openai,
        "DEFAULT_CONNECTION_LIMITS",
        type(defaults)(
            max_connections=defaults.max_connections,
            max_keepalive_connections=defaults.max_keepalive_connections,
            keepalive_expiry=120.0,
        ),
    )
    limit = 120
    set_endpoint_limit(server.base_url, limit)
    agent = LLMSummarizer(config(server.base_url, timeout_s=30.0))

    for wave in range(2):
        inputs = [SummaryInput(query=example_query(), steps=[], seed=wave * limit + i) for i in range(limit)]
        await asyncio.gather(*(agent.summarize(inp) for inp in inputs))

    assert len(server.ports) == 2 * limit
    assert len(set(server.ports)) == limit


def test_http2_only_for_https_endpoints_with_h2_installed() -> None:
    assert http2_available("http://127.0.0.1:8000/v1") is False  # vLLM and SGLang speak HTTP/1.1
    has_h2 = importlib.util.find_spec("h2") is not None
    assert http2_available("https://api.example.com/v1") is has_h2


async def test_a_role_asks_again_on_the_same_loop_after_the_connections_were_closed(
    server: PortCounter,
) -> None:
    agent = LLMSummarizer(config(server.base_url))
    inp = SummaryInput(query=example_query(), steps=[])
    await agent.summarize(inp)
    await aclose_chat_models()  # what a phase does at its end; the next phase may share the loop
    assert (await agent.summarize(inp)).value == "Your ticket from Rivermist to Stonebrook is booked."
    assert len(set(server.ports)) == 2
