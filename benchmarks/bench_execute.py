"""Cost of one ``Environment.execute`` call across all registered suites.

The call mix is (1) every per-suite test case with its setup calls (tests/suite_cases: successes and
failures of every tool, logins included) and (2) seeded random calls drawn from each suite's specs with
arguments taken from its entities, most of which fail. Each sequence starts from the suite's default
state; only ``execute`` is timed.

Run from the repository root:  python benchmarks/bench_execute.py [--rounds 5] [--random 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # to import tests.suite_cases

from hardgen.environment import Environment, all_suites
from hardgen.schema import JSONDict, ToolCall, ToolSpec

Sequence = list[ToolCall]


def case_sequences(suite: str) -> list[Sequence]:
    try:
        module = importlib.import_module(f"tests.suite_cases.{suite}")
    except ModuleNotFoundError:
        return []
    return [
        [ToolCall(name=t, arguments=a) for t, a in (*case.setup, (case.tool, case.args))]
        for case in module.CASES
    ]


def random_value(rng: random.Random, schema: JSONDict, pool: list[Any]) -> Any:
    if isinstance(schema.get("enum"), list):
        return rng.choice(schema["enum"])  # type: ignore[arg-type]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rng.choice([k for k in kind if k != "null"] or ["null"])
    typed = [v for v in pool if isinstance(v, str if kind == "string" else int | float)]
    if typed and kind in ("string", "integer", "number") and rng.random() < 0.8:
        value = rng.choice(typed)
        return int(value) if kind == "integer" else value
    return {
        "string": lambda: rng.choice(["x", "", "unknown", "2026-03-01"]),
        "integer": lambda: rng.randint(-1, 30),
        "number": lambda: round(rng.uniform(-10, 5000), 2),
        "boolean": lambda: rng.random() < 0.5,
        "array": lambda: [],
        "object": lambda: {},
    }.get(str(kind), lambda: None)()


def random_sequences(
    env: Environment, specs: list[ToolSpec], rng: random.Random, count: int
) -> list[Sequence]:
    entities = env.entities()
    sequences: list[Sequence] = []
    for _ in range(count // 5):
        calls = []
        for _ in range(5):
            spec = rng.choice(specs)
            args = {
                name: random_value(rng, schema, entities.get(name, []))
                for name, schema in spec.properties.items()
                if isinstance(schema, dict) and (name in spec.required or rng.random() < 0.5)
            }
            calls.append(ToolCall(name=spec.name, arguments=args))
        sequences.append(calls)
    return sequences


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="how often every sequence is replayed")
    parser.add_argument("--random", type=int, default=300, help="random calls per suite per round")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    suites = all_suites()
    rng = random.Random(args.seed)
    timings: dict[str, list[float]] = {name: [] for name in suites}
    outcomes: Counter[str] = Counter()
    for name, cls in suites.items():
        env = Environment([cls()])
        pristine = env.snapshot()
        sequences = case_sequences(name) * args.rounds
        sequences += random_sequences(env, cls.specs(), rng, args.random * args.rounds)
        for sequence in sequences:
            env.restore(pristine)
            for c in sequence:
                started = time.perf_counter_ns()
                obs = env.execute(c)
                timings[name].append((time.perf_counter_ns() - started) / 1000)
                outcomes["ok" if obs.ok else (obs.error_type or "error").split(":")[0] + " error"] += 1

    every = [t for values in timings.values() for t in values]
    print(
        f"execute: median {statistics.median(every):.1f} us, p90 {percentile(every, 0.9):.1f} us, "
        f"{len(every)} calls ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})"
    )
    print(f"{'suite':<12} {'domain':<16} {'tools':>5} {'calls':>7} {'median us':>10} {'p90 us':>8}")
    per_domain: Counter[str] = Counter()
    for name, cls in suites.items():
        values = timings[name]
        per_domain[cls.domain] += len(cls.tool_names())
        print(
            f"{name:<12} {cls.domain:<16} {len(cls.tool_names()):>5} {len(values):>7} "
            f"{statistics.median(values):>10.1f} {percentile(values, 0.9):>8.1f}"
        )
    print("tools per domain: " + ", ".join(f"{d} {n}" for d, n in sorted(per_domain.items())))
    print(f"total tools: {sum(per_domain.values())} in {len(suites)} suites")


if __name__ == "__main__":
    main()
