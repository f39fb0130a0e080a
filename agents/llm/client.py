"""The one model factory of the LLM path, and the guarded call every LLM role goes through.

Every role talks to an OpenAI-compatible ``/v1/chat/completions`` endpoint (OpenAI, vLLM, SGLang, Ollama)
through LangChain's ``ChatOpenAI``, built here from the role's :class:`~hardgen.config.AgentConfig`.

Decisions (each covered by tests against a real local HTTP server):

* **Faults** are told apart in :mod:`hardgen.agents.llm.faults`: HTTP retries are the openai SDK's own
  (``max_retries``: 408/409/429/5xx, connection errors and timeouts, exponential backoff with jitter,
  ``Retry-After`` honoured); broken 200 bodies are retried there with the same backoff. Past the retries
  a transport failure is an :class:`~hardgen.agents.base.EndpointFault` (transient: the item is
  deferred; permanent: the run stops), never an agent error; a circuit breaker per endpoint holds
  requests back while the endpoint is down.
* **Caps**: an answer larger than ``options.max_answer_bytes`` (default 256 KiB) or
  ``options.max_answer_tokens`` (default: ``max_tokens``) is unusable, like a malformed one.
* **Reasoning text**: ``ChatOpenAI`` drops the non-standard ``reasoning_content`` (vLLM, SGLang,
  DeepSeek) and ``reasoning`` (Ollama, newer vLLM) message fields. :class:`ReasoningChatOpenAI` keeps
  them in ``AIMessage.additional_kwargs["reasoning_content"]``.
* **max_tokens**: ``ChatOpenAI`` sends ``max_completion_tokens``, which Ollama ignores; servers other than
  api.openai.com get ``max_tokens`` (understood by vLLM, SGLang and Ollama).
* **Connections**: every role of one endpoint (base URL) shares one ``httpx`` client per event loop, passed
  to ``ChatOpenAI`` as ``http_async_client``: whatever their model parameters, roles reuse each other's
  pooled connections, and the pool keeps as many idle connections alive as the endpoint's concurrency
  limit allows requests in flight (no connection is closed and reopened between two waves of requests).
  An ``https`` endpoint speaks HTTP/2 when the ``h2`` package is installed (``pip install hardgen[http2]``);
  plain ``http`` (a local vLLM or SGLang) stays on HTTP/1.1, which those servers speak.
* **Concurrency**: one ``asyncio.Semaphore`` per endpoint (base URL) and event loop caps the requests in
  flight to a server, whichever roles share it. The runner passes
  ``settings.agents.max_concurrency_per_endpoint`` to :func:`set_default_endpoint_limit`; a role's
  ``options.max_concurrency_per_endpoint`` sets its endpoint's own limit (:func:`set_endpoint_limit`).
* **Rate limits**: requests and tokens per minute per endpoint (``agents.endpoints``) and the endpoint-wide
  pause after a ``Retry-After`` live in :mod:`hardgen.agents.llm.limits`; :func:`call_model` waits for
  a slot there (inside the concurrency limit) and settles the tokens afterwards.
* **No structured-output mode**: answers are requested as plain text and parsed by the roles, because a
  ``json_schema`` response format breaks on reasoning models that write ``<think>`` text inline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import openai
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from hardgen.agents.llm.faults import BrokenBody, breaker, classify, retry_broken_bodies
from hardgen.agents.llm.faults import LLMAgentError as LLMAgentError  # re-exported: roles and callers
from hardgen.agents.llm.limits import note_response, rate_slot
from hardgen.config import AgentConfig, ConfigError
from hardgen.live import record_http
from hardgen.schema import TokenUsage, ToolCall, canonical_json
from hardgen.tracing import model_call_config

logger = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"
DUMMY_API_KEY = "not-needed"  # vLLM, SGLang and Ollama accept any key; the SDK insists on one
DEFAULT_ENDPOINT_LIMIT = 64
DEFAULT_MAX_ANSWER_BYTES = 256 * 1024
MAX_BREAKER_WAITS = 3  # how often one request waits out an open circuit breaker before it gives up
REASONING_FIELDS = ("reasoning_content", "reasoning")


# ------------------------------------------------------------------------------------------ model


class ReasoningChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` that keeps a server's separate reasoning text and speaks ``max_tokens`` to
    non-OpenAI servers."""

    def _create_chat_result(
        self, response: dict[str, Any] | openai.BaseModel, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        # The typed response keeps unknown fields as attributes: read them there rather than dumping the
        # whole response a second time (the parent class dumps it once already).
        if isinstance(response, dict):
            choices = response.get("choices")
        else:
            choices = getattr(response, "choices", None)
        for generation, choice in zip(result.generations, choices or [], strict=False):
            if isinstance(choice, dict):
                message = choice.get("message") or {}
            else:
                typed = getattr(choice, "message", None)
                message = {name: getattr(typed, name, None) for name in REASONING_FIELDS}
            reasoning = _reasoning_of(message) if isinstance(message, Mapping) else ""
            if reasoning:
                generation.message.additional_kwargs["reasoning_content"] = reasoning
        return result

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        if not is_openai_endpoint(self.openai_api_base) and "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload


def _reasoning_of(message: Mapping[str, Any]) -> str:
    for name in REASONING_FIELDS:
        value = message.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def resolve_base_url(base_url: str | None) -> str:
    """The endpoint a role talks to: its ``base_url``, else ``OPENAI_BASE_URL``, else OpenAI's."""
    url = base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
    return url.rstrip("/")


def is_openai_endpoint(base_url: str | None) -> bool:
    """Whether ``base_url`` is OpenAI's own API (which needs a real key and ``max_completion_tokens``)."""
    host = (urlparse(resolve_base_url(base_url)).hostname or "").lower()
    return host == "openai.com" or host.endswith(".openai.com")


_MODELS: dict[tuple[str, ...], ChatOpenAI] = {}
_LOOP_MODELS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], ChatOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def make_chat_model(config: AgentConfig) -> ChatOpenAI:
    """The chat model for one role, shared by every role with the same endpoint, model and parameters.

    Inside a running event loop the model is also specific to that loop and has its own HTTP connection
    pool: pooled connections belong to the loop that opened them, and reusing one from a closed loop (a
    second ``asyncio.run`` in the same process) fails.

    Raises:
        ConfigError: No model name, or no API key while talking to api.openai.com.
    """
    if not config.model:
        raise ConfigError("model is empty: an 'llm' agent needs the name of the model to call")
    base_url = resolve_base_url(config.base_url)
    api_key = os.environ.get(config.api_key_env, "")
    if not api_key:
        if is_openai_endpoint(base_url):
            raise ConfigError(
                f"the environment variable {config.api_key_env} holds no API key, and {base_url} needs one: "
                f"export {config.api_key_env}=... or point base_url at a local server (vLLM, SGLang, Ollama)"
            )
        api_key = DUMMY_API_KEY
    key = (
        base_url,
        config.model,
        api_key,
        repr(config.temperature),
        str(config.max_tokens),
        repr(config.timeout_s),
        str(config.max_retries),
        canonical_json(config.extra_body),
    )
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    cache = _MODELS if loop is None else _LOOP_MODELS.setdefault(loop, {})
    model = cache.get(key)
    if model is None:
        extra: dict[str, Any] = {}
        if loop is not None:
            extra["http_async_client"] = _endpoint_http_client(loop, base_url)
        model = ReasoningChatOpenAI(
            model=config.model,
            base_url=base_url,
            api_key=SecretStr(api_key),
            temperature=config.temperature,
            max_completion_tokens=config.max_tokens,
            timeout=config.timeout_s,
            max_retries=config.max_retries,
            extra_body=dict(config.extra_body) or None,
            use_responses_api=False,
            **extra,
        )
        cache[key] = model
        logger.debug("chat model %s at %s", config.model, base_url)
    return model


_HTTP_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def _endpoint_http_client(loop: asyncio.AbstractEventLoop, base_url: str) -> Any:
    """The one HTTP client of ``base_url`` on ``loop``, shared by every chat model of that endpoint."""
    clients = _HTTP_CLIENTS.setdefault(loop, {})
    client = clients.get(base_url)
    if client is None or client.is_closed:
        defaults = openai.DEFAULT_CONNECTION_LIMITS
        keepalive = max(defaults.max_keepalive_connections or 0, endpoint_limit(base_url))
        # type(defaults): the Limits class of whichever httpx package this openai SDK is built on.
        limits = type(defaults)(
            max_connections=max(defaults.max_connections or 0, keepalive),
            max_keepalive_connections=keepalive,
            keepalive_expiry=defaults.keepalive_expiry,
        )
        client = clients[base_url] = openai.DefaultAsyncHttpxClient(
            http2=http2_available(base_url),
            limits=limits,
            event_hooks={"response": [_response_hook(base_url)]},
        )
    return client


def http2_available(base_url: str) -> bool:
    """Whether requests to ``base_url`` go over HTTP/2: an ``https`` endpoint with ``h2`` installed
    (HTTP/2 is negotiated over TLS; a server that declines it is spoken to in HTTP/1.1)."""
    if urlparse(base_url).scheme != "https":
        return False
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


async def aclose_chat_models() -> None:
    """Close the HTTP connections of the running loop's chat models (call before the loop ends)."""
    loop = asyncio.get_running_loop()
    _LOOP_MODELS.pop(loop, None)
    _GENERATION[0] += 1  # the models roles remember hold the closed clients
    for client in _HTTP_CLIENTS.pop(loop, {}).values():
        await client.aclose()


_GENERATION = [0]  # bumped by clear_model_cache: models remembered by a role are stale after it


def model_generation() -> int:
    """A number that changes whenever :func:`clear_model_cache` forgets the models."""
    return _GENERATION[0]


def clear_model_cache() -> None:
    """Forget every cached chat model and HTTP client (tests; a changed API key)."""
    _MODELS.clear()
    _LOOP_MODELS.clear()
    _HTTP_CLIENTS.clear()
    _GENERATION[0] += 1


# ------------------------------------------------------------------------------------ concurrency


_ANY_ENDPOINT = "*"
_LIMITS: dict[str, int] = {}
_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"max_concurrency_per_endpoint must be an integer of at least 1, not {limit!r}")


def set_default_endpoint_limit(limit: int) -> None:
    """The limit of every endpoint without its own (``settings.agents.max_concurrency_per_endpoint``)."""
    _check_limit(limit)
    _LIMITS[_ANY_ENDPOINT] = limit
    _SEMAPHORES.clear()


def set_endpoint_limit(base_url: str | None, limit: int) -> None:
    """Allow at most ``limit`` requests in flight to ``base_url`` (new requests see the new limit)."""
    _check_limit(limit)
    url = resolve_base_url(base_url)
    _LIMITS[url] = limit
    for semaphores in _SEMAPHORES.values():
        semaphores.pop(url, None)


def endpoint_limit(base_url: str | None) -> int:
    """The concurrency limit of ``base_url``: its own, else the default one, else 64."""
    return _LIMITS.get(resolve_base_url(base_url), _LIMITS.get(_ANY_ENDPOINT, DEFAULT_ENDPOINT_LIMIT))


def reset_endpoint_limits() -> None:
    """Forget every limit set with :func:`set_endpoint_limit` (tests)."""
    _LIMITS.clear()
    _SEMAPHORES.clear()


def _endpoint_semaphore(base_url: str) -> asyncio.Semaphore:
    # asyncio primitives belong to one event loop, so each loop gets its own semaphores.
    per_loop = _SEMAPHORES.setdefault(asyncio.get_running_loop(), {})
    semaphore = per_loop.get(base_url)
    if semaphore is None:
        semaphore = per_loop[base_url] = asyncio.Semaphore(endpoint_limit(base_url))
    return semaphore


# ------------------------------------------------------------------------------------------- call


@dataclass
class ModelReply:
    """One chat completion, reduced to what the roles use."""

    content: str
    reasoning: str
    finish_reason: str
    usage: TokenUsage
    tool_calls: list[ToolCall] = field(default_factory=list)
    invalid_tool_calls: list[str] = field(default_factory=list)


async def call_model(
    model: Runnable[LanguageModelInput, BaseMessage],
    messages: Sequence[BaseMessage],
    *,
    role: str,
    config: AgentConfig,
    **kwargs: Any,
) -> ModelReply:
    """Send ``messages`` under the endpoint's concurrency limit and circuit breaker.

    Raises:
        EndpointFault: a transport failure past the retries (transient) or a refused request (permanent).
        LLMAgentError: ``llm:context_too_long`` (the model cannot take the prompt).
    """
    base_url = resolve_base_url(config.base_url)
    gate = breaker(base_url)

    async def once() -> BaseMessage:
        try:
            message = await model.ainvoke(list(messages), model_call_config(role), **kwargs)
        except (ValueError, KeyError, TypeError, openai.APIResponseValidationError) as exc:
            # langchain-openai raises the builtin ones for a 200 response that is not a chat completion.
            raise BrokenBody(str(exc)) from exc
        if not isinstance(message, AIMessage):
            raise BrokenBody("no assistant message")
        return message

    for waited in range(MAX_BREAKER_WAITS + 1):
        await gate.admit()
        async with _endpoint_semaphore(base_url):
            slot = await rate_slot(base_url, messages)  # requests and tokens per minute (limits.py)
            try:
                message = await retry_broken_bodies(once, config.max_retries)
                break
            except (openai.OpenAIError, BrokenBody) as exc:
                failed = _transport_failure(exc)
                if failed:
                    # Refused connections mean the endpoint is down: no need to wait for N of them.
                    refused = isinstance(exc, openai.APIConnectionError) and not isinstance(
                        exc, openai.APITimeoutError
                    )
                    gate.failure(down=refused)
                if not (failed and gate.open and waited < MAX_BREAKER_WAITS):
                    raise classify(
                        exc,
                        role=role,
                        model=config.model,
                        endpoint=base_url,
                        timeout_s=config.timeout_s,
                        retries=config.max_retries,
                    ) from exc
        # The endpoint is down: this request waits with the others (admit) and is sent again.
    gate.success()
    assert isinstance(message, AIMessage)
    reply = _reply(message, role=role, model_name=config.model)
    slot.used(reply.usage.prompt_tokens + reply.usage.completion_tokens)
    return reply


def _response_hook(base_url: str) -> Any:
    """An httpx response hook: every answer of ``base_url``, retries included, is counted for the live
    figures, and a Retry-After pauses the endpoint for every role (limits.py)."""

    async def hook(response: Any) -> None:
        note_response(base_url, response.status_code, response.headers)
        record_http(response.status_code)

    return hook


def _transport_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the endpoint is unwell (what the circuit breaker counts; 4xx do not)."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | BrokenBody)


def answer_problem(reply: ModelReply, config: AgentConfig) -> str:
    """Why an answer is too large to use ('' when it is not): ``options.max_answer_bytes`` (default
    256 KiB) and ``options.max_answer_tokens`` (default ``max_tokens``), over content and reasoning."""
    max_bytes = _int_option(config, "max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES)
    max_tokens = _int_option(config, "max_answer_tokens", config.max_tokens)
    size = len(reply.content.encode("utf-8")) + len(reply.reasoning.encode("utf-8"))
    if size > max_bytes:
        return f"the answer is {size} bytes, over the cap of {max_bytes} (options.max_answer_bytes)"
    tokens = reply.usage.completion_tokens or size // 4
    if tokens > max_tokens:
        return f"the answer is {tokens} tokens, over the cap of {max_tokens} (options.max_answer_tokens)"
    return ""


def _int_option(config: AgentConfig, name: str, default: int) -> int:
    value = config.options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"options.{name} must be a positive integer, not {value!r}")
    return value


def _reply(message: AIMessage, *, role: str, model_name: str) -> ModelReply:
    meta = message.response_metadata or {}
    usage: Mapping[str, Any] = message.usage_metadata or {}
    token_usage = TokenUsage(
        role=role,
        model=str(meta.get("model_name") or model_name),
        prompt_tokens=int(usage.get("input_tokens", 0) or 0),
        completion_tokens=int(usage.get("output_tokens", 0) or 0),
    )
    reasoning = message.additional_kwargs.get("reasoning_content")
    calls: list[ToolCall] = []
    invalid: list[str] = [
        f"{tc.get('name') or '?'}: {tc.get('error') or 'unreadable arguments'}"
        for tc in message.invalid_tool_calls
    ]
    for tc in message.tool_calls:
        try:
            calls.append(ToolCall(name=tc["name"], arguments=tc.get("args") or {}))
        except ValueError as exc:
            invalid.append(f"{tc.get('name')}: {exc}")
    return ModelReply(
        content=message_text(message),
        reasoning=reasoning if isinstance(reasoning, str) else "",
        finish_reason=str(meta.get("finish_reason") or ""),
        usage=token_usage,
        tool_calls=calls,
        invalid_tool_calls=invalid,
    )


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)
