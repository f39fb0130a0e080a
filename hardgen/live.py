"""Live figures of a running job: items/s, requests/s, tokens/s per role, retries, cost and ETA.

The runner feeds one :class:`LiveFigures` as items finish (Phase I tools and Phase II-III items alike);
the progress display reads it, and the runner writes its :meth:`LiveFigures.snapshot` to ``live.json``
in the run directory every few seconds, which ``hardgen status`` shows for a run in progress.

Rates are measured over the last ``window_s`` seconds (30 by default), so the ETA follows the recent
rate rather than the average since the start. Token counts are those the roles report: the server's
count on the LLM path, an estimate from text length for the offline agents (``estimated: true``).
Requests are the role calls items record; HTTP answers that ask for a retry (429, 5xx) are counted as
they happen by the LLM client's response hook (:func:`record_http`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIVE_FILE = "live.json"
WINDOW_S = 30.0
WRITE_EVERY_S = 2.0
RETRYABLE = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass
class _Event:
    at: float
    items: int = 0
    calls: int = 0
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)


class _Http:
    """HTTP answers seen by the LLM client in this process (retries included)."""

    def __init__(self) -> None:
        self.answers: deque[tuple[float, int]] = deque()
        self.total = 0
        self.retryable = 0

    def record(self, status: int) -> None:
        now = time.monotonic()
        self.total += 1
        if status in RETRYABLE:
            self.retryable += 1
            self.answers.append((now, status))
        while self.answers and self.answers[0][0] < now - WINDOW_S:
            self.answers.popleft()

    def recent_retryable(self) -> int:
        now = time.monotonic()
        return sum(1 for at, _s in self.answers if at >= now - WINDOW_S)


HTTP = _Http()


def record_http(status: int) -> None:
    """Count one HTTP answer of an LLM endpoint (the client's response hook calls this)."""
    HTTP.record(status)


class LiveFigures:
    """Counters and recent rates of one phase of a job.

    Args:
        phase: A label (``"phase I"`` or ``"phases II-III"``).
        total: Items the phase has to finish.
        done: Items already finished when it starts (a resumed run).
        prices: Per role, (prompt, completion) price per million tokens, for the roles that have one.
        estimated: Whether token counts are estimates (offline agents).
    """

    def __init__(
        self,
        phase: str,
        total: int,
        done: int = 0,
        *,
        prices: Mapping[str, tuple[float, float]] | None = None,
        estimated: bool = False,
        window_s: float = WINDOW_S,
    ) -> None:
        self.phase = phase
        self.total = total
        self.done = done
        self.kept = 0
        self.deferred = 0
        self.prices = dict(prices or {})
        self.estimated = estimated
        self.window_s = window_s
        self.started = time.monotonic()
        self.events: deque[_Event] = deque()
        self.tokens: dict[str, list[int]] = {}
        self.calls = 0
        # Running sums over the events in the window (added on arrival, taken off when they leave it).
        self._w_items = 0
        self._w_calls = 0
        self._w_tokens: dict[str, list[int]] = {}
        self._http_start = HTTP.total
        self._retry_start = HTTP.retryable

    def item_finished(
        self, usage: Iterable[Any], *, done: int | None = None, kept: int | None = None
    ) -> None:
        """One item finished with this token usage (``TokenUsage`` objects)."""
        event = _Event(at=time.monotonic(), items=1)
        for u in usage:
            prompt, completion = event.tokens.get(u.role, (0, 0))
            event.tokens[u.role] = (prompt + u.prompt_tokens, completion + u.completion_tokens)
            event.calls += u.calls
            totals = self.tokens.setdefault(u.role, [0, 0])
            totals[0] += u.prompt_tokens
            totals[1] += u.completion_tokens
        self.calls += event.calls
        self.events.append(event)
        self._count(event, +1)
        self.done = self.done + 1 if done is None else done
        if kept is not None:
            self.kept = kept
        self._trim(event.at)

    def _count(self, event: _Event, sign: int) -> None:
        self._w_items += sign * event.items
        self._w_calls += sign * event.calls
        for role, (p, c) in event.tokens.items():
            row = self._w_tokens.setdefault(role, [0, 0])
            row[0] += sign * p
            row[1] += sign * c

    def _trim(self, now: float) -> None:
        while self.events and self.events[0].at < now - self.window_s:
            self._count(self.events.popleft(), -1)

    def snapshot(self) -> dict[str, Any]:
        """The figures as JSON: rates per second over the recent window, totals, cost and ETA."""
        now = time.monotonic()
        self._trim(now)
        span = max(1.0, min(self.window_s, now - self.started))  # no absurd rates in the first second
        items, calls = self._w_items, self._w_calls
        per_role = {
            role: {"prompt_tokens_per_s": p / span, "completion_tokens_per_s": c / span}
            for role, (p, c) in self._w_tokens.items()
        }
        items_per_s = items / span
        remaining = max(0, self.total - self.done)
        cost = self.cost()
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "kept": self.kept,
            "elapsed_s": round(now - self.started, 1),
            "window_s": self.window_s,
            "items_per_s": round(items_per_s, 3),
            "requests_per_s": round(calls / span, 3),
            "tokens_per_s": {
                role: {k: round(v, 1) for k, v in row.items()} for role, row in sorted(per_role.items())
            },
            "tokens": {role: {"prompt": p, "completion": c} for role, (p, c) in sorted(self.tokens.items())},
            "tokens_estimated": self.estimated,
            "http_requests": HTTP.total - self._http_start,
            "retrying": HTTP.recent_retryable(),
            "retries": HTTP.retryable - self._retry_start,
            "deferred": self.deferred,
            "cost": None if cost is None else round(cost, 4),
            "eta_s": None if not items_per_s else round(remaining / items_per_s, 1),
            "updated_at": time.time(),
        }

    def cost(self) -> float | None:
        """Money spent so far at the configured prices (None when no role has a price)."""
        if not self.prices:
            return None
        total = 0.0
        for role, (p, c) in self.tokens.items():
            price = self.prices.get(role)
            if price is not None:
                total += (p * price[0] + c * price[1]) / 1e6
        return total


def role_prices(settings: Any) -> dict[str, tuple[float, float]]:
    """Per role, (prompt, completion) price per million tokens from ``agents.endpoints`` (roles whose
    endpoint has a price; ``target`` takes the first priced Phase I target)."""
    endpoints = settings.agents.endpoints
    if not endpoints:
        return {}
    from hardgen.agents.llm.client import resolve_base_url

    priced = {
        resolve_base_url(url): (cfg.prompt_price or 0.0, cfg.completion_price or 0.0)
        for url, cfg in endpoints.items()
        if cfg.prompt_price is not None or cfg.completion_price is not None
    }
    a = settings.agents
    roles: list[tuple[str, Any]] = [
        (name, getattr(a, name))
        for name in ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
    ]
    roles += [("target", t) for t in settings.self_eval.targets]
    out: dict[str, tuple[float, float]] = {}
    for role, cfg in roles:
        if cfg.impl == "llm" and role not in out:
            price = priced.get(resolve_base_url(cfg.base_url))
            if price is not None:
                out[role] = price
    return out


def uses_estimates(settings: Any) -> bool:
    """Whether any role's token counts are estimates (an offline role)."""
    a = settings.agents
    roles = [a.tool_maker, a.query_generator, a.reasoner, a.verifier, a.summarizer]
    return any(r.impl == "offline" for r in roles)


def deferred_count(results: Path) -> int:
    """Items the store holds as deferred (parked after transient faults), 0 when it has no such notion."""
    if not results.exists():
        return 0
    db = sqlite3.connect(f"file:{results}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "deferred" in tables:
            return int(db.execute("SELECT COUNT(*) FROM deferred").fetchone()[0])
        return int(db.execute("SELECT COUNT(*) FROM trajectories WHERE status='deferred'").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


class LiveWriter:
    """Writes a :class:`LiveFigures` snapshot to ``live.json`` at most every few seconds (atomically)."""

    def __init__(self, run_dir: Path, every_s: float = WRITE_EVERY_S) -> None:
        self.path = run_dir / LIVE_FILE
        self.every_s = every_s
        self.last = 0.0

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.every_s

    def maybe_write(self, figures: LiveFigures, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every_s:
            return
        self.last = now
        tmp = self.path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(figures.snapshot(), indent=2), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a status file must never stop the run


def read_live(run_dir: Path) -> dict[str, Any] | None:
    """The last figures a run wrote, with ``age_s`` (how old they are), or None."""
    path = run_dir / LIVE_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data["age_s"] = round(max(0.0, time.time() - float(data.get("updated_at", 0))), 1)
    return data
