"""Time ``hardgen audit`` (the whole run directory: reading and every check) on N trajectories.

The trajectories are copies of the kept test fixtures (real travel-suite calls), written to a temporary
run directory; or pass ``--run-dir`` to time a real run. Each audit runs ``--rounds`` times; the median
is printed, per 1,000 trajectories. ``hardgen run`` prints the audit's headline at its end, so this is
what that line costs.

Run from the repository root:  python benchmarks/bench_audit.py [--trajectories 2000] [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # to import tests.fixtures_trajectories

from hardgen.audit import audit_run
from tests.fixtures_trajectories import scaled_trajectories, write_run


def timed(run: Path, rounds: int) -> tuple[float, float, int]:
    """Median wall-clock and CPU seconds of one audit, and the trajectories it read."""
    walls, cpus, n = [], [], 0
    audit_run(run)  # load lemminflect's tables once, as a long run would have
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        n = audit_run(run).trajectories
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, default=None, help="Audit this run instead of fixtures.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hardgen-bench-") as tmp:
        run = args.run_dir or write_run(Path(tmp) / "run", scaled_trajectories(args.trajectories))
        wall, cpu, n = timed(run, args.rounds)
    per_k = 1000 / max(n, 1)
    print(
        f"audit of {n} trajectories: {wall:.2f} s ({cpu:.2f} s CPU); "
        f"{wall * per_k:.2f} s ({cpu * per_k:.2f} s CPU) per 1,000 trajectories, median of {args.rounds}"
    )


if __name__ == "__main__":
    main()
