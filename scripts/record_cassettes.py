"""Re-record the cassettes in ``cassettes/``: small runs of the LLM path, replayed by tests/test_cassettes.py.

Each scenario is a run config (written to ``cassettes/<name>.config.yaml``), the stand-in options it is
recorded against, and what the recording must cover; the cassette (``cassettes/<name>.yaml``) stores the
run's summary (:func:`hardgen.cassettes.run_summary`) so a replay can be compared with it.

    python scripts/record_cassettes.py                       # every scenario, against the stand-in
    python scripts/record_cassettes.py --only generate       # one scenario
    OPENAI_API_KEY=... python scripts/record_cassettes.py --endpoint https://api.openai.com/v1 \\
        --model gpt-4o-mini --out my-cassettes                # against a real endpoint

Against the stand-in, the script serves it on ``--port`` (a fixed port keeps the configs' base_url, and
so the run identity, the same between recordings). Against a real endpoint, the stand-in's options
(fault injection, the Reasoner's error rate) do not apply and the coverage checks may not hold; the
cassettes are written anyway and the failed checks are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hardgen.cassettes import cassette_summary, recording, run_summary
from hardgen.config import parse_settings
from hardgen.runner import Runner, prepare_run_dir
from hardgen.serve import BackgroundServer, StandInOptions

log = logging.getLogger("record_cassettes")

ROOT = Path(__file__).resolve().parent.parent
LLM = {"impl": "llm", "timeout_s": 30.0, "max_retries": 4, "max_reasks": 2}


@dataclass
class Scenario:
    """One recorded run: its config, the stand-in it is recorded against, and what it must cover."""

    description: str
    config: dict[str, Any]
    server: StandInOptions
    checks: list[tuple[str, Callable[[dict[str, Any], dict[str, Any]], bool]]] = field(default_factory=list)


def _roles(model: str, **extra: Any) -> dict[str, Any]:
    role = {**LLM, "model": model, **extra}
    return {r: dict(role) for r in ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")}


def _feature(name: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda run, cassette: run["features"][name] > 0


def _status(code: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda run, cassette: cassette["statuses"].get(code, 0) > 0


SCENARIOS: dict[str, Scenario] = {
    "phase1_self_eval": Scenario(
        description="Phase I: a target model under test (native tool calls, reasoning in "
        "reasoning_content) on every tool of the messaging suite; then one offline trajectory.",
        config={
            "run": {"seed": 11, "trajectories": 1, "concurrency": 8},
            "environment": {"suites": ["messaging"], "suites_per_item": 1},
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}, "multi_turn_share": 0.0},
            "self_eval": {
                "enabled": True,
                "targets": [{"name": "standin-target", **LLM, "model": "standin-target"}],
            },
            "pipeline": {"k_max": 3},
        },
        server=StandInOptions(seed=11, think="field"),
        checks=[
            ("Phase I evaluated tools", _feature("self_eval_evaluations")),
            ("the target failed on some tools", _feature("self_eval_failures")),
            ("requests carried tools", lambda run, cas: cas["target_requests"] > 0),
            ("reasoning came in reasoning_content", lambda run, cas: cas["think_field"] > 0),
        ],
    ),
    "generate": Scenario(
        description="Phases II-III with every role an LLM (reasoning inline in <think>): steps right "
        "first time, steps fixed by Verifier feedback, a step discarded at K_max, multi-turn trajectories.",
        config={
            "run": {"seed": 4, "trajectories": 4, "concurrency": 4},
            "environment": {"suites": ["travel", "banking", "messaging"], "suites_per_item": 1},
            "sampling": {
                "calls_per_trace": {"min": 2, "max": 3},
                "multi_turn_share": 0.5,
                "turns": {"min": 2, "max": 2},
            },
            "self_eval": {"enabled": False},
            "pipeline": {"k_max": 2},
            "agents": _roles("standin"),
        },
        server=StandInOptions(seed=4, error_rate=0.5),
        checks=[
            ("steps right first time", _feature("steps_right_first_time")),
            ("steps fixed by Verifier feedback", _feature("steps_fixed_by_feedback")),
            ("a step discarded at K_max", _feature("steps_discarded_at_k_max")),
            ("a kept multi-turn trajectory", _feature("multi_turn_kept")),
            ("<think> blocks in the answers", lambda run, cas: cas["think_inline"] > 0),
        ],
    ),
    "faults": Scenario(
        description="Every role an LLM against a stand-in injecting faults (30% of tries, at most one per "
        "request): retries after 429 and 500, re-asks after malformed and truncated answers, wrong calls.",
        config={
            "run": {"seed": 8, "trajectories": 3, "concurrency": 3},
            "environment": {"suites": ["travel", "banking"], "suites_per_item": 1},
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}, "multi_turn_share": 0.0},
            "self_eval": {"enabled": False},
            "pipeline": {"k_max": 3},
            "agents": _roles("standin"),
        },
        server=StandInOptions(
            seed=5,
            fault_rate=0.3,
            faults=("429", "500", "malformed", "truncated", "wrong_call"),
            max_faults_per_request=1,
            think="field",
        ),
        checks=[
            ("429 answers (retried)", _status("429")),
            ("500 answers (retried)", _status("500")),
            ("re-asks after unusable answers", lambda run, cas: cas["reasks"] > 0),
            ("kept trajectories", lambda run, cas: run["kept"] > 0),
        ],
    ),
    "kinds": Scenario(
        description="Turn kinds with every role an LLM: a missing value asked for, a missing tool named, "
        "a request no tool fits answered without a call, a pick from long listings.",
        config={
            "run": {"seed": 6, "trajectories": 6, "concurrency": 3},
            "environment": {"suites": ["support", "games", "filesystem", "messaging"], "suites_per_item": 2},
            "sampling": {
                "calls_per_trace": {"min": 1, "max": 2},
                "multi_turn_share": 0.5,
                "turns": {"min": 2, "max": 2},
                "turn_kinds": {
                    "base": 0.2,
                    "missing_param": 0.2,
                    "missing_func": 0.2,
                    "long_context": 0.2,
                    "irrelevance": 0.2,
                },
            },
            "self_eval": {"enabled": False},
            "pipeline": {"k_max": 3},
            "agents": _roles("standin"),
        },
        server=StandInOptions(seed=6, error_rate=0.35),
        checks=[
            (f"a kept {kind} turn", _feature(f"kept_{kind}_turns"))
            for kind in ("missing_param", "missing_func", "long_context", "irrelevance")
        ],
    ),
}


def _with_endpoint(config: dict[str, Any], base_url: str, model: str | None) -> dict[str, Any]:
    """The config with every llm role (and target) pointed at ``base_url`` (and ``model``)."""
    config = copy.deepcopy(config)
    targets = (config.get("self_eval") or {}).get("targets", [])
    roles = [*(config.get("agents") or {}).values(), *targets]
    for role in roles:
        if isinstance(role, dict) and role.get("impl") == "llm":
            role["base_url"] = base_url
            if model:
                role["model"] = model
    return config


def record(name: str, scenario: Scenario, out: Path, base_url: str, model: str | None) -> list[str]:
    """Record one scenario; returns the coverage checks that failed."""
    config = _with_endpoint(scenario.config, base_url, model)
    config_path = out / f"{name}.config.yaml"
    replay = f"hardgen run {config_path.name} --run-dir DIR --replay {name}.yaml"
    header = f"# {scenario.description}\n# Replay: {replay}\n"
    config_path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    settings = parse_settings(config, source=str(config_path))
    cassette = out / f"{name}.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        prepare_run_dir(settings, config_path, run_dir)
        with recording(cassette, metadata={"scenario": name, "description": scenario.description}) as report:
            asyncio.run(Runner(settings, run_dir).run())
            summary = run_summary(run_dir)
            report.metadata["expected"] = summary
    contents = cassette_summary(cassette)
    failed = [label for label, check in scenario.checks if not check(summary, contents)]
    size = cassette.stat().st_size
    print(  # noqa: T201 - the script's report
        f"{name}: {report.interactions} exchanges, {size / 1024:.0f} KiB, kept {summary['kept']}, "
        f"discarded {summary['discarded']}, statuses {contents['statuses']}, features {summary['features']}"
    )
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="Record only these.")
    parser.add_argument("--out", type=Path, default=ROOT / "cassettes", help="Where to write (cassettes/).")
    parser.add_argument("--endpoint", help="A real OpenAI-compatible base URL instead of the stand-in.")
    parser.add_argument("--model", help="The model name to use at --endpoint.")
    parser.add_argument("--port", type=int, default=18080, help="The stand-in's port (default 18080).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    for name in args.only or list(SCENARIOS):
        scenario = SCENARIOS[name]
        if args.endpoint:
            problems[name] = record(name, scenario, args.out, args.endpoint, args.model)
            continue
        with BackgroundServer(scenario.server, port=args.port) as server:
            problems[name] = record(name, scenario, args.out, server.base_url, None)
    failed = {name: checks for name, checks in problems.items() if checks}
    for name, checks in failed.items():
        print(f"{name}: the recording does not cover: {', '.join(checks)}", file=sys.stderr)  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
