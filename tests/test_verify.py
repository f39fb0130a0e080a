"""``hardgen verify``: exports replay exactly, and any tampering is found and named."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hardgen.cli import app
from hardgen.config import parse_settings
from hardgen.export import FORMATS, ExportError, export_run
from hardgen.verify import (
    ENVIRONMENT_PROBLEM,
    FORMAT_PROBLEM,
    OBSERVATION_MISMATCH,
    STATE_MISMATCH,
    build_environment,
    verify_file,
)
from tests.fixtures_trajectories import OUTPUTS, SUITES, write_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "run")


def _export(run_dir: Path, fmt: str, tmp_path: Path) -> Path:
    return export_run(run_dir, fmt, tmp_path / OUTPUTS[fmt]).files[0]


def _rewrite_jsonl(path: Path, edit: Any, line: int = 0) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line])
    edit(record)
    lines[line] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_verifies_completely(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    report = verify_file(_export(run_dir, fmt, tmp_path))
    assert report.format == fmt
    assert (report.trajectories, report.steps, report.calls) == (3, 9, 14)
    assert report.mismatches == [] and report.ok


def test_a_changed_observation_is_found(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "llamafactory", tmp_path)

    def edit(record: dict[str, Any]) -> None:
        observation = next(m for m in record["messages"] if m["role"] == "observation")
        observation["content"] = observation["content"].replace("83214", "83215")

    _rewrite_jsonl(path, edit)
    report = verify_file(path)
    assert [(m.kind, m.location) for m in report.mismatches] == [(OBSERVATION_MISMATCH, "turn 0 step 0")]
    assert "83215" in report.mismatches[0].expected and "83214" in report.mismatches[0].got
    assert report.failed_trajectories == 1 and not report.ok


def test_a_changed_call_is_found(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "openai", tmp_path)

    def edit(record: dict[str, Any]) -> None:
        fare = [m for m in record["messages"] if m.get("tool_calls")][2]["tool_calls"][0]["function"]
        fare["arguments"] = json.dumps({"from_airport": "RMS", "to_airport": "SBK", "travel_class": "first"})

    _rewrite_jsonl(path, edit)
    kinds = {(m.kind, m.location) for m in verify_file(path).mismatches}
    assert kinds == {(OBSERVATION_MISMATCH, "turn 0 step 2 get_flight_fare")}


def test_a_different_final_state_is_found(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "openai", tmp_path)

    def edit(record: dict[str, Any]) -> None:
        meta = json.loads(record["hardgen"])
        meta["final_state_hash"] = "0" * 64
        record["hardgen"] = json.dumps(meta)

    _rewrite_jsonl(path, edit, line=1)
    mismatches = verify_file(path).mismatches
    assert [(m.trajectory_id, m.kind) for m in mismatches] == [("fixture-run/1", STATE_MISMATCH)]


def test_a_missing_tool_result_is_a_format_problem(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "openai", tmp_path)

    def edit(record: dict[str, Any]) -> None:
        first_tool = next(i for i, m in enumerate(record["messages"]) if m["role"] == "tool")
        del record["messages"][first_tool]

    _rewrite_jsonl(path, edit)
    kinds = [m.kind for m in verify_file(path).mismatches]
    assert FORMAT_PROBLEM in kinds and OBSERVATION_MISMATCH in kinds


def test_a_broken_initial_state_is_reported_not_raised(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "openai", tmp_path)

    def edit(record: dict[str, Any]) -> None:
        meta = json.loads(record["hardgen"])
        meta["initial_state"] = {"travel": {"state": {"cities": {}}}}
        record["hardgen"] = json.dumps(meta)

    _rewrite_jsonl(path, edit)
    report = verify_file(path)
    assert [(m.trajectory_id, m.kind, m.location) for m in report.mismatches] == [
        ("fixture-run/0", ENVIRONMENT_PROBLEM, "restore")
    ]
    assert report.trajectories == 3


def test_verl_rows_that_disagree_are_found(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "verl", tmp_path)
    table = pq.read_table(path)
    rows = table.to_pylist()
    # The third row's prompt shows a tool result for the second row's calls: change it.
    rows[2]["prompt"][-1]["content"] = rows[2]["prompt"][-1]["content"].replace("SBK", "SPN")
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    kinds = {m.kind for m in verify_file(path).mismatches}
    assert kinds == {OBSERVATION_MISMATCH, FORMAT_PROBLEM}


def test_not_an_export_is_one_clear_error(tmp_path: Path) -> None:
    stray = tmp_path / "notes.jsonl"
    stray.write_text('{"text": "hello"}\n')
    with pytest.raises(ExportError, match="not a hardgen export"):
        verify_file(stray)
    res = CliRunner().invoke(app, ["verify", str(tmp_path / "missing.jsonl")])
    assert res.exit_code != 0


def test_cli_exit_codes(run_dir: Path, tmp_path: Path) -> None:
    path = _export(run_dir, "verl", tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "3 of 3 trajectories verified (100.0%)" in ok.output
    as_json = runner.invoke(app, ["verify", str(path), "--json"])
    assert json.loads(as_json.output)["ok"] is True

    lf = _export(run_dir, "llamafactory", tmp_path)
    _rewrite_jsonl(lf, lambda r: r["messages"][2].update(content='{"city": "Nowhere"}'))
    bad = runner.invoke(app, ["verify", str(lf)])
    assert bad.exit_code == 1
    assert OBSERVATION_MISMATCH in bad.output and "2 of 3 trajectories verified" in bad.output


def test_build_environment_uses_the_recorded_options() -> None:
    env = build_environment(SUITES, [], time_limit_s=2.5, max_output_bytes=1000)
    assert env.time_limit_s == 2.5 and env.max_output_bytes == 1000
    assert "get_zipcode" in env.tool_names


# A run of the real pipeline (offline agents) whose trajectories include a tool that lists a dict-valued
# part of the state (travel's list_airports): its output order follows the state's key order.
def test_a_pipeline_run_exports_and_verifies_completely(tmp_path: Path) -> None:
    from hardgen.runner import Runner

    settings = parse_settings(
        {
            "run": {"seed": 3, "trajectories": 8, "concurrency": 4},
            "environment": {"suites": ["travel", "banking"], "suites_per_item": 1},
            "self_eval": {"enabled": False},
            "agents": {"reasoner": {"impl": "offline", "options": {"error_rate": 0.2}}},
        }
    )
    summary = asyncio.run(Runner(settings, tmp_path / "run").run())
    assert summary.kept > 0
    for fmt in FORMATS:
        report = verify_file(export_run(tmp_path / "run", fmt, tmp_path / OUTPUTS[fmt]).files[0])
        assert report.trajectories == summary.kept
        assert report.mismatches == [], f"{fmt}: " + "; ".join(m.describe() for m in report.mismatches)
