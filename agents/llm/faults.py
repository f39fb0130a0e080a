"""What a failed request means, and what to do about it: the LLM path's fault model in one place.

Three kinds of failure, told apart here and nowhere else:

* **transient** (connection refused, timeouts, 408/409/429, 5xx, a 200 whose body is not a chat
  completion): the openai SDK retries the HTTP ones itself (``max_retries``, exponential backoff with
  jitter, ``Retry-After`` honoured); broken bodies, which the SDK does not retry, are retried by
  :func:`retry_broken_bodies` with the same backoff. Past the retries they become a transient
  :class:`~hardgen.agents.base.EndpointFault`: the runner *defers* the item (checkpoint kept) and
  ``hardgen resume`` tries it again. Never a discard.
* **permanent** (401/403, unknown model or path, any other refused request): a permanent
  ``EndpointFault`` that stops the run at once with the endpoint, the status and what to do.
* **model-caused** (an answer that stays unusable after the re-asks, a prompt longer than the model's
  context, an oversized answer): an :class:`LLMAgentError`, the only kind that discards an item.

A :class:`CircuitBreaker` per endpoint counts consecutive transport failures; past ``threshold`` (or
at the first refused connection) it holds requests back, those that just failed included, probes the
endpoint every ``probe_every_s`` (any HTTP answer from ``GET /models`` counts as back) and lets them
through again, or, after ``give_up_after_s``, fails them as transient faults (deferred items) instead
of letting each one burn its own retries. A short outage thus costs a pause, a long one a resume.

Rate limits (requests or tokens per minute) are not this module's business; a limiter sits in front of
:func:`~hardgen.agents.llm.client.call_model`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
import openai

from hardgen.agents.base import AgentError, EndpointFault
from hardgen.schema import TokenUsage

logger = logging.getLogger(__name__)
T = TypeVar("T")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 8.0
CONTEXT_HINTS = ("context length", "context_length", "maximum context", "too many tokens", "too long")


class LLMAgentError(AgentError):
    """An :class:`AgentError` of the LLM path; ``usage`` is the token usage spent before it gave up."""

    def __init__(
        self, reason: str, message: str, raw: str = "", usage: list[TokenUsage] | None = None
    ) -> None:
        super().__init__(reason, message, raw)
        self.usage = list(usage or [])


class BrokenBody(Exception):
    """A 200 response that is not a chat completion (cut off, not JSON, an error object)."""


def backoff_s(attempt: int, rng: random.Random | None = None) -> float:
    """The wait before retry ``attempt`` (0-based): 0.5 s doubling up to 8 s, with full jitter on half."""
    base = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)
    return base / 2 + (rng or random).uniform(0, base / 2)


async def retry_broken_bodies(call: Callable[[], Awaitable[T]], retries: int) -> T:
    """``call()``, retried up to ``retries`` times with backoff while it raises :class:`BrokenBody`."""
    for attempt in range(retries + 1):
        try:
            return await call()
        except BrokenBody:
            if attempt == retries:
                raise
            await asyncio.sleep(backoff_s(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def classify(
    exc: BaseException, *, role: str, model: str, endpoint: str, timeout_s: float, retries: int
) -> Exception:
    """The exception to raise for a request that failed with ``exc`` (after the retries)."""
    where = f"{model} at {endpoint}"
    if isinstance(exc, openai.APITimeoutError):
        return EndpointFault(
            "llm:timeout",
            f"{role}: {where} did not answer within {timeout_s:g} s ({retries} retries); "
            "raise timeout_s or check the server",
            transient=True,
            endpoint=endpoint,
        )
    if isinstance(exc, openai.APIConnectionError):
        return EndpointFault(
            "llm:unreachable",
            f"{role}: cannot reach {where} ({retries} retries): {exc}; is the server running?",
            transient=True,
            endpoint=endpoint,
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = str(exc.message or "").strip()
        reason = f"llm:http_{status}"
        if status in (408, 409, 429) or status >= 500:
            what = "rate limited" if status == 429 else "failed"
            return EndpointFault(
                reason,
                f"{role}: {where} {what} (HTTP {status}) after {retries} retries"
                + (f": {detail}" if detail else ""),
                transient=True,
                endpoint=endpoint,
            )
        if status in (400, 413, 422) and any(h in detail.lower() for h in CONTEXT_HINTS):
            return LLMAgentError(
                "llm:context_too_long", f"{role}: {where}: the prompt is too long ({detail})"
            )
        return EndpointFault(
            reason,
            f"{role}: {where} answered HTTP {status}: {permanent_hint(status)}"
            + (f" ({detail})" if detail else ""),
            transient=False,
            endpoint=endpoint,
        )
    return EndpointFault(
        "llm:bad_response",
        f"{role}: {where} sent something that is not a chat completion ({retries} retries): {exc}",
        transient=True,
        endpoint=endpoint,
    )


def permanent_hint(status: int) -> str:
    """What to do about a status that retrying will not change."""
    return {
        401: "the API key was refused; export the variable named by api_key_env with a valid key",
        403: "the API key may not use this model or endpoint; check the key's permissions",
        404: "unknown model or path; check model (see GET /v1/models) and base_url (it usually ends in /v1)",
    }.get(status, "the request was refused; check model, base_url and extra_body")


# ----------------------------------------------------------------------------------- circuit breaker


@dataclass
class BreakerPolicy:
    threshold: int = 5
    probe_every_s: float = 2.0
    give_up_after_s: float = 300.0


@dataclass
class CircuitBreaker:
    """Consecutive transport failures of one endpoint, and whether requests may go to it now."""

    endpoint: str
    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    failures: int = 0
    opened_at: float | None = None
    last_probe: float = 0.0

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def success(self) -> None:
        if self.opened_at is not None:
            logger.warning("%s answers again; requests resume", self.endpoint)
        self.failures = 0
        self.opened_at = None

    def failure(self, *, down: bool = False) -> None:
        """Count one transport failure; ``down`` (a refused connection) opens the breaker at once."""
        self.failures += 1
        if self.opened_at is None and (down or self.failures >= self.policy.threshold):
            self.opened_at = self.last_probe = time.monotonic()
            logger.warning(
                "%s failed %d requests in a row; new requests wait while it is probed every %g s",
                self.endpoint,
                self.failures,
                self.policy.probe_every_s,
            )

    async def admit(self) -> None:
        """Return when a request may go out; raise a transient fault when the endpoint stayed down."""
        while self.opened_at is not None:
            now = time.monotonic()
            if now - self.last_probe >= self.policy.probe_every_s:
                self.last_probe = now
                if await probe(self.endpoint):
                    self.success()
                    return
            if time.monotonic() - self.opened_at >= self.policy.give_up_after_s:
                raise EndpointFault(
                    "llm:endpoint_down",
                    f"{self.endpoint} failed {self.failures} requests in a row and did not come back within "
                    f"{self.policy.give_up_after_s:g} s; the item is deferred ('hardgen resume' retries it)",
                    transient=True,
                    endpoint=self.endpoint,
                )
            await asyncio.sleep(min(0.5, self.policy.probe_every_s))


async def probe(endpoint: str, timeout_s: float = 5.0) -> bool:
    """Whether anything answers HTTP at ``endpoint`` (``GET /models``; any status counts)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            await client.get(f"{endpoint}/models")
    except httpx.HTTPError:
        return False
    return True


_POLICIES: dict[str, BreakerPolicy] = {}
_BREAKERS: dict[str, CircuitBreaker] = {}


def set_breaker_policy(endpoint: str | None, policy: BreakerPolicy) -> None:
    """The breaker policy of ``endpoint`` (None: of every endpoint without its own)."""
    _POLICIES[endpoint or "*"] = policy
    _BREAKERS.clear()


def breaker(endpoint: str) -> CircuitBreaker:
    """The circuit breaker of ``endpoint`` (one per process: transport health is not per event loop)."""
    found = _BREAKERS.get(endpoint)
    if found is None:
        policy = _POLICIES.get(endpoint) or _POLICIES.get("*") or BreakerPolicy()
        found = _BREAKERS[endpoint] = CircuitBreaker(endpoint, policy)
    return found


def reset_breakers() -> None:
    """Forget every breaker's state and policy (tests)."""
    _POLICIES.clear()
    _BREAKERS.clear()
