"""Offline pipeline throughput, checkpoint size and peak memory (issue 5's figures).

Each measurement is a separate ``hardgen run`` process on the built-in suites with offline agents, so
the figures are what a user sees (imports and all). Phase I is done once up front and its graph reused,
so the runs measure Phases II-III.

    python benchmarks/bench_pipeline.py                  # 300 trajectories per run, 3 repeats
    python benchmarks/bench_pipeline.py --items 5000 --repeats 1 --memory-only
    python benchmarks/bench_pipeline.py --workers 1,2        # run.workers side by side (sync), same hash

Prints medians of the repeats and the sync/none ratio.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BASE = {
    "run": {"seed": 0, "concurrency": 16},
    "environment": {"suites": "all", "suites_per_item": 2},
}


def hardgen(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "hardgen.cli", *args], check=True, stdout=subprocess.DEVNULL)


def prepare_graph(tmp: Path) -> Path:
    """Phase I once: later runs reuse its graph (self_eval.graph) and skip self-evaluation."""
    cfg = tmp / "phase1.yaml"
    cfg.write_text(yaml.safe_dump({**BASE, "run": {**BASE["run"], "trajectories": 1}}))
    hardgen("self-eval", str(cfg), "--run-dir", str(tmp / "phase1"))
    return tmp / "phase1" / "graph.json"


def one_run(
    tmp: Path, graph: Path, items: int, durability: str, keep: bool, tag: str, workers: int | str = "auto"
) -> dict[str, float]:
    cfg = tmp / f"{tag}.yaml"
    data = {
        **BASE,
        "run": {**BASE["run"], "trajectories": items, "durability": durability, "workers": workers},
        "self_eval": {"enabled": True, "graph": str(graph)},
    }
    cfg.write_text(yaml.safe_dump(data))
    run_dir = tmp / tag
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    args = ["run", str(cfg), "--run-dir", str(run_dir), "-q"] + (["--keep-checkpoints"] if keep else [])
    hardgen(*args)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The checkpoint database: LangGraph's checkpoints and the environment snapshots they name by hash.
    size = sum(p.stat().st_size for p in run_dir.glob("checkpoints.sqlite*"))
    size += sum(p.stat().st_size for p in run_dir.glob("snapshots.sqlite*"))
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "per_s": items / wall,
        "checkpoint_bytes_per_item": size / items,
        "peak_rss_mb": after.ru_maxrss / 1024,
        "hash": dataset_hash(run_dir),
    }


def dataset_hash(run_dir: Path) -> str:
    from hardgen.store import ResultStore

    with ResultStore(run_dir / "results.sqlite") as store:
        return store.dataset_hash()


def compare_workers(tmp: Path, graph: Path, items: int, repeats: int, counts: list[int]) -> None:
    """run.workers side by side: the runs alternate, so that a change of machine load hits them alike."""
    import os

    runs: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    loads = [os.getloadavg()[0]]
    for i in range(repeats):
        for n in counts:
            runs[n].append(one_run(tmp, graph, items, "sync", False, f"w{n}_{i}", workers=n))
            loads.append(os.getloadavg()[0])
    hashes = {r["hash"] for rs in runs.values() for r in rs}
    print(
        f"{items} trajectories per run, sync, offline agents, median of {repeats}, "
        f"load average (1 min) {min(loads):.1f}-{max(loads):.1f}"
    )
    base = statistics.median(r["per_s"] for r in runs[counts[0]])
    for n in counts:
        per_s = statistics.median(r["per_s"] for r in runs[n])
        cpu = statistics.median(r["cpu_s"] for r in runs[n]) / items * 1000
        print(f"  workers={n}: {per_s:6.1f} trajectories/s ({per_s / base:.2f}x), {cpu:.0f} ms CPU each")
    print(f"  dataset hashes: {'all equal' if len(hashes) == 1 else f'{len(hashes)} DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-only", action="store_true", help="One sync run: peak memory and rate.")
    parser.add_argument("--workers", help="Compare run.workers values, e.g. 1,2 (sync durability).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        graph = prepare_graph(tmp)
        if args.workers:
            compare_workers(tmp, graph, args.items, args.repeats, [int(n) for n in args.workers.split(",")])
            return
        if args.memory_only:
            import os

            load = os.getloadavg()[0]
            r = one_run(tmp, graph, args.items, "sync", False, "memory")
            print(
                f"{args.items} trajectories, sync checkpoints: {r['per_s']:.1f}/s, wall {r['wall_s']:.0f} s, "
                f"{r['cpu_s'] / args.items * 1000:.0f} ms CPU each (imports included), "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (the largest process: the run's or one worker's), "
                f"load average {load:.1f}-{os.getloadavg()[0]:.1f}, hash {r['hash'][:12]}"
            )
            return
        results: dict[str, list[dict[str, float]]] = {"sync": [], "none": [], "sync_kept": []}
        for i in range(args.repeats):
            results["sync"].append(one_run(tmp, graph, args.items, "sync", False, f"sync{i}"))
            results["none"].append(one_run(tmp, graph, args.items, "none", False, f"none{i}"))
        results["sync_kept"].append(one_run(tmp, graph, args.items, "sync", True, "sync_kept"))

        def med(kind: str, key: str) -> float:
            return statistics.median(r[key] for r in results[kind])

        print(f"{args.items} trajectories per run, median of {args.repeats} runs, offline agents, 2 cores")
        for kind in ("sync", "none"):
            print(
                f"  durability={kind:<5} {med(kind, 'per_s'):6.1f} trajectories/s  "
                f"(wall {med(kind, 'wall_s'):.1f} s, cpu {med(kind, 'cpu_s'):.1f} s)"
            )
        print(f"  ratio sync/none: {med('sync', 'per_s') / med('none', 'per_s'):.2f}")
        kept_kib = med("sync_kept", "checkpoint_bytes_per_item") / 1024
        deleted_kib = med("sync", "checkpoint_bytes_per_item") / 1024
        print(
            f"  checkpoints.sqlite + snapshots.sqlite per trajectory: {kept_kib:.1f} KiB with every thread "
            f"kept (--keep-checkpoints), {deleted_kib:.1f} KiB with finished threads deleted (default)"
        )


if __name__ == "__main__":
    main()
