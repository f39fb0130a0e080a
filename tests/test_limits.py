"""Per-endpoint rate limits and tracing metadata, against the stand-in server over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tracers.context import collect_runs

from hardgen.agents.base import SummaryInput
from hardgen.agents.llm import LLMSummarizer
from hardgen.agents.llm.client import aclose_chat_models, clear_model_cache, reset_endpoint_limits
from hardgen.agents.llm.limits import (
    TokenBucket,
    apply_endpoint_settings,
    note_response,
    paused_for,
    rate_slot,
    reset_endpoint_rates,
    retry_after_seconds,
)
from hardgen.config import AgentConfig, parse_settings
from hardgen.runner import Runner
from hardgen.serve import BackgroundServer
from hardgen.serve.standin import StandInOptions
from hardgen.store import ResultStore
from tests.test_prompts import example_query, example_steps


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    clear_model_cache()
    reset_endpoint_limits()
    reset_endpoint_rates()
    with BackgroundServer(StandInOptions(seed=0)) as srv:
        yield srv
    reset_endpoint_rates()
    reset_endpoint_limits()
    clear_model_cache()


def _arrivals(server: BackgroundServer) -> list[float]:
    """Record when each chat request reaches the server (it runs on a thread of this process)."""
    times: list[float] = []
    chat = server.standin.chat

    async def timed(body: Any) -> Any:
        times.append(time.monotonic())
        return await chat(body)

    server.standin.chat = timed  # type: ignore[method-assign]
    return times


def test_rpm_120_spaces_requests_at_two_per_second_across_roles(server: BackgroundServer) -> None:
    settings = parse_settings(
        {"agents": {"endpoints": {server.base_url + "/": {"rpm": 120}}}}  # trailing slash: same endpoint
    )
    apply_endpoint_settings(settings.agents.endpoints)
    arrivals = _arrivals(server)
    # Two roles with different parameters (two chat models) on one endpoint share its budget.
    a = LLMSummarizer(AgentConfig(impl="llm", model="standin", base_url=server.base_url, temperature=0.1))
    b = LLMSummarizer(AgentConfig(impl="llm", model="standin", base_url=server.base_url, temperature=0.9))
    requests = 41  # 40 intervals of 0.5 s: 20 s

    async def burst() -> None:
        try:
            inp = SummaryInput(query=example_query(), steps=example_steps())
            await asyncio.gather(*((a if i % 2 else b).summarize(inp) for i in range(requests)))
        finally:
            await aclose_chat_models()

    asyncio.run(burst())
    assert len(arrivals) == requests
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    # Never faster than the limit; slower only by what a busy machine adds (a limiter that waited
    # twice as long as it must would fail here).
    assert 1.0 < rate <= 2.0 * 1.05, f"{rate:.3f} requests/s"
    # Spaced, not sent in bursts: most gaps are the limiter's 0.5 s, and no 5 s window holds more than
    # its 10 requests plus the one or two a slow connection can delay into it.
    gaps = [y - x for x, y in itertools.pairwise(arrivals)]
    assert statistics.median(gaps) > 0.4, "requests are spaced, not sent in bursts"
    assert max(sum(1 for t in arrivals if s <= t < s + 5) for s in arrivals) <= 12


def test_tokens_per_minute_bucket_waits_after_the_real_usage_overdraws_it() -> None:
    async def scenario() -> float:
        bucket = TokenBucket(60)  # one token a second
        await bucket.take(60)  # the whole minute's budget, at once
        bucket.settle(60, 62)  # the reply really used 62: two tokens of debt
        start = time.monotonic()
        await bucket.take(1)
        return time.monotonic() - start

    waited = asyncio.run(scenario())
    assert 1.8 < waited < 3.0


def test_retry_after_pauses_every_role_of_the_endpoint() -> None:
    url = "http://127.0.0.1:9/v1"
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({}) is None
    reset_endpoint_rates()
    try:
        note_response(url, 200, {"retry-after": "5"})
        assert paused_for(url) == 0
        note_response(url, 429, {"retry-after-ms": "400"})
        assert 0.3 < paused_for(url) <= 0.4

        async def wait() -> float:
            start = time.monotonic()
            await rate_slot(url, [])
            await rate_slot("http://127.0.0.1:10/v1", [])  # another endpoint is not paused
            return time.monotonic() - start

        waited = asyncio.run(wait())
        assert 0.3 < waited < 0.8
    finally:
        reset_endpoint_rates()


def test_llm_calls_carry_run_item_turn_step_and_role_for_tracing(
    server: BackgroundServer, tmp_path: Path
) -> None:
    llm = {"impl": "llm", "model": "standin", "base_url": server.base_url, "timeout_s": 30}
    settings = parse_settings(
        {
            "run": {"seed": 2, "trajectories": 2, "concurrency": 2},
            "environment": {"suites": ["travel", "banking"], "suites_per_item": 2},
            "self_eval": {"enabled": False},
            "agents": {"reasoner": llm, "summarizer": llm},
        }
    )
    runner = Runner(settings, tmp_path / "run")
    with collect_runs() as collected:
        summary = asyncio.run(runner.run())
    assert summary.planned == 2
    runs: list[Any] = []
    todo = list(collected.traced_runs)
    while todo:
        run = todo.pop()
        runs.append(run)
        todo.extend(run.child_runs)
    items = {r.name: r for r in runs if r.run_type == "chain" and r.name.startswith("item ")}
    assert sorted(items) == ["item 0", "item 1"], "one named trace per trajectory"
    for name, root in items.items():
        item = int(name.split()[1])
        assert root.extra["metadata"]["hardgen_run_id"] == runner.run_id
        assert root.extra["metadata"]["hardgen_item"] == item
        assert {runner.run_id, f"item:{item}", "phase:generate"} <= set(root.tags)
    models = [r for r in runs if r.run_type == "llm"]
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        usage = store.usage_by_role()
    llm_calls = sum(row["calls"] for role, row in usage.items() if role in ("reasoner", "summarizer"))
    assert len(models) == llm_calls, "every model call is traced"
    for r in models:
        meta = r.extra["metadata"]
        role = meta["hardgen_role"]
        assert role in ("reasoner", "summarizer") and r.name == role
        assert meta["hardgen_item"] in (0, 1) and meta["hardgen_run_id"] == runner.run_id
        assert isinstance(meta["hardgen_turn"], int) and isinstance(meta["hardgen_step"], int)
        wanted = {f"role:{role}", f"item:{meta['hardgen_item']}", f"turn:{meta['hardgen_turn']}"}
        assert wanted | {f"step:{meta['hardgen_step']}"} <= set(r.tags)
    assert {r.extra["metadata"]["hardgen_item"] for r in models} == {0, 1}
