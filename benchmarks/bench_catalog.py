"""The real-world catalog at paper scale: every function doc of bfcl-eval's single-turn and live data.

Prints how many distinct tools the catalog yields, what building its environment, its API graph and
sampling traces from it cost (medians), and the offline pipeline's throughput on it.

Usage: python benchmarks/bench_catalog.py [--traces 20] [--trajectories 20] [--run-dir DIR]
(needs: pip install --no-deps bfcl-eval mpmath)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from hardgen.config import BackendConfig, EnvironmentConfig, parse_settings
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.apigraph.sampler import Sampler
from hardgen.environment.backends import build_environment
from hardgen.environment.backends.catalog import bfcl_category_files, catalog_from_options, load_source
from hardgen.schema import canonical_json

OPTIONS = {"bfcl_data": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=20)
    parser.add_argument("--trajectories", type=int, default=20)
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args()

    raw = [t for p in bfcl_category_files() for t in load_source(p, "bfcl")]
    shapes = {(t.name, canonical_json(t.parameters)) for t in raw}
    print(f"function docs read:                    {len(raw)}")
    print(f"distinct names:                        {len({t.name for t in raw})}")
    print(f"distinct (name, parameter schema):     {len(shapes)}")
    start = time.perf_counter()
    catalog = catalog_from_options(OPTIONS, "bfcl_catalog")
    seconds = time.perf_counter() - start
    print(f"catalog tools (distinct docs):         {len(catalog.tools)}  (import {seconds:.1f} s)")
    figures = catalog.figures()
    print(f"operations: {json.dumps(figures['operations'])}")
    print(
        f"stored resources {figures['stored_resources']}, "
        f"declared dependencies {figures['declared_dependencies']}"
    )

    config = EnvironmentConfig(
        suites=[], backends=[BackendConfig(kind="catalog", name="bfcl_catalog", options=OPTIONS)]
    )
    env = build_environment(["bfcl_catalog"], config)
    builds = []
    for _ in range(10):
        t = time.perf_counter()
        e = build_environment(["bfcl_catalog"], config)
        e.restore(env.snapshot())
        builds.append(time.perf_counter() - t)
    print(f"build_environment + restore (median):       {1000 * statistics.median(builds):.0f} ms")

    t = time.perf_counter()
    graph = APIGraph.from_environment(env)
    stats = graph.stats()
    print(
        f"API graph: {time.perf_counter() - t:.1f} s, {stats['nodes']} nodes, {stats['edges']} edges "
        f"({json.dumps(stats['edges_by_origin'])}), {stats['suites']} APIs"
    )

    times, lengths = [], []
    for i in range(args.traces):
        e = build_environment(["bfcl_catalog"], config)
        sampler = Sampler(graph, e, random.Random(i))
        t = time.perf_counter()
        trace = sampler.sample_trace(sampler.choose_target(), 4)
        times.append(time.perf_counter() - t)
        lengths.append(len(trace.calls))
    print(
        f"sampler, one 4-call trace (median):          {1000 * statistics.median(times):.0f} ms; "
        f"calls per trace median {statistics.median(lengths)}"
    )

    from hardgen.runner import Runner

    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="hardgen-bench-catalog-"))
    settings = parse_settings(
        {
            "run": {"seed": 0, "trajectories": args.trajectories, "concurrency": 4},
            "environment": {
                "suites": [],
                "suites_per_item": 1,
                "backends": [{"kind": "catalog", "name": "bfcl_catalog", "options": OPTIONS}],
            },
            "self_eval": {"enabled": False},
        }
    )
    t = time.perf_counter()
    summary = asyncio.run(Runner(settings, run_dir).run())
    seconds = time.perf_counter() - t
    print(
        f"offline pipeline: {summary.kept} kept, {summary.discarded} discarded of {summary.planned} in "
        f"{seconds:.0f} s ({summary.planned / seconds:.2f} items/s); discards {summary.discard_reasons}"
    )
    print(f"run directory: {run_dir}")


if __name__ == "__main__":
    main()
