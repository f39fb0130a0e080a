"""LLM-bound efficiency, CPU per request and fault tolerance of the LLM path, against the stand-in server.

The stand-in (``hardgen serve``, a fresh one for each run) runs as its own process and answers every
request after a fixed latency, so with C requests in flight the ideal throughput is C / latency. Its
own CPU (``cpu_s`` of ``/hardgen/stats``) is reported separately and left out of hardgen's. Every
measurement of hardgen runs in a fresh child process; with ``--before REF`` the same measurement also
runs on the code of git revision REF (built into a wheel in a temporary folder), alternating with the
current code, so that before and after are measured side by side under the same load. The load
average is printed with each figure. Reported, as medians over ``--repeats`` runs:

* **layers**: process CPU per request of each layer of the client stack, ``C`` requests in flight
  (``--layer-concurrency``): a role (the summariser: prompt, parse, limits, breaker), hardgen's chat
  model (``ChatOpenAI`` from the model factory, with its HTTP client), the openai SDK alone, raw httpx.
* **client**: an LLM role (the summariser) sends ``rounds * C`` requests with C in flight at once
  (the endpoint's concurrency limit set to C): requests/s in the steady state (the first and the last
  wave left out), its share of C / latency, and CPU per request.
* **pipeline**: the whole pipeline (every role ``impl: llm``, SQLite checkpoints) with
  ``run.concurrency`` C: requests/s the server saw while its count went from 20% to 80% of the run's
  requests (the ramp-up and the tail of long items left out), the share of ideal, and CPU per request:
  the child's CPU (its own and its reaped child processes', i.e. workers; modules imported before the
  clock starts) over the requests the server answered; the stand-in's CPU per request beside it,
  with the share of a core it kept busy, and a note when the two together would need more cores at
  the ideal rate than the machine has (then the share cannot reach 1 here, whichever is to blame).
  ``--workers N`` sets ``run.workers`` (a hardgen without that setting says so and the benchmark stops).
* **faults**: one run with every role and a Phase I target ``impl: llm`` against a stand-in injecting
  ``--fault-rate`` faults of every kind (429, 500, timeouts, malformed and truncated answers, wrong
  calls, broken bodies), with no cap: every planned item must end kept or discarded with a recorded
  reason; none may be lost.

Usage::

    python benchmarks/bench_llm_throughput.py                         # layers, client, pipeline, faults
    python benchmarks/bench_llm_throughput.py --parts pipeline --concurrency 8 32 128 --before main
    python benchmarks/bench_llm_throughput.py --parts layers client --before HEAD~3 --repeats 3
    python benchmarks/bench_llm_throughput.py --parts faults --items 60 --fault-rate 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from hardgen.agents.base import SummaryInput
from hardgen.config import ConfigError, parse_settings
from hardgen.schema import HardQuery, Observation, Step, ToolCall

ROLES = ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
HERE = Path(__file__).resolve()
REPO = HERE.parent.parent


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


def load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def cpu_s() -> float:
    """CPU seconds of this process and of its finished child processes (workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# ------------------------------------------------------------------------------- code under test


def build_revision(ref: str, into: Path) -> Path:
    """hardgen as of git revision ``ref``, built into a wheel and unpacked into ``into``/site: a folder
    that, first on PYTHONPATH, makes ``import hardgen`` load that revision."""
    src, wheels, site = into / "src", into / "wheels", into / "site"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("hardgen-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    shutil.rmtree(src)
    return site


class Codes:
    """The code versions to measure: ``after`` (this checkout) and, with ``--before``, a git revision."""

    def __init__(self, before: str | None, tmp: Path) -> None:
        self.sites: dict[str, Path | None] = {}
        if before:
            print(f"building hardgen at {before} for the 'before' side ...", flush=True)
            self.sites["before"] = build_revision(before, tmp / "before")
        self.sites["after"] = None

    @property
    def names(self) -> list[str]:
        return list(self.sites)

    def run(self, name: str, task: dict[str, Any]) -> dict[str, Any]:
        """Run one measurement in a fresh child process on code ``name``; its JSON result."""
        env = dict(os.environ)
        site = self.sites[name]
        if site is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        proc = subprocess.run(
            [sys.executable, str(HERE), "--child", json.dumps(task)], env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(f"the {name} measurement failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    def medians(self, task: dict[str, Any], repeats: int, serve: list[str]) -> dict[str, dict[str, float]]:
        """Each code's median of every figure over ``repeats`` runs, the codes alternating. Each run gets
        a fresh stand-in (``hardgen serve`` with ``serve``), so that none answers from what it kept of
        an earlier run; its CPU per request over the run is ``standin_cpu_ms``."""
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        for r in range(repeats):
            for name in self.names:
                with standin(*serve) as url:
                    first = stats(url)
                    result = self.run(name, task | {"repeat": r, "url": url})
                    last = stats(url)
                requests = last["requests"] - first["requests"]
                result["standin_cpu_ms"] = 1000 * (last["cpu_s"] - first["cpu_s"]) / requests
                result["standin_cpu_s"] = last["cpu_s"] - first["cpu_s"]
                runs[name].append(result)
        return {
            name: {key: statistics.median(run[key] for run in results) for key in results[0]}
            for name, results in runs.items()
        }


# ------------------------------------------------------------------------------------------- inputs


def summary_input(seed: int) -> SummaryInput:
    call = ToolCall(name="get_zipcode", arguments={"city": "Rivermist"})
    obs = Observation(call=call, ok=True, output={"city": "Rivermist", "zipcode": "83214"})
    step = Step(index=0, calls=[call], observations=[obs])
    return SummaryInput(query=HardQuery(text="What is the zip code of Rivermist?"), steps=[step], seed=seed)


# ------------------------------------------------------------------------------------------- layers


async def layer_cpu(base_url: str, layer: str, requests: int, concurrency: int) -> float:
    """Process CPU (ms) per request of one layer of the client stack, ``concurrency`` in flight."""
    import httpx2
    import openai
    from langchain_core.messages import HumanMessage

    from hardgen.agents.llm import LLMSummarizer
    from hardgen.agents.llm.client import aclose_chat_models, make_chat_model, set_endpoint_limit
    from hardgen.config import AgentConfig
    from hardgen.prompts import render

    config = AgentConfig(impl="llm", model="standin", base_url=base_url, timeout_s=60, max_retries=0)
    set_endpoint_limit(base_url, concurrency)

    def prompt(i: int) -> str:
        inp = summary_input(i)
        return render("summary", query=inp.query, steps=inp.steps)

    closers: list[Callable[[], Awaitable[None]]] = [aclose_chat_models]
    send: Callable[[int], Awaitable[Any]]
    if layer == "role":
        agent = LLMSummarizer(config)

        async def send(i: int) -> Any:
            return await agent.summarize(summary_input(i))
    elif layer == "chat model":

        async def send(i: int) -> Any:
            return await make_chat_model(config).ainvoke([HumanMessage(content=prompt(i))])
    elif layer == "openai SDK":
        sdk = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        closers.append(sdk.close)

        async def send(i: int) -> Any:
            messages: Any = [{"role": "user", "content": prompt(i)}]
            return await sdk.chat.completions.create(model="standin", messages=messages)
    else:
        http = httpx2.AsyncClient(limits=httpx2.Limits(max_keepalive_connections=max(100, concurrency)))
        closers.append(http.aclose)

        async def send(i: int) -> Any:
            body = {"model": "standin", "messages": [{"role": "user", "content": prompt(i)}]}
            return (await http.post(f"{base_url}/chat/completions", json=body)).json()

    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await send(i)

    await asyncio.gather(*(one(-1 - i) for i in range(concurrency)))  # open the connections
    start = time.process_time()
    await asyncio.gather(*(one(i) for i in range(requests)))
    spent = time.process_time() - start
    for close in closers:
        await close()
    return 1000 * spent / requests


LAYERS = ("role", "chat model", "openai SDK", "raw httpx")


def bench_layers(codes: Codes, concurrency: int, requests: int, repeats: int) -> None:
    print(f"layers: CPU per request of the client stack, {concurrency} in flight, {requests} requests")
    for layer in LAYERS:
        task = {"part": "layers", "layer": layer, "requests": requests, "concurrency": concurrency}
        result = codes.medians(task, repeats, ["--latency-ms", "5"])
        side = "  ".join(
            f"{name} {r['cpu_ms']:5.2f} ms (stand-in {r['standin_cpu_ms']:.2f})" for name, r in result.items()
        )
        print(f"  {layer:<11} {side}   ({load()})", flush=True)


# ------------------------------------------------------------------------------------------- client


async def client_round(base_url: str, concurrency: int, rounds: int, offset: int) -> dict[str, float]:
    """Requests per second in the steady state of ``rounds * concurrency`` requests with
    ``concurrency`` in flight (the completions after the first wave and up to the last wave, over that
    span: the ramp-up and the drain are left out), and the CPU per request of the whole round."""
    from hardgen.agents.llm import LLMSummarizer
    from hardgen.agents.llm.client import aclose_chat_models, set_endpoint_limit
    from hardgen.config import AgentConfig

    config = AgentConfig(impl="llm", model="standin", base_url=base_url, timeout_s=60, max_retries=0)
    set_endpoint_limit(base_url, concurrency)
    agent = LLMSummarizer(config)
    inputs = [summary_input(offset + i) for i in range(rounds * concurrency)]
    await agent.summarize(summary_input(-1))  # open the first pooled connection
    done: list[float] = []

    async def one(inp: SummaryInput) -> None:
        await agent.summarize(inp)
        done.append(time.perf_counter())

    cpu = time.process_time()
    await asyncio.gather(*(one(i) for i in inputs))
    cpu = time.process_time() - cpu
    await aclose_chat_models()
    done.sort()
    # From the end of the first wave to the end of the last but one: whole cycles only.
    lo, hi = concurrency - 1, len(done) - concurrency - 1
    return {"rps": (hi - lo) / (done[hi] - done[lo]), "cpu_ms": 1000 * cpu / len(inputs)}


def bench_client(codes: Codes, latency_ms: float, levels: list[int], rounds: int, repeats: int) -> None:
    print(f"client: summariser requests, {latency_ms:g} ms latency, {rounds} rounds per level")
    for c in levels:
        ideal = c / (latency_ms / 1000)
        task = {"part": "client", "concurrency": c, "rounds": rounds, "offset": 100_000 * c}
        result = codes.medians(task, repeats, ["--latency-ms", str(latency_ms)])
        for name, r in result.items():
            print(
                f"  concurrency {c:>4} {name:>6}: {r['rps']:7.1f} req/s of ideal {ideal:6.1f} -> "
                f"share {r['rps'] / ideal:.3f}; CPU {r['cpu_ms']:5.2f} ms/request, stand-in "
                f"{r['standin_cpu_ms']:.2f} ({load()})",
                flush=True,
            )


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
    from hardgen.agents.llm.client import clear_model_cache
    from hardgen.runner import Runner, prepare_run_dir

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
        samples.append((time.perf_counter(), stats(base_url)["requests"]))  # the end, however late


def steady_rate(samples: list[tuple[float, int]], start: int, total: int) -> float:
    """Requests/s while the server's count went from 20% to 80% of the run's requests."""
    lo = next(t for t, n in samples if n - start >= 0.2 * total)
    hi = next(t for t, n in samples if n - start >= 0.8 * total)
    return 0.6 * total / (hi - lo) if hi > lo else float("nan")


# Imported before the clock starts: start-up is no per-request cost (a long run amortises it).
WARM_UP = ("hardgen.runner", "hardgen.graphs.deps", "hardgen.graphs.generate", "hardgen.agents.llm")


def pipeline_once(url: str, concurrency: int, items: int, workers: int | None) -> dict[str, float]:
    for name in WARM_UP:
        importlib.import_module(name)
    run: dict[str, Any] = {"trajectories": items, "concurrency": concurrency}
    if workers is not None:
        run["workers"] = workers
    config = llm_config(url, **run)
    with tempfile.TemporaryDirectory() as tmp:
        before = stats(url)
        cpu, start = cpu_s(), time.perf_counter()
        with sampled(url) as samples:
            summary = run_pipeline(config, Path(tmp) / "run")
        elapsed = time.perf_counter() - start
        cpu = cpu_s() - cpu
        after = stats(url)
    requests = after["requests"] - before["requests"]
    return {
        "requests": requests,
        "elapsed_s": elapsed,
        "steady_rps": steady_rate(samples, before["requests"], requests),
        "cpu_ms": 1000 * cpu / requests,
        "busy": cpu / elapsed,
        "kept": summary.kept,
        "discarded": summary.discarded,
    }


def check_workers(workers: int | None) -> bool:
    """Whether this hardgen knows ``run.workers`` (when asked for); says why not."""
    if workers is None:
        return True
    try:
        parse_settings(llm_config("http://127.0.0.1:9/v1", workers=workers))
    except ConfigError as exc:
        print(f"--workers {workers}: this hardgen has no run.workers setting yet ({exc})", file=sys.stderr)
        return False
    return True


def bench_pipeline(
    codes: Codes,
    latency_ms: float,
    levels: list[int],
    items_per_level: int,
    repeats: int,
    workers: int | None,
) -> None:
    with_workers = f", run.workers {workers}" if workers is not None else ""
    print(
        f"pipeline: every role an LLM, {latency_ms:g} ms latency, {items_per_level} items per slot"
        + with_workers
    )
    for c in levels:
        ideal = c / (latency_ms / 1000)
        task = {"part": "pipeline", "concurrency": c, "items": c * items_per_level, "workers": workers}
        result = codes.medians(task, repeats, ["--latency-ms", str(latency_ms)])
        for name, r in result.items():
            print(
                f"  concurrency {c:>4} {name:>6}: {r['requests']:.0f} requests in "
                f"{r['elapsed_s']:5.1f} s; steady {r['steady_rps']:6.1f} req/s of ideal {ideal:6.1f} "
                f"-> share {r['steady_rps'] / ideal:.3f}; CPU {r['cpu_ms']:5.1f} ms/request (process "
                f"busy {r['busy']:.0%}), stand-in {r['standin_cpu_ms']:4.1f} ms/request (busy "
                f"{r['standin_cpu_s'] / r['elapsed_s']:.0%}); "
                f"{r['kept']:.0f} kept, {r['discarded']:.0f} discarded ({load()})",
                flush=True,
            )
            # Both processes share this machine's cores: at the ideal rate they need this many.
            own, standin_cores = ideal * r["cpu_ms"] / 1000, ideal * r["standin_cpu_ms"] / 1000
            if own + standin_cores > (os.cpu_count() or 1):
                print(
                    f"    at the ideal {ideal:.0f} req/s hardgen would need {own:.1f} cores and the "
                    f"stand-in {standin_cores:.1f}, of the {os.cpu_count()} here: the share cannot "
                    "reach 1 on this machine",
                    flush=True,
                )


# ------------------------------------------------------------------------------------------- faults


def bench_faults(fault_rate: float, items: int, seed: int) -> bool:
    from hardgen.store import ResultStore

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


# -------------------------------------------------------------------------------------------- child


def child(task: dict[str, Any]) -> dict[str, float]:
    """One measurement, in this (fresh) process, on whichever hardgen ``import hardgen`` finds."""
    part = task["part"]
    if part == "layers":
        ms = asyncio.run(layer_cpu(task["url"], task["layer"], task["requests"], task["concurrency"]))
        return {"cpu_ms": ms}
    if part == "client":
        offset = task["offset"] + 10_000 * task.get("repeat", 0)
        return asyncio.run(client_round(task["url"], task["concurrency"], task["rounds"], offset))
    return pipeline_once(task["url"], task["concurrency"], task["items"], task.get("workers"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=["layers", "client", "pipeline", "faults"])
    parser.add_argument("--before", metavar="REF", help="also measure git revision REF, side by side")
    parser.add_argument("--latency-ms", type=float, default=500.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--layer-concurrency", type=int, default=16)
    parser.add_argument("--layer-requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=12, help="client: requests per level = rounds * C")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--items-per-slot", type=int, default=2, help="pipeline: items = C * this")
    parser.add_argument("--workers", type=int, help="pipeline: run.workers (processes per run)")
    parser.add_argument("--items", type=int, default=40, help="faults: items of the faulty run")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the roles log every re-ask; the faults make many
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if "pipeline" in args.parts and not check_workers(args.workers):
        return 2
    print(f"{load()} on {os.cpu_count()} cores; medians of {args.repeats}", flush=True)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        codes = Codes(args.before, Path(tmp))
        if "layers" in args.parts:
            bench_layers(codes, args.layer_concurrency, args.layer_requests, args.repeats)
        if "client" in args.parts:
            bench_client(codes, args.latency_ms, args.concurrency, args.rounds, args.repeats)
        if "pipeline" in args.parts:
            bench_pipeline(
                codes, args.latency_ms, args.concurrency, args.items_per_slot, args.repeats, args.workers
            )
    if "faults" in args.parts:
        ok = bench_faults(args.fault_rate, args.items, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
