"""``hardgen stats``: the dataset statistics of a run, value by value on known trajectories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hardgen.cli import app
from hardgen.export import ExportError
from hardgen.schema import HardQuery, VerifierFeedback
from hardgen.stats import compute_stats
from hardgen.store import ResultStore
from tests.fixtures_trajectories import all_trajectories, booking_trajectory, fare_trajectory, write_run

REQUIRED_KEYS = {
    "trajectories",
    "calls_per_trajectory",
    "share_3plus_calls",
    "multi_turn_share",
    "domains",
    "funnel",
    "correct_at_k",
    "implicit_bridging_rate",
    "leaks",
    "tokens",
    "distinct_tool_chains",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "run")


def test_figure_3_statistics(run_dir: Path) -> None:
    stats = compute_stats(run_dir)
    assert set(stats) >= REQUIRED_KEYS
    # Kept: fare (1 turn, 5 calls), booking (2 turns, 8 calls), currency (1 turn, 1 call).
    assert (stats["trajectories"], stats["items"], stats["discarded"]) == (3, 5, 2)
    assert stats["calls_per_trajectory"] == {
        "mean": round(14 / 3, 4),
        "min": 1,
        "max": 8,
        "histogram": {"1": 1, "5": 1, "8": 1},
    }
    assert stats["share_3plus_calls"] == pytest.approx(2 / 3, abs=1e-6)
    assert stats["multi_turn_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert stats["domains"] == {"travel": 1.0}
    assert stats["distinct_tool_chains"] == 3
    # 4 of the 9 steps are parallel: two in the fare turn, two in the booking turn.
    assert (stats["steps"], stats["parallel_step_share"]) == (9, pytest.approx(4 / 9, abs=1e-6))


def test_correct_at_k_counts_every_attempted_step(run_dir: Path) -> None:
    # 10 steps with attempts: 7 right at once, 2 at attempt 2, 1 never (K_max exhausted).
    stats = compute_stats(run_dir)
    assert stats["correct_at_k"] == {"1": 0.7, "2": 0.9, "3": 0.9}
    assert stats["attempts_per_step"] == pytest.approx(14 / 10)


def test_funnel_from_the_stored_items(run_dir: Path) -> None:
    funnel = compute_stats(run_dir)["funnel"]
    assert isinstance(funnel, dict)
    assert funnel["sample"] == {"in": 5, "out": 5, "reasons": {}}
    assert funnel["query"] == {"in": 5, "out": 4, "reasons": {"guard:query_leak": 1}}
    assert funnel["reasoner"] == {"in": 4, "out": 3, "reasons": {"reasoner:k_max_exhausted": 1}}
    assert list(funnel)[-1] == "summarize" and funnel["summarize"]["out"] == 3


def test_a_recorded_funnel_is_used_as_is(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    recorded = {"sample": {"in": 10, "out": 9, "reasons": {"sample:no_executable_trace": 1}}}
    with ResultStore(run / "results.sqlite") as store:
        store.set_info("funnel", recorded)
    assert compute_stats(run)["funnel"] == recorded


def test_implicit_bridging_rate(run_dir: Path) -> None:
    # Bridging turns: the fare turn (zip codes feed the airport lookup) and the booking turn (airport
    # codes); not the login turn (no value crosses) nor the currency turn (one call).
    assert compute_stats(run_dir)["implicit_bridging_rate"] == 0.5


def test_tokens_by_role(run_dir: Path) -> None:
    tokens = compute_stats(run_dir)["tokens"]
    assert isinstance(tokens, dict)
    assert tokens["reasoner"] == {"prompt_tokens": 900 * 4, "completion_tokens": 210 * 4, "calls": 12}
    assert tokens["total"]["prompt_tokens"] == sum(
        v["prompt_tokens"] for k, v in tokens.items() if k != "total"
    )


def test_no_leaks_in_clean_data(run_dir: Path) -> None:
    leaks = compute_stats(run_dir)["leaks"]
    assert leaks == {
        "queries_checked": 4,
        "queries_naming_tool": 0,
        "queries_with_intermediate_value": 0,
        "hints_checked": 2,
        "hints_with_ground_truth_value": 0,
        "examples": [],
    }


def test_leaks_are_found(tmp_path: Path) -> None:
    fare = fare_trajectory(0)
    turn = fare.turns[0]
    named = turn.model_copy(
        update={"query": HardQuery(text="Use get_zipcode for Rivermist and Stonebrook, then quote.")}
    )
    step = turn.steps[2]
    leaky_hint = VerifierFeedback(
        error_type="call:wrong_value",
        error_location="get_flight_fare",
        root_cause="Swapped airports.",
        corrective_hint="Depart from RMS.",
    )
    attempts = [step.attempts[0].model_copy(update={"feedback": leaky_hint}), step.attempts[1]]
    named.steps[2] = step.model_copy(update={"attempts": attempts})
    booking = booking_trajectory(1)
    second = booking.turns[1]
    stated = second.model_copy(
        update={"query": HardQuery(text=second.query.text + " Fly from NBG, that's the Northbridge airport.")}
    )
    run = write_run(
        tmp_path / "run",
        [
            fare.model_copy(update={"turns": [named]}),
            booking.model_copy(update={"turns": [booking.turns[0], stated]}),
        ],
    )
    leaks = compute_stats(run)["leaks"]
    assert isinstance(leaks, dict)
    assert leaks["queries_naming_tool"] == 1
    assert leaks["queries_with_intermediate_value"] == 1
    assert leaks["hints_with_ground_truth_value"] == 1
    kinds = {e["kind"] for e in leaks["examples"]}
    assert kinds == {"query_names_tool", "query_states_intermediate_value", "hint_states_ground_truth"}


def test_empty_run(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [t for t in all_trajectories() if t.status == "discarded"])
    stats = compute_stats(run)
    assert stats["trajectories"] == 0
    assert stats["calls_per_trajectory"] == {"mean": 0.0, "min": 0, "max": 0, "histogram": {}}
    assert stats["multi_turn_share"] == 0.0 and stats["implicit_bridging_rate"] == 0.0
    assert stats["correct_at_k"] == {"1": 0.0, "2": 0.0, "3": 0.0}


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not a run directory"):
        compute_stats(tmp_path)


def test_cli_json_and_table(run_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["stats", str(run_dir), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data) >= REQUIRED_KEYS
    assert data["trajectories"] == 3
    table = runner.invoke(app, ["stats", str(run_dir)])
    assert table.exit_code == 0
    assert "multi-turn" in table.output and "33.3%" in table.output
