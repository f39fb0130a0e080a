"""Per-endpoint rate limits: requests per minute and tokens per minute, shared by every role.

Hosted endpoints enforce request and token rates, and vLLM users cap them to share a server. An endpoint
(a base URL) may be given limits under ``agents.endpoints`` in the config::

    agents:
      endpoints:
        "http://localhost:8000/v1": {rpm: 120, tpm: 200000}

Every role whose ``base_url`` resolves to that endpoint (and Phase I's targets) draws from the same
budget, besides the endpoint's concurrency limit (:mod:`hardgen.agents.llm.client`).

* **Requests per minute** use ``aiolimiter``'s leaky bucket with room for one request, so requests are
  spaced evenly (``rpm: 120`` sends one every 0.5 s) rather than in a burst at the top of each minute.
* **Tokens per minute** is a token bucket holding one minute of tokens that may go into debt: a request
  waits until the bucket is not empty, takes its estimated prompt tokens, and the reply's real prompt and
  completion tokens settle the account afterwards (nobody knows a completion's length in advance).
* **Retry-After**: a 429 or 503 answer carrying ``Retry-After`` or ``retry-after-ms`` pauses the whole
  endpoint (every role) until then; the SDK's own retry waits as long for the request that got it.

Limiters are kept per event loop, like the concurrency semaphores (asyncio primitives belong to one loop).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from aiolimiter import AsyncLimiter

CHARS_PER_TOKEN = 4  # a rough prompt-size estimate before the server counts it
MAX_PAUSE_S = 300.0


@dataclass(frozen=True)
class EndpointRates:
    """The rate limits of one endpoint (``None``: no limit)."""

    rpm: float | None = None
    tpm: float | None = None


class TokenBucket:
    """Tokens per minute, refilled continuously, allowed to go into debt by the settled usage."""

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = per_minute
        self.level = per_minute
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    async def take(self, tokens: float) -> None:
        """Wait until the bucket is not empty (not in debt), then take ``tokens``."""
        self._refill()
        while self.level <= 0:
            await asyncio.sleep(-self.level / self.rate + 0.001)
            self._refill()
        self.level -= tokens

    def settle(self, estimated: float, actual: float) -> None:
        """Replace an estimate taken by :meth:`take` with the tokens really used."""
        self._refill()
        self.level -= actual - estimated


class EndpointLimiter:
    """The request and token budgets of one endpoint on one event loop, and its Retry-After pause."""

    def __init__(self, base_url: str, rates: EndpointRates) -> None:
        self.base_url = base_url
        self.rates = rates
        self.requests = AsyncLimiter(1, 60.0 / rates.rpm) if rates.rpm else None
        self.tokens = TokenBucket(rates.tpm) if rates.tpm else None

    async def acquire(self, estimated_tokens: float) -> None:
        """Wait for any Retry-After pause, then for a request slot and for tokens."""
        await _wait_pause(self.base_url)
        if self.requests is not None:
            await self.requests.acquire()
        if self.tokens is not None:
            await self.tokens.take(estimated_tokens)

    def settle(self, estimated_tokens: float, used_tokens: float) -> None:
        if self.tokens is not None:
            self.tokens.settle(estimated_tokens, used_tokens)


_RATES: dict[str, EndpointRates] = {}
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, EndpointLimiter]] = (
    weakref.WeakKeyDictionary()
)
_PAUSED_UNTIL: dict[str, float] = {}


def set_endpoint_rates(base_url: str, rpm: float | None = None, tpm: float | None = None) -> None:
    """Limit ``base_url`` (already resolved, no trailing slash) to ``rpm`` requests and ``tpm`` tokens
    per minute; both ``None`` removes its limits."""
    if rpm is None and tpm is None:
        _RATES.pop(base_url, None)
    else:
        _RATES[base_url] = EndpointRates(rpm=rpm, tpm=tpm)
    for per_loop in _LIMITERS.values():
        per_loop.pop(base_url, None)


def reset_endpoint_rates() -> None:
    """Forget every rate limit and pause (tests; a new run in the same process)."""
    _RATES.clear()
    _LIMITERS.clear()
    _PAUSED_UNTIL.clear()


def endpoint_rates(base_url: str) -> EndpointRates | None:
    return _RATES.get(base_url)


def _limiter(base_url: str) -> EndpointLimiter | None:
    rates = _RATES.get(base_url)
    if rates is None:
        return None
    per_loop = _LIMITERS.setdefault(asyncio.get_running_loop(), {})
    limiter = per_loop.get(base_url)
    if limiter is None:
        limiter = per_loop[base_url] = EndpointLimiter(base_url, rates)
    return limiter


def estimate_tokens(messages: Any) -> int:
    """A rough token count of a request's messages (about four characters a token)."""
    text = 0
    for m in messages:
        content = getattr(m, "content", m)
        text += len(content) if isinstance(content, str) else len(str(content))
    return max(1, text // CHARS_PER_TOKEN)


class RateSlot:
    """What :func:`rate_slot` yields: report the tokens really used with :meth:`used`."""

    def __init__(self, limiter: EndpointLimiter | None, estimated: int) -> None:
        self.limiter = limiter
        self.estimated = estimated

    def used(self, tokens: int) -> None:
        if self.limiter is not None:
            self.limiter.settle(self.estimated, tokens)
            self.estimated = tokens


async def rate_slot(base_url: str, messages: Any) -> RateSlot:
    """Wait until ``base_url``'s limits allow one more request of ``messages``; the hook the client
    calls before each request (a no-op for endpoints without limits, apart from a Retry-After pause)."""
    limiter = _limiter(base_url)
    if limiter is None:
        await _wait_pause(base_url)
        return RateSlot(None, 0)
    estimated = estimate_tokens(messages) if limiter.tokens is not None else 0
    await limiter.acquire(estimated)
    return RateSlot(limiter, estimated)


# ------------------------------------------------------------------------------------ Retry-After


def retry_after_seconds(headers: Any) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``Retry-After`` (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def note_response(base_url: str, status: int, headers: Any) -> None:
    """Pause ``base_url`` for every role when it answered 429/503 with a Retry-After header."""
    if status not in (429, 503):
        return
    wait = retry_after_seconds(headers)
    if wait is None:
        return
    until = time.monotonic() + min(wait, MAX_PAUSE_S)
    if until > _PAUSED_UNTIL.get(base_url, 0.0):
        _PAUSED_UNTIL[base_url] = until


def paused_for(base_url: str) -> float:
    """Seconds left of ``base_url``'s Retry-After pause (0 when it is not paused)."""
    return max(0.0, _PAUSED_UNTIL.get(base_url, 0.0) - time.monotonic())


async def _wait_pause(base_url: str) -> None:
    while (left := paused_for(base_url)) > 0:
        await asyncio.sleep(left)


def apply_endpoint_settings(endpoints: Any) -> None:
    """Set the limits of ``agents.endpoints`` (a mapping of base URL to
    :class:`~hardgen.config.EndpointConfig`): rates here, concurrency in the client."""
    from hardgen.agents.llm.client import resolve_base_url, set_endpoint_limit

    for url, cfg in endpoints.items():
        base_url = resolve_base_url(url)
        set_endpoint_rates(base_url, rpm=cfg.rpm, tpm=cfg.tpm)
        if cfg.max_concurrency is not None:
            set_endpoint_limit(base_url, cfg.max_concurrency)
