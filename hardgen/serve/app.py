"""The stand-in's HTTP side: a Starlette app served by uvicorn, in the foreground or on a thread.

Routes (with or without the ``/v1`` prefix, so both base URL styles work):
    POST /v1/chat/completions   the OpenAI chat-completions API (``stream: true`` answers with SSE)
    GET  /v1/models             one model entry (any model name is accepted)
    GET  /health                liveness
    GET  /hardgen/stats         request, role, fault and error counters and the process's CPU seconds
                                (``cpu_s``; not an OpenAI route)
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator
from types import TracebackType

import uvicorn
from pydantic import JsonValue
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hardgen.serve.standin import Outcome, RequestError, StandIn, StandInOptions, error_payload

log = logging.getLogger(__name__)

MODEL_ID = "hardgen-standin"


def create_app(standin: StandIn) -> Starlette:
    """The Starlette app of one stand-in."""
    options = standin.options

    async def chat_completions(request: Request) -> Response:
        stats = standin.stats
        stats.requests += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            refused = _check_key(request, options.api_key)
            if refused is not None:
                stats.errors["401"] += 1
                return refused
            try:
                body = json.loads(await request.body())
            except ValueError as exc:
                stats.errors["400"] += 1
                return _error(RequestError(400, f"the request body is not valid JSON: {exc}"))
            try:
                outcome = await standin.chat(body)
            except RequestError as exc:
                stats.errors[str(exc.status)] += 1
                return _error(exc)
            except Exception:
                log.exception("the stand-in failed on a %s request", "chat")
                stats.errors["500"] += 1
                return _error(RequestError(500, "the stand-in failed; see its log", kind="server_error"))
            if options.latency_ms > 0:
                await asyncio.sleep(options.latency_ms / 1000)
            return await _respond(request, outcome, body, options)
        finally:
            stats.in_flight -= 1

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "hardgen"}],
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def stats(request: Request) -> Response:
        data = standin.stats.as_json()
        data["options"] = {"fingerprint": options.fingerprint, "latency_ms": options.latency_ms}
        data["cpu_s"] = time.process_time()  # the server process's own CPU, so benchmarks can leave it out
        return JSONResponse(data)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = f"{request.method} {request.url.path}: " + (
            exc.detail if isinstance(exc, HTTPException) else "the stand-in failed"
        )
        return JSONResponse(error_payload(message), status_code=status, headers={"x-should-retry": "false"})

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/models", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/hardgen/stats", stats, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def _check_key(request: Request, api_key: str | None) -> Response | None:
    if api_key is None:
        return None
    given = request.headers.get("authorization", "")
    if given == f"Bearer {api_key}":
        return None
    return JSONResponse(
        error_payload("Incorrect API key provided.", code="invalid_api_key"),
        status_code=401,
        headers={"x-should-retry": "false"},
    )


def _error(exc: RequestError) -> Response:
    # A refused request fails again when retried; a server error may not.
    retry = {"x-should-retry": "false"} if exc.status < 500 else {}
    return JSONResponse(exc.payload(), status_code=exc.status, headers=retry)


async def _respond(request: Request, outcome: Outcome, body: JsonValue, options: StandInOptions) -> Response:
    retry_after = {"retry-after-ms": str(options.retry_after_ms)}
    if outcome.fault == "429":
        payload = error_payload(
            "Rate limit reached for requests (injected by the stand-in).", kind="requests",
            code="rate_limit_exceeded",
        )  # fmt: skip
        return JSONResponse(payload, status_code=429, headers=retry_after)
    if outcome.fault == "500":
        payload = error_payload("The server had an error (injected by the stand-in).", kind="server_error")
        return JSONResponse(payload, status_code=500, headers=retry_after)
    if outcome.fault == "timeout":
        await _hang(request, options.hang_s)
        return JSONResponse(error_payload("timed out (injected)", kind="server_error"), status_code=504)
    if outcome.fault == "broken_body":
        text = json.dumps({"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"index": 0}]})
        return Response(text[: len(text) // 2], media_type="application/json")
    completion = outcome.completion or {}
    if isinstance(body, dict) and body.get("stream"):
        include_usage = isinstance(body.get("stream_options"), dict) and bool(
            body["stream_options"].get("include_usage")  # type: ignore[union-attr]
        )
        return StreamingResponse(_chunks(completion, include_usage), media_type="text/event-stream")
    return JSONResponse(completion)


async def _hang(request: Request, seconds: float) -> None:
    """Keep the client waiting for ``seconds``, or until it disconnects."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


async def _chunks(completion: dict[str, JsonValue], include_usage: bool) -> AsyncIterator[str]:
    """A completion as ``chat.completion.chunk`` server-sent events."""
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    assert isinstance(message, dict)
    head = {k: completion.get(k) for k in ("id", "created", "model", "system_fingerprint")}

    def chunk(delta: dict[str, JsonValue], finish: JsonValue = None, **extra: JsonValue) -> str:
        data = {**head, "object": "chat.completion.chunk", **extra}
        data["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if message.get("reasoning_content"):
        yield chunk({"reasoning_content": message["reasoning_content"]})
    if message.get("content"):
        yield chunk({"content": message["content"]})
    calls = message.get("tool_calls")
    for i, call in enumerate(calls if isinstance(calls, list) else []):
        if isinstance(call, dict):
            yield chunk({"tool_calls": [{"index": i, **call}]})
    yield chunk({}, finish=choice.get("finish_reason"))
    if include_usage:
        data = {**head, "object": "chat.completion.chunk", "choices": [], "usage": completion.get("usage")}
        yield f"data: {json.dumps(data)}\n\n"
    yield "data: [DONE]\n\n"


# ------------------------------------------------------------------------------------------ running


def uvicorn_config(standin: StandIn, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(standin),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        backlog=4096,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol must be named: asyncio turns Nagle's algorithm off only on sockets whose proto is
    # IPPROTO_TCP, and with it on, every answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def run_server(standin: StandIn, sock: socket.socket) -> None:
    """Serve on ``sock`` until interrupted (the ``hardgen serve`` command)."""
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(standin, host, port))
    server.run(sockets=[sock])


class BackgroundServer:
    """A stand-in served on a thread of this process (tests, the recording script, benchmarks)::

    with BackgroundServer(StandInOptions(fault_rate=0.1)) as server:
        ...  # point OPENAI_BASE_URL at server.base_url
    """

    def __init__(
        self,
        options: StandInOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        standin: StandIn | None = None,
    ) -> None:
        # Passing the StandIn of a stopped server restarts it with its memory of the run, as a real
        # model server comes back with the same weights (the fault suite's outage and restart).
        self.standin = standin or StandIn(options)
        self._sock = bind(host, port)
        address = self._sock.getsockname()
        self.host, self.port = address[0], int(address[1])
        self._server = uvicorn.Server(uvicorn_config(self.standin, self.host, self.port))
        self._thread = threading.Thread(target=self._serve, name="hardgen-standin", daemon=True)
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ends in ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self) -> BackgroundServer:
        """Start serving; returns once the server accepts requests.

        Raises:
            RuntimeError: The server did not start within 10 s.
        """
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the stand-in server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the stand-in server did not start within 10 s")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
