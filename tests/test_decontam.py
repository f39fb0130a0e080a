"""Decontamination: BFCL's test questions and initial configs stay out of generated data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hardgen.config import BackendConfig, parse_settings
from hardgen.decontam import (
    Question,
    QuestionIndex,
    decontaminating,
    initial_config_problems,
    query_problems_for,
)

QUESTIONS = [
    Question("q1", "Move 'final_report.pdf' within document directory to 'temp' directory in document."),
    Question("q2", "What is the weather like in Boston today, in Celsius?"),
    Question("q3", "Book a business class flight from SFO to LAX on the 5th of May using card 1234."),
]


def needs_bfcl() -> None:
    pytest.importorskip(
        "bfcl_eval", reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval mpmath"
    )


def test_near_duplicates_are_found_and_paraphrases_are_not() -> None:
    index = QuestionIndex(QUESTIONS)
    exact = index.nearest(
        "Move 'final_report.pdf' within document directory to 'temp' directory in document."
    )
    assert exact is not None and exact[0].id == "q1" and exact[1] == 1.0
    edited = index.nearest(
        "Please move 'final_report.pdf' within the document directory to the 'temp' directory."
    )
    assert edited is not None and edited[0].id == "q1" and edited[1] >= 0.8
    paraphrase = index.nearest(
        "Put the final report into a temp folder inside documents, creating it if needed."
    )
    assert paraphrase is None or paraphrase[1] < 0.8
    found = index.near_duplicates(
        [
            ("a", "what is the weather like in boston today in celsius"),
            ("b", "Cancel my dentist appointment."),
        ]
    )
    assert [(f.where, f.question_id) for f in found] == [("a", "q2")]


def test_decontamination_is_on_by_default_for_bfcl_sources_only() -> None:
    assert decontaminating(BackendConfig(kind="bfcl"))
    assert not decontaminating(BackendConfig(kind="bfcl", options={"decontaminate": False}))
    assert decontaminating(BackendConfig(kind="catalog", options={"bfcl_data": True}))
    assert not decontaminating(BackendConfig(kind="catalog", options={"sources": ["tools.json"]}))
    assert not decontaminating(BackendConfig(kind="mcp", options={"command": "x"}))


def test_the_query_guard_rejects_a_bfcl_question_when_decontaminating() -> None:
    needs_bfcl()
    from hardgen.decontam import bfcl_index

    question = next(
        q for q in bfcl_index().questions if q.id.startswith("multi_turn_base_") and len(q.text) > 60
    )
    on = parse_settings({"environment": {"suites": [], "backends": [{"kind": "bfcl", "name": "b"}]}})
    off = parse_settings(
        {
            "environment": {
                "suites": [],
                "backends": [{"kind": "bfcl", "name": "b", "options": {"decontaminate": False}}],
            }
        }
    )
    problems = query_problems_for(on, question.text + " Thanks!")
    assert len(problems) == 1 and question.id in problems[0]
    assert query_problems_for(on, "Archive the invoices of the harbour mural and tell the client.") == []
    assert query_problems_for(off, question.text) == []


def test_bfcl_initial_configs_are_refused_and_ours_pass() -> None:
    needs_bfcl()
    from hardgen.environment.backends.bfcl import bfcl_test_config, hardgen_scenarios

    assert initial_config_problems(hardgen_scenarios()) == []
    theirs = bfcl_test_config("multi_turn_base_0")
    problems = initial_config_problems(theirs)
    assert problems and all("multi_turn_base_" in p for p in problems)
    tweaked = json.loads(json.dumps(theirs))
    tweaked["TwitterAPI"]["password"] = "changed"  # most of its text is still BFCL's
    assert any("reuses" in p for p in initial_config_problems({"TwitterAPI": tweaked["TwitterAPI"]}))


def test_the_decontam_command_reports_near_duplicates(tmp_path: Path) -> None:
    needs_bfcl()
    from hardgen.cli import app
    from hardgen.decontam import bfcl_index

    question = bfcl_index().questions[0]
    out = tmp_path / "data.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": question.text}, {"role": "assistant", "content": "ok"}]},
        {
            "messages": [
                {"role": "user", "content": "Rename the harbour mural brief and share it with Tobias."}
            ]
        },
    ]
    out.write_text("\n".join(json.dumps(r) for r in rows))
    result = CliRunner().invoke(app, ["decontam", str(out), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["texts"] == 2 and [d["bfcl_id"] for d in report["near_duplicates"]] == [question.id]
    clean = tmp_path / "clean.jsonl"
    clean.write_text(json.dumps(rows[1]))
    assert CliRunner().invoke(app, ["decontam", str(clean)]).exit_code == 0
    missing = CliRunner().invoke(app, ["decontam", str(tmp_path / "nope")])
    assert missing.exit_code != 0
