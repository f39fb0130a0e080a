"""Time export (every format), verify, stats and report on N trajectories.

The trajectories are copies of the kept test fixtures (real travel-suite calls: 1 to 2 turns, 1 to 8
calls, parallel steps), written to a temporary run directory. Each operation runs ``--rounds`` times;
the median is printed, per 1,000 trajectories.

Run from the repository root:  python benchmarks/bench_export.py [--trajectories 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # to import tests.fixtures_trajectories

from hardgen.export import FORMATS, export_run
from hardgen.report import write_report
from hardgen.stats import compute_stats
from hardgen.verify import verify_file
from tests.fixtures_trajectories import OUTPUTS, scaled_trajectories, write_run


def median_seconds(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (CPU time is what a busy machine does not inflate)."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def show(label: str, seconds: tuple[float, float], per_k: float) -> str:
    return f"{label} {seconds[0] * per_k:6.2f} s ({seconds[1] * per_k:5.2f} s CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.trajectories
    per_k = 1000 / n
    with tempfile.TemporaryDirectory(prefix="hardgen-bench-") as tmp:
        base = Path(tmp)
        run = write_run(base / "run", scaled_trajectories(n))
        print(f"{n} trajectories, median of {args.rounds} rounds, wall (CPU) seconds per 1,000 trajectories")
        for fmt in FORMATS:
            out = base / OUTPUTS[fmt]
            export = median_seconds(lambda fmt=fmt, out=out: export_run(run, fmt, out), args.rounds)
            target = export_run(run, fmt, out).files[0]
            report = verify_file(target)
            assert report.ok, f"{fmt}: {len(report.mismatches)} mismatches"
            verify = median_seconds(lambda target=target: verify_file(target), args.rounds)
            size = (
                sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
                if out.is_dir()
                else out.stat().st_size
            )
            print(
                f"  {fmt:<13} {show('export', export, per_k)}   {show('verify', verify, per_k)}   "
                f"{size / n / 1024:6.1f} KiB per trajectory"
            )
        print(f"  {'stats':<13} {show('', median_seconds(lambda: compute_stats(run), args.rounds), per_k)}")
        html = median_seconds(lambda: write_report(run, base / "report.html"), args.rounds)
        print(f"  {'report':<13} {show('', html, per_k)} (200 trajectories shown)")


if __name__ == "__main__":
    main()
