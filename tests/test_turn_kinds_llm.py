"""Turn kinds on the LLM path: every role ``impl: llm`` against the stand-in server over real HTTP.

The stand-in (``hardgen serve``) answers as a capable model would: it asks for a value the request
leaves out, says a tool it needs is not at hand, answers with no call when no tool fits, and picks the
right record from long listings. Its answers depend on each request's text only, never on the order
the requests come in: a run at concurrency 1 and one at concurrency 6 store the same dataset.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hardgen.agents.llm.client import clear_model_cache, reset_endpoint_limits
from hardgen.config import parse_settings
from hardgen.dataflow import argument_values, text_contains, values_match
from hardgen.export import export_run
from hardgen.kinds import LONG_LISTING, hidden_tool_problems, longest_listing
from hardgen.runner import Runner
from hardgen.schema import Trajectory
from hardgen.serve import BackgroundServer, StandInOptions
from hardgen.stats import compute_stats
from hardgen.store import ResultStore
from hardgen.verify import verify_path
from tests.llm_state import clean_llm_state, close_llm_connections  # noqa: F401  (autouse fixtures)

SUITES = ["travel", "banking", "filesystem", "ecommerce", "messaging", "support"]
KINDS = ("missing_param", "missing_func", "long_context", "irrelevance")
ROLES = ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")


def _settings(base_url: str, concurrency: int) -> Any:
    role = {"impl": "llm", "model": "standin", "base_url": base_url, "timeout_s": 20.0, "max_retries": 2}
    return parse_settings(
        {
            "run": {"seed": 6, "trajectories": 10, "concurrency": concurrency},
            "environment": {"suites": SUITES, "suites_per_item": 2},
            "sampling": {
                "calls_per_trace": {"min": 1, "max": 2},
                "multi_turn_share": 0.6,
                "turns": {"min": 2, "max": 2},
                "turn_kinds": {"base": 0.1, **dict.fromkeys(KINDS, 0.225)},
            },
            "self_eval": {"enabled": False},
            "pipeline": {"k_max": 3},
            "agents": {r: dict(role) for r in ROLES},
        }
    )


@cache
def _run(root: str, concurrency: int) -> tuple[Path, dict[str, Any]]:
    run_dir = Path(root) / f"c{concurrency}"
    with BackgroundServer(StandInOptions(seed=6, error_rate=0.35)) as server:
        asyncio.run(Runner(_settings(server.base_url, concurrency), run_dir).run())
        stats = server.standin.stats.as_json()
    clear_model_cache()
    reset_endpoint_limits()
    return run_dir, stats


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("kinds-llm"))


def kept(run_dir: Path) -> list[Trajectory]:
    with ResultStore(run_dir / "results.sqlite") as store:
        return list(store.trajectories("kept"))


def test_every_kind_through_the_standin_as_a_capable_model_answers(root: str) -> None:
    run_dir, server = _run(root, 6)
    assert server["errors"] == {}, "every prompt was read back"
    assert server["memory_misses"] == {}, "every follow-up request found the turn it belongs to"
    assert not (run_dir / "errors.log").exists()
    turns = {kind: [(t, u) for t in kept(run_dir) for u in t.turns if u.kind == kind] for kind in KINDS}
    assert all(turns.values()), {k: len(v) for k, v in turns.items()}

    for _, turn in turns["missing_param"]:  # asks for the value, then calls with the one the user gave
        first, rest = turn.steps[0], turn.steps[1:]
        assert first.calls == [] and first.reply.endswith("?"), first.reply
        assert not text_contains(turn.query.text, turn.withheld_value)
        assert text_contains(turn.followup, turn.withheld_value)
        used = [v for s in rest for c in s.calls for v in argument_values(c.arguments).values()]
        assert any(values_match(v, turn.withheld_value) for v in used)

    for t, turn in turns["missing_func"]:  # says the tools cannot do it, then calls the added tool
        assert not hidden_tool_problems([s.name for s in t.tools], turn.hidden_tools)
        assert turn.steps[0].calls == [] and "tools" in turn.steps[0].reply
        assert set(turn.hidden_tools) <= {c.name for s in turn.steps[1:] for c in s.calls}

    for _, turn in turns["irrelevance"]:  # no call, and the turn ends there
        assert [s.calls for s in turn.steps] == [[]] and "can't" in turn.steps[0].reply

    for _, turn in turns["long_context"]:  # calls from the first step, over a long listing
        assert longest_listing(turn.trace) >= LONG_LISTING and all(s.calls for s in turn.steps)

    kinds = compute_stats(run_dir)["turn_kinds"]
    assert isinstance(kinds, dict) and kinds["no_call_steps"] >= sum(len(turns[k]) for k in KINDS[:2])


def test_kind_answers_do_not_depend_on_the_order_requests_come_in(root: str) -> None:
    (parallel, _), (serial, _) = _run(root, 6), _run(root, 1)

    def data(run_dir: Path) -> list[dict[str, Any]]:  # the run id names the server's port: left out
        with ResultStore(run_dir / "results.sqlite") as store:
            return [t.model_dump(mode="json", exclude={"id", "run_id"}) for t in store.trajectories(None)]

    stored = data(parallel)
    assert any(t["status"] == "kept" for t in stored)
    assert stored == data(serial)


def test_kind_runs_of_the_llm_path_export_and_re_execute(root: str, tmp_path: Path) -> None:
    run_dir, _ = _run(root, 6)
    for fmt in ("openai", "verl"):
        export_run(run_dir, fmt, tmp_path / fmt)
        reports = verify_path(tmp_path / fmt)
        assert reports and all(r.ok for r in reports), [r.to_json() for r in reports]
