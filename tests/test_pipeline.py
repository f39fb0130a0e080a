"""The main job end to end: K_max routes, resume after a failing node, concurrency, swapping roles."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hardgen.config import Settings, parse_settings
from hardgen.runner import Runner, plan_items
from hardgen.store import ResultStore


def small_settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "run": {"seed": 7, "trajectories": 24, "concurrency": 8},
        "environment": {"suites": ["travel", "banking", "filesystem", "ecommerce"], "suites_per_item": 2},
        "sampling": {"calls_per_trace": {"min": 2, "max": 4}, "turns": {"min": 2, "max": 2}},
        "self_eval": {"enabled": True},
        "agents": {"reasoner": {"impl": "offline", "options": {"error_rate": 0.35}}},
    }
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return parse_settings(data)


def run(settings: Settings, run_dir: Path) -> Any:
    return asyncio.run(Runner(settings, run_dir).run())


def dataset_hash(run_dir: Path) -> str:
    with ResultStore(run_dir / "results.sqlite") as store:
        return store.dataset_hash()


def content_hash(run_dir: Path) -> str:
    """The dataset's hash without run ids (runs with differently named agent classes have other ids)."""
    from hardgen.schema import content_hash as hash_json

    with ResultStore(run_dir / "results.sqlite") as store:
        dumps = [t.model_dump(mode="json", exclude={"id", "run_id"}) for t in store.trajectories(None)]
        return hash_json(dumps)


def test_plans_depend_only_on_seed_and_index() -> None:
    s = small_settings()
    pool = ["travel", "banking", "filesystem", "ecommerce"]
    a = plan_items(s, pool)
    b = plan_items(small_settings(**{"run.concurrency": 1, "run.trajectories": 30}), pool)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b[:24]]
    assert len({tuple(p.suites) for p in a}) > 1


def test_run_keeps_verified_trajectories_and_records_discards(tmp_path: Path) -> None:
    summary = run(small_settings(), tmp_path / "r")
    assert summary.kept + summary.discarded == 24 and summary.errors == 0
    assert summary.kept > 0
    with ResultStore(tmp_path / "r" / "results.sqlite") as store:
        kept = list(store.trajectories("kept"))
        for t in kept:
            assert t.turns and all(turn.steps for turn in t.turns)
            assert all(o.ok for turn in t.turns for s in turn.steps for o in s.observations)
            assert all(turn.query.text and turn.summary for turn in t.turns)
        for t in store.trajectories("discarded"):
            assert t.discard_stage and t.discard_reason
        assert store.usage_by_role(), "token usage is recorded per role"
    assert (tmp_path / "r" / "graph.json").exists() and (tmp_path / "r" / "graph.final.json").exists()


def test_each_k_max_route_is_reached(tmp_path: Path) -> None:
    settings = small_settings(
        **{
            "agents.reasoner": {
                "impl": "tests.pipeline_agents:ScheduledReasoner",
                "options": {"schedule": [1, 2, 3, 0]},
            },
            "sampling.multi_turn_share": 0.0,
            "sampling.calls_per_trace": {"min": 4, "max": 5},
            "run.trajectories": 16,
        }
    )
    run(settings, tmp_path / "r")
    right_at: set[int] = set()
    with ResultStore(tmp_path / "r" / "results.sqlite") as store:
        for t in store.trajectories(None):
            for turn in t.turns:
                for step in turn.steps:
                    right_at.add(len(step.attempts))
                    assert step.attempts[-1].verdict and step.attempts[-1].verdict.correct
                    for wrong in step.attempts[:-1]:
                        assert wrong.verdict and not wrong.verdict.correct
                        assert wrong.feedback is not None, "every wrong attempt below K_max gets feedback"
        exhausted = [
            t for t in store.trajectories("discarded") if t.discard_reason == "reasoner:k_max_exhausted"
        ]
    assert {1, 2, 3} <= right_at
    assert exhausted, "a step that is never right is discarded at K_max"
    for t in exhausted:
        assert t.failed_step is not None and len(t.failed_step.attempts) == 3


def test_concurrency_does_not_change_the_dataset(tmp_path: Path) -> None:
    run(small_settings(**{"run.concurrency": 1}), tmp_path / "c1")
    run(small_settings(**{"run.concurrency": 16}), tmp_path / "c16")
    assert dataset_hash(tmp_path / "c1") == dataset_hash(tmp_path / "c16")


def test_resume_after_an_exception_inside_a_node(tmp_path: Path) -> None:
    log = tmp_path / "tool_maker.log"
    markers = tmp_path / "markers"
    markers.mkdir()
    flaky = small_settings(
        **{
            "agents.tool_maker": {
                "impl": "tests.pipeline_agents:CountingToolMaker",
                "options": {"log": str(log)},
            },
            "agents.summarizer": {
                "impl": "tests.pipeline_agents:FlakySummarizer",
                "options": {"marker_dir": str(markers)},
            },
        }
    )
    first = run(flaky, tmp_path / "r")
    assert first.errors > 0, "the flaky summariser raised inside a node"
    calls_after_first = len(log.read_text().splitlines())
    # Each turn's summary raises once; a multi-turn item may need more than one resume.
    for _ in range(5):
        again = asyncio.run(Runner(flaky, tmp_path / "r").run())
        if again.errors == 0:
            break
    assert again.errors == 0
    assert again.kept + again.discarded == 24
    # Resuming re-ran only the failed node: the Tool Maker ran for no item a second time.
    reference_log = tmp_path / "reference.log"
    reference = small_settings(
        **{
            "agents.tool_maker": {
                "impl": "tests.pipeline_agents:CountingToolMaker",
                "options": {"log": str(reference_log)},
            }
        }
    )
    run(reference, tmp_path / "ref")
    assert len(log.read_text().splitlines()) == len(reference_log.read_text().splitlines())
    assert len(log.read_text().splitlines()) >= calls_after_first
    assert content_hash(tmp_path / "r") == content_hash(tmp_path / "ref")


def test_a_role_swapped_for_a_users_class_runs(tmp_path: Path) -> None:
    settings = small_settings(
        **{
            "agents.reasoner": {
                "impl": "tests.pipeline_agents:ScheduledReasoner",
                "options": {"schedule": [1]},
            },
            "run.trajectories": 6,
        }
    )
    summary = run(settings, tmp_path / "r")
    assert summary.kept > 0 and summary.errors == 0


def test_unknown_agent_class_is_one_clear_error(tmp_path: Path) -> None:
    from hardgen.config import ConfigError

    settings = small_settings(**{"agents.verifier": {"impl": "tests.nowhere:Nothing"}})
    with pytest.raises(ConfigError, match=r"tests\.nowhere"):
        run(settings, tmp_path / "r")
