"""``hardgen export --with-recovery``: a failed call with its real tool error, then the fix (never by
default)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hardgen.cli import app
from hardgen.export import ExportError, export_run
from hardgen.schema import CheckVerdict, HardQuery, ReasoningAttempt, Step, Trajectory
from hardgen.verify import verify_file
from tests.fixtures_trajectories import call, correct, fare_trajectory, write_run, wrong

FARE = [call("get_flight_fare", from_airport="RMS", to_airport="SBK")]
CITY_AS_AIRPORT = [call("get_flight_fare", from_airport="Rivermist", to_airport="SBK")]  # a real error
FIRST_COT = "The fare needs the two airports; I pass the departure city as it was given."
FIXED_COT = "The trip departs from Rivermist's airport RMS and arrives at SBK."


def _with_attempts(attempts: list[ReasoningAttempt], item: int = 0) -> Trajectory:
    """The fixture's fare trajectory, its last step solved after the given attempts."""
    t = fare_trajectory(item)
    turn = t.turns[0]
    last = turn.steps[-1].model_copy(update={"attempts": attempts, "cot": FIXED_COT})
    turn = turn.model_copy(update={"steps": [*turn.steps[:-1], last]})
    return t.model_copy(update={"turns": [turn], "id": f"{t.id}-{item}", "item": item})


def _failed(cot: str = FIRST_COT, calls: Any = None, k: int = 1) -> ReasoningAttempt:
    return wrong(cot, calls or CITY_AS_AIRPORT, k, "call:wrong_value", "Use the airport codes.")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_failed_call_is_shown_with_its_real_error_then_the_fix(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [_with_attempts([_failed(), correct(FIXED_COT, FARE, k=2)])])
    plain = export_run(run, "openai", tmp_path / "plain.jsonl")
    result = export_run(run, "openai", tmp_path / "rec.jsonl", with_recovery=True)
    (messages,) = [r["messages"] for r in _records(result.files[0])]
    (plain_messages,) = [r["messages"] for r in _records(plain.files[0])]
    assert not any("weight" in m for m in plain_messages), "never by default"
    assert len(messages) == len(plain_messages) + 2

    i = next(k for k, m in enumerate(messages) if m.get("weight") == 0)
    failed, error, fixed, answer = messages[i : i + 4]
    assert failed["role"] == "assistant" and failed["reasoning_content"] == FIRST_COT
    assert [json.loads(tc["function"]["arguments"]) for tc in failed["tool_calls"]] == [
        c.arguments for c in CITY_AS_AIRPORT
    ]
    # The environment's own error for that call, not a description of a verdict.
    assert error["role"] == "tool" and error["tool_call_id"] == failed["tool_calls"][0]["id"]
    assert json.loads(error["content"]) == {"error": "Unknown airport code 'Rivermist'."}
    # The fix reads the visible error, then reasons as the step did; nothing about a verifier or attempt.
    assert fixed["reasoning_content"].startswith(
        "`get_flight_fare` returned an error: Unknown airport code 'Rivermist'."
    )
    assert fixed["reasoning_content"].endswith(FIXED_COT)
    assert "weight" not in fixed and "attempt" not in fixed["reasoning_content"].lower()
    assert [json.loads(tc["function"]["arguments"]) for tc in fixed["tool_calls"]] == [FARE[0].arguments]
    assert answer["role"] == "tool" and json.loads(answer["content"])["fare"] == 147.67
    # The rest of the conversation is the plain export's.
    assert messages[:i] == plain_messages[:i] and messages[i + 4 :] == plain_messages[i + 2 :]

    # verify re-executes the failed call too: the error shown is the one the environment gives.
    report = verify_file(result.files[0])
    assert report.ok and (report.steps, report.calls) == (4, 6)
    meta = json.loads(_records(result.files[0])[0]["hardgen"])
    assert meta["recovered"] == 1
    tampered = result.files[0].read_text(encoding="utf-8").replace("Unknown airport code", "Unknown code")
    result.files[0].write_text(tampered, encoding="utf-8")
    assert any(m.location.endswith("get_flight_fare") for m in verify_file(result.files[0]).mismatches)


def test_only_loud_failures_with_reasoning_the_example_can_show(tmp_path: Path) -> None:
    silently_wrong = [call("get_flight_fare", from_airport="SBK", to_airport="RMS")]  # a valid fare
    half_failed = [call("get_zipcode", city="Rivermist"), *CITY_AS_AIRPORT]  # one call succeeds
    feedback_cot = "What was wrong in my previous attempt? The feedback says to use the codes."
    cases = [
        [_failed(calls=silently_wrong), correct(FIXED_COT, FARE, k=2)],
        [_failed(calls=half_failed), correct(FIXED_COT, FARE, k=2)],
        # a refined attempt's own reasoning answers feedback the example does not show
        [_failed(calls=silently_wrong), _failed(feedback_cot, k=2), correct(FIXED_COT, FARE, k=3)],
    ]
    refined = _failed(feedback_cot, k=2).model_copy(update={"final_cot": "The airports are known now."})
    shown = [_failed(calls=silently_wrong), refined, correct(FIXED_COT, FARE, k=3)]
    trajectories = [_with_attempts(a, item=n) for n, a in enumerate([*cases, shown])]
    run = write_run(tmp_path / "run", trajectories)
    records = _records(export_run(run, "openai", tmp_path / "o.jsonl", with_recovery=True).files[0])
    recovered = [json.loads(r["hardgen"])["recovered"] for r in records]
    assert recovered == [0, 0, 0, 1]
    failed = [m for m in records[3]["messages"] if m.get("weight") == 0]
    assert [m["reasoning_content"] for m in failed] == ["The airports are known now."]
    assert verify_file(tmp_path / "o.jsonl").ok


def test_a_call_where_none_was_due_is_not_shown_as_a_recovery(tmp_path: Path) -> None:
    # A missing_param turn: the destination is left out, so the right first answer asks for it. The
    # first attempt called anyway, and its call fails loudly on an unchanged state: on a call step it
    # would be shown; on a no-call step it is not (no later call fixes it: the answer was to make none).
    t = _with_attempts([_failed(), correct(FIXED_COT, FARE, k=2)])
    turn = t.turns[0]
    asked = ReasoningAttempt(
        attempt=2,
        cot="The request does not say where the trip ends.",
        reply="Where would you fly to?",
        verdict=CheckVerdict(correct=True),
    )
    no_call = Step(index=0, calls=[], observations=[], cot=asked.cot, attempts=[_failed(), asked])
    no_call = no_call.model_copy(update={"reply": asked.reply})
    steps = [no_call, *(s.model_copy(update={"index": s.index + 1}) for s in turn.steps)]
    turn = turn.model_copy(
        update={
            "kind": "missing_param",
            "query": HardQuery(text="What would an economy seat from Rivermist cost me?"),
            "followup": "To Stonebrook.",
            "withheld_param": "to_city",
            "withheld_value": "Stonebrook",
            "steps": steps,
        }
    )
    run = write_run(tmp_path / "run", [t.model_copy(update={"turns": [turn]})])
    (record,) = _records(export_run(run, "openai", tmp_path / "o.jsonl", with_recovery=True).files[0])
    meta = json.loads(record["hardgen"])
    assert meta["recovered"] == 1, "only the call step's failed call is shown"
    messages = record["messages"]
    assert [m["role"] for m in messages[:3]] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "Where would you fly to?" and not messages[1].get("tool_calls")
    weighted = [i for i, m in enumerate(messages) if m.get("weight") == 0]
    assert len(weighted) == 1 and weighted[0] > 2
    assert verify_file(tmp_path / "o.jsonl").ok


def test_verl_sft_gives_the_failed_call_no_loss_weight(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [_with_attempts([_failed(), correct(FIXED_COT, FARE, k=2)])])
    result = export_run(run, "verl-sft", tmp_path / "sft", with_recovery=True)
    parquet, module_path = result.files
    spec = importlib.util.spec_from_file_location("hardgen_sft_dataset", module_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (row,) = pq.read_table(parquet).to_pylist()
    assert [m["weight"] for m in row["messages"] if m["weight"] is not None] == [0]
    messages, _ = module.chat_inputs(row["messages"], row["tools"])
    assert [m.get("weight") for m in messages if m["role"] == "assistant"] == [None, None, 0, None, None]
    assert verify_file(parquet).ok


def test_formats_that_would_train_on_the_mistake_refuse(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [_with_attempts([_failed(), correct(FIXED_COT, FARE, k=2)])])
    for fmt, out in [("llamafactory", "lf"), ("verl", "v.parquet"), ("hf", "hf")]:
        with pytest.raises(ExportError, match="--with-recovery needs a format"):
            export_run(run, fmt, tmp_path / out, with_recovery=True)
        assert not (tmp_path / out).exists()
    res = CliRunner().invoke(
        app, ["export", str(run), "--format", "openai", "-o", str(tmp_path / "o.jsonl"), "--with-recovery"]
    )
    assert res.exit_code == 0, res.output
    assert '"weight": 0' in (tmp_path / "o.jsonl").read_text(encoding="utf-8")
    res = CliRunner().invoke(
        app, ["export", str(run), "--format", "llamafactory", "-o", str(tmp_path / "lf"), "--with-recovery"]
    )
    assert res.exit_code != 0 and "--with-recovery needs a format" in str(res.exception)  # one message
