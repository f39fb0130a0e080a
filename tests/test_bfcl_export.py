"""``hardgen export --format bfcl``: BFCL multi-turn entries that BFCL's own loader and checker accept."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "bfcl_eval",
    reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval mpmath (hardgen bfcl install)",
)

from hardgen.config import parse_settings
from hardgen.environment.backends.bfcl import ensure_project_root, isolated_numerics
from hardgen.export import ExportError, export_run
from hardgen.export.common import RunSource
from hardgen.runner import Runner
from hardgen.schema import Trajectory

_MODELS = itertools.count()


def _replay_helpers() -> Any:
    path = Path(__file__).resolve().parents[1] / "scripts" / "bfcl_replay.py"
    spec = importlib.util.spec_from_file_location("bfcl_replay", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bfcl_replay", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bfcl_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # All eight classes: some draw random ids (travel, trading, messaging), the vehicle keeps private
    # state, the file system a tree, so the initial configs cover every kind of state.
    classes = ["MessageAPI", "TwitterAPI", "GorillaFileSystem", "TravelAPI", "TicketAPI", "TradingBot"]
    classes += ["VehicleControlAPI", "MathAPI"]
    backends = [
        {"kind": "bfcl", "name": f"bfcl_{c}", "options": {"classes": [c], "descriptions": "short"}}
        for c in classes
    ]
    settings = parse_settings(
        {
            "run": {"seed": 2, "trajectories": 10, "concurrency": 4},
            "environment": {"suites": [], "suites_per_item": 2, "backends": backends},
            "sampling": {"calls_per_trace": {"min": 2, "max": 4}},
            "self_eval": {"enabled": False},
        }
    )
    run_dir = tmp_path_factory.mktemp("bfcl") / "run"
    summary = asyncio.run(Runner(settings, run_dir).run())
    assert summary.kept >= 4
    return run_dir


def _load(folder: Path) -> tuple[list[dict[str, Any]], dict[str, list[list[str]]]]:
    ensure_project_root()
    from bfcl_eval.utils import load_file, populate_test_cases_with_predefined_functions

    (questions,) = folder.glob("BFCL_v4_multi_turn_*.json")
    entries = populate_test_cases_with_predefined_functions(load_file(questions, use_lock=False))
    answers = load_file(folder / "possible_answer" / questions.name, use_lock=False)
    return entries, {a["id"]: a["ground_truth"] for a in answers}


def test_bfcls_checker_accepts_the_exported_ground_truth(bfcl_run: Path, tmp_path: Path) -> None:
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    result = export_run(bfcl_run, "bfcl", tmp_path / "bfcl", name="demo")
    kept = RunSource.open(bfcl_run).count
    assert result.records == kept and [f.name for f in result.files] == ["BFCL_v4_multi_turn_demo.json"] * 2
    entries, answers = _load(tmp_path / "bfcl")
    assert len(entries) == kept
    for entry in entries:
        assert set(entry) >= {"id", "question", "initial_config", "path", "involved_classes", "function"}
        assert entry["id"].startswith("multi_turn_demo_")
        truth = answers[entry["id"]]
        assert len(truth) == len(entry["question"]) and all(truth)
        category = entry["id"].rsplit("_", 1)[0]
        model = f"hardgen_export_{next(_MODELS)}"
        with isolated_numerics():
            verdict = multi_turn_checker([[turn] for turn in truth], truth, entry, category, model)
        assert verdict == {"valid": True}, (entry["id"], verdict)
        # A model that does nothing in the last turn fails it: the entry is a real test.
        idle = [[turn] for turn in truth[:-1]] + [[]]
        with isolated_numerics():
            failed = multi_turn_checker(idle, truth, entry, category, f"{model}_idle")
        assert failed["valid"] is False


def test_bfcl_runs_the_exported_ground_truth_as_hardgen_did(bfcl_run: Path, tmp_path: Path) -> None:
    """The written initial config (with its random seeds) makes BFCL observe what hardgen observed."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    replay = _replay_helpers()
    export_run(bfcl_run, "bfcl", tmp_path / "bfcl", name="demo")
    entries, answers = _load(tmp_path / "bfcl")
    trajectories: dict[int, Trajectory] = {t.item: t for t in RunSource.open(bfcl_run).trajectories()}
    drew_ids = 0
    for entry in entries:
        trajectory = trajectories[int(entry["id"].rsplit("_", 1)[1])]
        model = f"hardgen_export_exec_{next(_MODELS)}"
        for turn, calls in zip(trajectory.turns, answers[entry["id"]], strict=True):
            with isolated_numerics():
                printed, _ = execute_multi_turn_func_call(
                    calls, entry["initial_config"], entry["involved_classes"], model, entry["id"]
                )
            observed = [obs for step in turn.steps for obs in step.observations]
            assert len(printed) == len(observed)
            for shown, obs in zip(printed, observed, strict=True):
                assert replay.same_observation(shown, obs), (entry["id"], shown, obs)
        drew_ids += any("random_seed" in config for config in entry["initial_config"].values())
    assert drew_ids  # some entries depend on the generator's seed being carried over


def test_runs_without_bfcl_classes_are_refused_with_one_message(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "run": {"seed": 1, "trajectories": 2, "concurrency": 2},
            "environment": {"suites": ["travel"], "suites_per_item": 1},
            "self_eval": {"enabled": False},
        }
    )
    asyncio.run(Runner(settings, tmp_path / "run").run())
    with pytest.raises(ExportError, match="only trajectories on kind: bfcl backends") as caught:
        export_run(tmp_path / "run", "bfcl", tmp_path / "out")
    assert "travel" in str(caught.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ExportError, match="writes a folder"):
        (tmp_path / "file").write_text("x")
        export_run(tmp_path / "run", "bfcl", tmp_path / "file")


def test_the_export_command_writes_the_folder(bfcl_run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hardgen.cli import app

    result = CliRunner().invoke(app, ["export", str(bfcl_run), "--format", "bfcl", "-o", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "bfcl records" in result.output
    lines = (tmp_path / "b" / "possible_answer").glob("*.json")
    assert all(json.loads(line)["ground_truth"] for f in lines for line in f.read_text().splitlines())


# ------------------------------------------------------------------------------------ turn kinds


@pytest.fixture(scope="module")
def bfcl_kinds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One class a backend: each is its own domain, so an irrelevance turn can come from another one.
    classes = ["MessageAPI", "TwitterAPI", "GorillaFileSystem", "TravelAPI", "TicketAPI", "TradingBot"]
    backends = [
        {"kind": "bfcl", "name": f"bfcl_{c}", "options": {"classes": [c], "descriptions": "short"}}
        for c in classes
    ]
    kinds = {"base": 0.2, "missing_param": 0.3, "missing_func": 0.3, "irrelevance": 0.2}
    settings = parse_settings(
        {
            "run": {"seed": 4, "trajectories": 12, "concurrency": 4},
            "environment": {"suites": [], "suites_per_item": 2, "backends": backends},
            "sampling": {
                "calls_per_trace": {"min": 1, "max": 3},
                "multi_turn_share": 0.7,
                "turns": {"min": 2, "max": 2},
                "turn_kinds": kinds,
            },
            "self_eval": {"enabled": False},
        }
    )
    run_dir = tmp_path_factory.mktemp("bfcl-kinds") / "run"
    asyncio.run(Runner(settings, run_dir).run())
    return run_dir


def test_a_turn_kind_run_exports_in_bfcls_multi_turn_layout(bfcl_kinds_run: Path, tmp_path: Path) -> None:
    """Question turns, involved classes, initial config, ground truth and ``missed_function`` as BFCL's
    own loader reads them; BFCL's multi-turn checker accepts the ground truth as an answer."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    from hardgen.calls import render_call

    export_run(bfcl_kinds_run, "bfcl", tmp_path / "bfcl", name="kinds")
    entries, answers = _load(tmp_path / "bfcl")  # BFCL's loader moves a missed function's doc out
    trajectories = {t.item: t for t in RunSource.open(bfcl_kinds_run).trajectories()}
    assert len(entries) == len(trajectories) > 0
    seen: set[str] = set()
    for entry in entries:
        t = trajectories[int(entry["id"].rsplit("_", 1)[1])]
        truth, question = answers[entry["id"]], entry["question"]
        assert len(truth) == len(question)
        assert entry["involved_classes"] == list(entry["initial_config"])
        shown = {f["name"] for f in entry["function"]}
        i = 0
        for turn in t.turns:
            seen.add(turn.kind)
            assert question[i] == [{"role": "user", "content": turn.query.text}]
            calls = [render_call(c) for s in turn.steps for c in s.calls]
            if turn.kind != "base" and turn.steps[0].no_call:
                assert truth[i] == [], "the no-call answer is the turn's ground truth"
                i += 1
                if turn.kind == "irrelevance":
                    continue
                if turn.kind == "missing_func":  # an empty turn at which BFCL adds the function
                    assert question[i] == []
                    assert [doc["name"] for doc in entry["missed_function"][str(i)]] == turn.hidden_tools
                    assert not shown & set(turn.hidden_tools), "the missed function is held out"
                else:  # missing_param: the user's follow-up gives the value
                    assert question[i] == [{"role": "user", "content": turn.followup}]
            assert truth[i] == calls and calls
            i += 1
        assert i == len(truth)
        if not any(turn.kind == "missing_func" for turn in t.turns):
            assert "missed_function" not in entry
        category = entry["id"].rsplit("_", 1)[0]
        model = f"hardgen_kinds_{next(_MODELS)}"
        answer = [[turn] if turn else [] for turn in truth]
        with isolated_numerics():
            assert multi_turn_checker(answer, truth, entry, category, model) == {"valid": True}, entry["id"]
    assert {"missing_param", "missing_func", "irrelevance"} <= seen, seen
