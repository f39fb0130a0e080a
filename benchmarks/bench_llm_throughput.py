"""LLM-bound efficiency and fault tolerance of the LLM path, against the stand-in server.

The stand-in (``hardgen serve``, run as a separate process) answers every request after a fixed
latency, so with C requests in flight the ideal throughput is C / latency. Reported, as medians over
``--repeats`` runs:

* **client**: an LLM role (the summariser) sends ``rounds * C`` requests with C in flight at once
  (the endpoint's concurrency limit set to C): requests/s in the steady state (the first and the last
  wave left out) and its share of C / latency. This is the LLM path alone:
  ChatOpenAI, the openai SDK, the connection pool, the endpoint semaphore.
* **pipeline**: the whole pipeline (``hardgen run``, every role ``impl: llm``, SQLite checkpoints) with
  ``run.concurrency`` C: requests/s the server saw while its count went from 20% to 80% of the run's
  requests (the ramp-up and the tail of long items left out), and the same share. Items spend time
  between requests (checkpoints, the environment, the checker), so this share is lower.
* **faults**: one run with every role and a Phase I target ``impl: llm`` against a stand-in injecting
  ``--fault-rate`` faults of every kind (429, 500, timeouts, malformed and truncated answers, wrong
  calls, broken bodies), with no cap: every planned item must end kept or discarded with a recorded
  reason; none may be lost.

Usage::

    python benchmarks/bench_llm_throughput.py                         # all three parts
    python benchmarks/bench_llm_throughput.py --parts client --concurrency 8 32 128 --repeats 3
    python benchmarks/bench_llm_throughput.py --parts faults --items 60 --fault-rate 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from hardgen.agents.base import SummaryInput
from hardgen.agents.llm import LLMSummarizer
from hardgen.agents.llm.client import aclose_chat_models, clear_model_cache, set_endpoint_limit
from hardgen.config import AgentConfig, parse_settings
from hardgen.runner import Runner, prepare_run_dir
from hardgen.schema import HardQuery, Observation, Step, ToolCall
from hardgen.store import ResultStore

ROLES = ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")


@contextmanager
def standin(*args: str) -> Iterator[str]:
    """A ``hardgen serve`` subprocess on a free port; yields its base URL."""
    cmd = [sys.executable, "-m", "hardgen.cli", "serve", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if " on " not in line:
            raise RuntimeError(f"the stand-in did not start: {line!r}")
        yield line.split(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stats(base_url: str) -> dict[str, Any]:
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/hardgen/stats", timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


# ------------------------------------------------------------------------------------------- client


def summary_input(seed: int) -> SummaryInput:
    call = ToolCall(name="get_zipcode", arguments={"city": "Rivermist"})
    obs = Observation(call=call, ok=True, output={"city": "Rivermist", "zipcode": "83214"})
    step = Step(index=0, calls=[call], observations=[obs])
    return SummaryInput(query=HardQuery(text="What is the zip code of Rivermist?"), steps=[step], seed=seed)


async def client_round(base_url: str, concurrency: int, rounds: int, offset: int) -> float:
    """Requests per second in the steady state of ``rounds * concurrency`` requests with
    ``concurrency`` in flight: the completions after the first wave and up to the last wave, over that
    span (the ramp-up and the drain are left out)."""
    config = AgentConfig(impl="llm", model="standin", base_url=base_url, timeout_s=60, max_retries=0)
    set_endpoint_limit(base_url, concurrency)
    agent = LLMSummarizer(config)
    inputs = [summary_input(offset + i) for i in range(rounds * concurrency)]
    await agent.summarize(summary_input(-1))  # open the first pooled connection
    done: list[float] = []

    async def one(inp: SummaryInput) -> None:
        await agent.summarize(inp)
        done.append(time.perf_counter())

    await asyncio.gather(*(one(i) for i in inputs))
    await aclose_chat_models()
    done.sort()
    # From the end of the first wave to the end of the last but one: whole cycles only.
    lo, hi = concurrency - 1, len(done) - concurrency - 1
    return (hi - lo) / (done[hi] - done[lo])


def bench_client(latency_ms: float, levels: list[int], rounds: int, repeats: int) -> None:
    print(f"client: summariser requests, {latency_ms:g} ms latency, {rounds} rounds per level")
    with standin("--latency-ms", str(latency_ms)) as url:
        for c in levels:
            ideal = c / (latency_ms / 1000)
            rates = []
            for r in range(repeats):
                clear_model_cache()
                rates.append(asyncio.run(client_round(url, c, rounds, offset=(r + 1) * 100_000 + c)))
            rps = statistics.median(rates)
            share = rps / ideal
            print(f"  concurrency {c:>4}: {rps:7.1f} req/s of ideal {ideal:6.1f} -> efficiency {share:.3f}")


# ----------------------------------------------------------------------------------------- pipeline


def llm_config(base_url: str, **run: Any) -> dict[str, Any]:
    role = {"impl": "llm", "model": "standin", "base_url": base_url, "timeout_s": 30.0, "max_retries": 4}
    return {
        "run": {"seed": 1, **run},
        "environment": {"suites": ["travel", "banking", "messaging", "filesystem"], "suites_per_item": 2},
        "sampling": {"calls_per_trace": {"min": 2, "max": 4}, "turns": {"min": 2, "max": 2}},
        "self_eval": {"enabled": False},
        "agents": {name: dict(role) for name in ROLES} | {"max_concurrency_per_endpoint": 512},
    }


def run_pipeline(config: dict[str, Any], run_dir: Path) -> Any:
    settings = parse_settings(config)
    prepare_run_dir(settings, None, run_dir)
    clear_model_cache()
    return asyncio.run(Runner(settings, run_dir).run())


@contextmanager
def sampled(base_url: str, every_s: float = 0.25) -> Iterator[list[tuple[float, int]]]:
    """(time, requests so far) of the server, sampled on a thread while the block runs."""
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every_s):
            samples.append((time.perf_counter(), stats(base_url)["requests"]))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def steady_rate(samples: list[tuple[float, int]], start: int, total: int) -> float:
    """Requests/s while the server's count went from 20% to 80% of the run's requests."""
    lo = next(t for t, n in samples if n - start >= 0.2 * total)
    hi = next(t for t, n in samples if n - start >= 0.8 * total)
    return 0.6 * total / (hi - lo) if hi > lo else float("nan")


def bench_pipeline(latency_ms: float, levels: list[int], items_per_level: int) -> None:
    print(f"pipeline: every role an LLM, {latency_ms:g} ms latency, {items_per_level} items per slot")
    with standin("--latency-ms", str(latency_ms)) as url, tempfile.TemporaryDirectory() as tmp:
        for c in levels:
            ideal = c / (latency_ms / 1000)
            config = llm_config(url, trajectories=c * items_per_level, concurrency=c)
            before = stats(url)["requests"]
            cpu, start = time.process_time(), time.perf_counter()
            with sampled(url) as samples:
                summary = run_pipeline(config, Path(tmp) / f"c{c}")
            elapsed = time.perf_counter() - start
            busy = (time.process_time() - cpu) / elapsed
            requests = stats(url)["requests"] - before
            steady = steady_rate(samples, before, requests)
            print(
                f"  concurrency {c:>4}: {requests} requests in {elapsed:5.1f} s ({requests / elapsed:5.1f}/s "
                f"overall); steady {steady:6.1f} req/s of ideal {ideal:6.1f} -> efficiency "
                f"{steady / ideal:.3f}; pipeline process CPU {busy:.0%}; {summary.kept} kept, "
                f"{summary.discarded} discarded"
            )


# ------------------------------------------------------------------------------------------- faults


def bench_faults(fault_rate: float, items: int, seed: int) -> bool:
    print(f"faults: every role and a Phase I target an LLM, {fault_rate:.0%} injected faults, {items} items")
    args = ["--fault-rate", str(fault_rate), "--seed", str(seed), "--hang-s", "5"]
    with standin(*args) as url, tempfile.TemporaryDirectory() as tmp:
        config = llm_config(url, trajectories=items, concurrency=16)
        target = {"name": "llm-target", "impl": "llm", "model": "standin-target", "base_url": url}
        config["self_eval"] = {"enabled": True, "targets": [target | {"timeout_s": 2.0, "max_retries": 4}]}
        config["environment"]["suites"] = ["travel", "banking"]
        for role in ROLES:
            config["agents"][role]["timeout_s"] = 2.0
        run_dir = Path(tmp) / "run"
        start = time.perf_counter()
        summary = run_pipeline(config, run_dir)
        elapsed = time.perf_counter() - start
        server = stats(url)
        with ResultStore(run_dir / "results.sqlite") as store:
            trajectories = list(store.trajectories(None))
            self_eval = store.self_eval_results()
        unexplained = [t.item for t in trajectories if t.status == "discarded" and not t.discard_reason]
        lost = items - len(trajectories)
        print(f"  {server['requests']} requests in {elapsed:.1f} s; injected faults: {server['faults']}")
        by_errors = sum(1 for *_x, reason in self_eval if "llm:" in reason)
        print(f"  Phase I: {len(self_eval)} verdicts ({by_errors} after an LLM error)")
        kept, discarded, errors = summary.kept, summary.discarded, summary.errors
        print(f"  items: {items} planned, {kept} kept, {discarded} discarded, {errors} raised")
        for reason, n in summary.discard_reasons.items():
            print(f"    discarded {n:>3}  {reason}")
        ok = lost == 0 and summary.errors == 0 and not unexplained
        print(f"  {'PASS' if ok else 'FAIL'}: {lost} lost, {len(unexplained)} discarded without a reason")
        if not ok:
            yaml.safe_dump(server, sys.stdout)
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=["client", "pipeline", "faults"])
    parser.add_argument("--latency-ms", type=float, default=500.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--rounds", type=int, default=12, help="client: requests per level = rounds * C")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--items-per-slot", type=int, default=2, help="pipeline: items = C * this")
    parser.add_argument("--items", type=int, default=40, help="faults: items of the faulty run")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the roles log every re-ask; the faults make many
    ok = True
    if "client" in args.parts:
        bench_client(args.latency_ms, args.concurrency, args.rounds, args.repeats)
    if "pipeline" in args.parts:
        bench_pipeline(args.latency_ms, args.concurrency, args.items_per_slot)
    if "faults" in args.parts:
        ok = bench_faults(args.fault_rate, args.items, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
