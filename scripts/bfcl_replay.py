"""Replay BFCL's multi-turn ground truth through hardgen's BFCL backend and through BFCL's own executor.

For every test entry of a multi-turn category (default ``multi_turn_base``), both start from the entry's
``initial_config`` with BFCL's own random seeds; every ground-truth call is run by BFCL's executor
(``execute_multi_turn_func_call``, turn by turn, as BFCL's checker runs it) and by hardgen (the call text
read by :func:`hardgen.calls.parse_calls`, then :meth:`Environment.execute`). Counted:

* **identical observations**: hardgen's observation is the value BFCL's executor printed (its text read
  back: JSON, or Python's ``str`` of a dict, with ``mpf('x')`` and ``Decimal('x')`` read as the number
  x); an error is
  identical when BFCL printed ``{"error": same message}``;
* **identical final states**: after the last turn, every class's public attributes (what BFCL's state
  checker compares) are equal on both sides, and so are they after every turn.

Usage::

    python scripts/bfcl_replay.py [--category multi_turn_base] [--limit N] [--show 20] [--json]

Needs bfcl-eval (``pip install --no-deps bfcl-eval mpmath``). BFCL's executor runs its own data with
``eval``; hardgen's side never does.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from hardgen.calls import CallSyntaxError, parse_calls
from hardgen.environment.backends.bfcl import (
    CLASSES,
    BFCLBackend,
    bfcl_data_dir,
    ensure_project_root,
    isolated_numerics,
)
from hardgen.environment.base import Environment
from hardgen.schema import Observation, canonical_json

_RUNS = itertools.count()
_NUMBER = re.compile(r"(?:mpf|Decimal)\('([^']*)'\)")  # how str() shows mpmath and Decimal numbers


@dataclass
class CallResult:
    entry: str
    turn: int
    call: str
    bfcl: str
    ours: str
    same: bool


@dataclass
class EntryResult:
    entry: str
    calls: list[CallResult] = field(default_factory=list)
    same_final_state: bool = True
    state_differences: list[str] = field(default_factory=list)


def load_category(category: str = "multi_turn_base") -> list[tuple[dict[str, Any], list[list[str]]]]:
    """(test entry, ground truth) pairs of one BFCL multi-turn category, in file order."""
    data = bfcl_data_dir()
    (questions,) = data.glob(f"BFCL_v*_{category}.json")
    (answers,) = (data / "possible_answer").glob(f"BFCL_v*_{category}.json")
    truth = {}
    for line in answers.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            truth[record["id"]] = record["ground_truth"]
    lines = questions.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return [(e, truth[e["id"]]) for e in entries if e["id"] in truth]


def bfcl_value(text: str) -> Any:
    """What BFCL's executor printed, read back as a value (JSON, or a Python dict's ``str``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(_NUMBER.sub(r"\1", text))
    except (ValueError, SyntaxError):
        return text


def plain(value: Any) -> Any:
    """A value as JSON data (tuples as lists, keys as text) for comparison."""
    return json.loads(json.dumps(value, default=str))


def ours_text(obs: Observation) -> str:
    return canonical_json(obs.output if obs.ok else {"error": obs.error, "type": obs.error_type})


def same_observation(bfcl_text: str, obs: Observation) -> bool:
    theirs = bfcl_value(bfcl_text)
    if not obs.ok:
        return isinstance(theirs, dict) and set(theirs) == {"error"} and theirs["error"] == obs.error
    return canonical_json(plain(theirs)) == canonical_json(obs.output)


def public_state(instance: object) -> dict[str, Any]:
    return {k: v for k, v in vars(instance).items() if not k.startswith("_")}


def replay_entry(entry: dict[str, Any], ground_truth: list[list[str]]) -> EntryResult:
    """Run one entry's ground truth on both sides; see the module docstring for what is compared."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    ensure_project_root()
    classes = [CLASSES[c] for c in entry["involved_classes"]]
    backend = BFCLBackend(
        "bfcl", classes, entry.get("initial_config", {}), decontaminate=False, bfcl_seeds=True
    )
    env = Environment([backend])
    order = backend.positional_order()
    model = f"hardgen_replay_{next(_RUNS)}"  # BFCL keeps instances in globals by this name
    result = EntryResult(entry["id"])
    theirs: dict[str, Any] = {}
    for turn, calls in enumerate(ground_truth):
        with isolated_numerics():  # BFCL's maths calls leave decimal and mpmath precision set
            printed, theirs = execute_multi_turn_func_call(
                calls, entry.get("initial_config", {}), entry["involved_classes"], model, entry["id"]
            )
        for text, shown in zip(calls, printed, strict=True):
            try:
                (call,), _ = parse_calls(text, positional=order)
            except (CallSyntaxError, ValueError) as exc:
                result.calls.append(CallResult(entry["id"], turn, text, shown, f"unreadable: {exc}", False))
                continue
            obs = env.execute(call)
            result.calls.append(
                CallResult(entry["id"], turn, text, shown, ours_text(obs), same_observation(shown, obs))
            )
        for name, instance in theirs.items():
            mine, want = public_state(backend._instances[name]), public_state(instance)
            if plain(mine) != plain(want):
                result.same_final_state = False
                keys = sorted(k for k in want if plain(mine.get(k)) != plain(want[k]))
                result.state_differences.append(f"turn {turn}: {name}.{','.join(keys)}")
    return result


def measure(category: str = "multi_turn_base", limit: int | None = None) -> list[EntryResult]:
    pairs = load_category(category)
    return [replay_entry(e, gt) for e, gt in pairs[:limit]]


def summary(results: list[EntryResult]) -> dict[str, Any]:
    calls = [c for r in results for c in r.calls]
    same_calls = sum(c.same for c in calls)
    same_states = sum(r.same_final_state for r in results)
    return {
        "entries": len(results),
        "calls": len(calls),
        "identical_observations": same_calls,
        "identical_observations_share": round(same_calls / len(calls), 4) if calls else None,
        "identical_final_states": same_states,
        "identical_final_states_share": round(same_states / len(results), 4) if results else None,
        "different_calls": [c.__dict__ for c in calls if not c.same],
        "different_states": {r.entry: r.state_differences for r in results if not r.same_final_state},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", default="multi_turn_base")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--show", type=int, default=20, help="how many differences to print")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args()
    report = summary(measure(args.category, args.limit))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))  # noqa: T201
        return 0
    print(  # noqa: T201
        f"{args.category}: {report['entries']} entries, {report['calls']} calls; identical observations "
        f"{report['identical_observations']} ({report['identical_observations_share']:.1%}); identical final "
        f"states {report['identical_final_states']} ({report['identical_final_states_share']:.1%})"
    )
    for c in report["different_calls"][: args.show]:
        where = f"{c['entry']} turn {c['turn']}: {c['call']}"
        print(f"  {where}\n    bfcl: {c['bfcl'][:200]}\n    ours: {c['ours'][:200]}")  # noqa: T201
    for entry, diffs in list(report["different_states"].items())[: args.show]:
        print(f"  {entry}: state differs: {'; '.join(diffs)[:300]}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
