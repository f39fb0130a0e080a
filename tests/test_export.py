"""Exports, loaded back by the libraries their consumers use and checked field by field.

LLaMA-Factory and Verl load their data with ``datasets`` (JSON and parquet builders), so the files are
read back the same way; the LLaMA-Factory record rules (role alternation, function_call JSON after the
thought, observations) are the ones its ShareGPT converter enforces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hardgen.calls import CallStyle, render_response
from hardgen.cli import app
from hardgen.export import ExportError, detect_format, export_run
from hardgen.export.common import PARALLEL_OBSERVATION_SEPARATOR, observation_text, system_prompt, tool_dicts
from hardgen.reward import compute_score
from hardgen.schema import ToolCall, ToolSpec, Trajectory
from hardgen.store import ResultStore
from tests.fixtures_trajectories import RUN_ID, all_trajectories, call, write_run

datasets = pytest.importorskip("datasets")

# LLaMA-Factory's default thought words (its templates register them unless they set others).
THOUGHT = re.compile(r"<think>\n(.*?)\n</think>\n\n", re.DOTALL)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def kept(run_dir: Path) -> list[Trajectory]:
    with ResultStore(run_dir / "results.sqlite") as store:
        return list(store.trajectories("kept"))


def _load_json(path: Path, cache: Path) -> Any:
    datasets.disable_progress_bars()
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def _args(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [{"name": c.name, "arguments": c.arguments} for c in calls]


# --------------------------------------------------------------------------------- llamafactory


def test_llamafactory_records_match_trajectories(
    run_dir: Path, kept: list[Trajectory], tmp_path: Path
) -> None:
    result = export_run(run_dir, "llamafactory", tmp_path / "lf")
    data_file, info_file = result.files
    info = json.loads(info_file.read_text())
    entry = info[f"hardgen_{RUN_ID}"]
    assert entry["file_name"] == data_file.name
    assert entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "messages", "tools": "tools"}
    tags = entry["tags"]
    assert (tags["role_tag"], tags["content_tag"]) == ("role", "content")
    assert (tags["function_tag"], tags["observation_tag"]) == ("function_call", "observation")

    rows = _load_json(data_file, tmp_path / "cache")
    assert len(rows) == len(kept) == result.records == 3
    for row, t in zip(rows, kept, strict=True):
        messages = row["messages"]
        # LLaMA-Factory's ShareGPT rule: user/observation at even positions, assistant/function_call at
        # odd ones, an even count; otherwise it drops the example.
        for i, m in enumerate(messages):
            allowed = ("user", "observation") if i % 2 == 0 else ("assistant", "function_call")
            assert m["role"] in allowed, (t.id, i, m["role"])
        assert len(messages) % 2 == 0
        assert [m["content"] for m in messages if m["role"] == "user"] == [
            turn.query.text for turn in t.turns
        ]
        assert [m["content"] for m in messages if m["role"] == "assistant"] == [
            turn.summary for turn in t.turns
        ]
        steps = [s for turn in t.turns for s in turn.steps]
        function_calls = [m["content"] for m in messages if m["role"] == "function_call"]
        observations = [m["content"] for m in messages if m["role"] == "observation"]
        assert len(function_calls) == len(observations) == len(steps)
        for content, obs_text, step in zip(function_calls, observations, steps, strict=True):
            thought = THOUGHT.match(content)
            assert thought is not None and thought.group(1) == step.cot, "the CoT must stay with the call"
            calls = json.loads(content[thought.end() :])
            assert calls == _args(step.calls)  # a parallel step keeps all its calls, in one turn
            assert obs_text.split(PARALLEL_OBSERVATION_SEPARATOR) == [
                observation_text(o) for o in step.observations
            ]
        assert json.loads(row["tools"]) == tool_dicts(t.tools)
        meta = json.loads(row["hardgen"])
        assert meta["trajectory_id"] == t.id
        assert meta["initial_state"] == t.initial_state
        assert meta["final_state_hash"] == t.final_state_hash
    parallel = [
        json.loads(THOUGHT.sub("", m["content"])) for m in rows[0]["messages"] if m["role"] == "function_call"
    ]
    assert [len(c) for c in parallel] == [2, 2, 1]


def test_llamafactory_keeps_other_dataset_info_entries(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "dataset_info.json").write_text(
        json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}})
    )
    export_run(run_dir, "llamafactory", folder / "mine.jsonl", name="mine")
    info = json.loads((folder / "dataset_info.json").read_text())
    assert set(info) == {"alpaca_en_demo", "mine"}
    assert info["mine"]["file_name"] == "mine.jsonl"


def test_llamafactory_refuses_a_broken_dataset_info(run_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "dataset_info.json").write_text("{not json")
    with pytest.raises(ExportError, match=r"dataset_info\.json"):
        export_run(run_dir, "llamafactory", tmp_path)


# ------------------------------------------------------------------------------------------- openai


def test_openai_messages_match_trajectories(run_dir: Path, kept: list[Trajectory], tmp_path: Path) -> None:
    result = export_run(run_dir, "openai", tmp_path / "out.jsonl")
    rows = _load_json(result.files[0], tmp_path / "cache")
    assert len(rows) == 3
    for row, t in zip(rows, kept, strict=True):
        messages = row["messages"]
        steps = [s for turn in t.turns for s in turn.steps]
        assistant_calls = [m for m in messages if m["role"] == "assistant" and m.get("tool_calls")]
        assert len(assistant_calls) == len(steps)
        results = {m["tool_call_id"]: m for m in messages if m["role"] == "tool"}
        for m, step in zip(assistant_calls, steps, strict=True):
            assert m["reasoning_content"] == step.cot
            assert m.get("content") is None
            for tc, c, obs in zip(m["tool_calls"], step.calls, step.observations, strict=True):
                assert tc["type"] == "function"
                assert tc["function"]["name"] == c.name
                assert isinstance(tc["function"]["arguments"], str)
                assert json.loads(tc["function"]["arguments"]) == c.arguments
                assert results[tc["id"]]["content"] == observation_text(obs)
                assert results[tc["id"]]["name"] == c.name
        assert len(results) == sum(len(s.calls) for s in steps)
        summaries = [m["content"] for m in messages if m["role"] == "assistant" and not m.get("tool_calls")]
        assert summaries == [turn.summary for turn in t.turns]
        tools = json.loads(row["tools"])
        assert [tool["function"]["name"] for tool in tools] == [s.name for s in t.tools]
        assert all(tool["type"] == "function" for tool in tools)


# --------------------------------------------------------------------------------------------- verl


@pytest.mark.parametrize("style", ["hermes", "python"])
def test_verl_one_row_per_assistant_response(
    run_dir: Path, kept: list[Trajectory], tmp_path: Path, style: CallStyle
) -> None:
    result = export_run(run_dir, "verl", tmp_path / "rl.parquet", call_format=style)
    table = pq.read_table(result.files[0])
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info", "tools"]
    rows = table.to_pylist()
    expected_rows = sum(len(turn.steps) + 1 for t in kept for turn in t.turns)
    assert len(rows) == result.records == expected_rows == 13

    # Verl reads the file with datasets' parquet builder and applies the chat template to "prompt".
    datasets.disable_progress_bars()
    loaded = datasets.load_dataset(
        "parquet", data_files=str(result.files[0]), split="train", cache_dir=str(tmp_path)
    )
    assert loaded[0]["prompt"] == rows[0]["prompt"]

    by_traj: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_traj.setdefault(row["extra_info"]["trajectory_id"], []).append(row)
    for t in kept:
        t_rows = by_traj[t.id]
        assert t_rows[0]["extra_info"]["hardgen"] and not any(r["extra_info"]["hardgen"] for r in t_rows[1:])
        assert json.loads(t_rows[0]["extra_info"]["hardgen"])["initial_state"] == t.initial_state
        i = 0
        for turn in t.turns:
            for step in [*turn.steps, None]:
                row = t_rows[i]
                assert row["data_source"] == "hardgen" and row["ability"] == "tool_use"
                assert row["reward_model"]["style"] == "rule"
                truth = json.loads(row["reward_model"]["ground_truth"])
                prompt = row["prompt"]
                assert prompt[0] == {"role": "system", "content": system_prompt(t.tools, style)}
                assert row["extra_info"]["call_format"] == style
                assert prompt[-1]["role"] in ("user", "tool")
                assert [m["content"] for m in prompt if m["role"] == "user"][-1] == turn.query.text
                if step is None:
                    assert truth == [] and row["extra_info"]["kind"] == "answer"
                    answer = render_response("The request is complete.", [], turn.summary, style=style)
                    # The summary as the SFT data and later prompts show it earns the reward too.
                    assert compute_score("hardgen", turn.summary, "[]", row["extra_info"]) == 1.0
                else:
                    assert truth == _args(step.calls) and row["extra_info"]["kind"] == "call"
                    answer = render_response(step.cot, step.calls, style=style)
                    shown = t_rows[i + 1]["prompt"][len(prompt) :]
                    assert shown[0] == {"role": "assistant", "content": answer}
                    assert [m["content"] for m in shown[1 : 1 + len(step.calls)]] == [
                        observation_text(o) for o in step.observations
                    ]
                # The reference answer of every row earns the reward, also from a prompt that opened <think>.
                for given in (answer, answer.removeprefix("<think>")):
                    truth_text = row["reward_model"]["ground_truth"]
                    assert compute_score(row["data_source"], given, truth_text, row["extra_info"]) == 1.0
                assert json.loads(row["tools"]) == json.loads(row["extra_info"]["tools"])
                i += 1
        assert i == len(t_rows)


def test_verl_list_and_object_arguments_survive(tmp_path: Path) -> None:
    base = all_trajectories()[0]
    odd = call(
        "plan_meeting",
        user_ids=["u1", "u2", "u3"],
        slot={"day": "2026-03-04", "hours": [9, 10.5]},
        quiet=True,
    )
    first = base.turns[0].steps[0].model_copy(update={"calls": [odd]})
    turn = base.turns[0].model_copy(update={"steps": [first]})
    t = base.model_copy(update={"turns": [turn]})
    run = write_run(tmp_path / "run", [t])
    result = export_run(run, "verl", tmp_path / "rl.parquet")
    rows = pq.read_table(result.files[0]).to_pylist()
    assert json.loads(rows[0]["reward_model"]["ground_truth"]) == [
        {"name": "plan_meeting", "arguments": odd.arguments}
    ]


def test_system_prompt_text() -> None:
    tools = [
        ToolSpec(
            name="get_zipcode",
            description="Look up the zip code of a city.",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        )
    ]
    assert system_prompt(tools) == (
        "You are an assistant that completes the user's requests with the tools below. The tools act on a "
        "live system: call them to look things up and to make changes.\n"
        "\n"
        "# Tools\n"
        "- get_zipcode: Look up the zip code of a city.\n"
        '  parameters: {"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}\n'
        "\n"
        "# Answer format\n"
        "First think inside <think> and </think>. "
        "Then either make the calls of this step, all in one block:\n"
        "<tool_call>\n"
        '[tool_a(param="value"), tool_b(count=2)]\n'
        "</tool_call>\n"
        "or, when the request is done and no call is needed, answer the user in plain text.\n"
        "Only call a tool whose inputs you already know; you will see each call's result before your next "
        "answer."
    )


# ----------------------------------------------------------------------------------------------- hf


def test_hf_dataset_matches_openai_messages(run_dir: Path, kept: list[Trajectory], tmp_path: Path) -> None:
    result = export_run(run_dir, "hf", tmp_path / "hf")
    dataset = datasets.load_from_disk(str(result.files[0]))
    assert len(dataset) == 3
    assert set(dataset.column_names) == {"id", "messages", "tools", "hardgen"}
    for row, t in zip(dataset, kept, strict=True):
        assert row["id"] == t.id
        calls = [tc for m in row["messages"] if m["tool_calls"] for tc in m["tool_calls"]]
        assert [(tc["function"]["name"], json.loads(tc["function"]["arguments"])) for tc in calls] == [
            (c.name, c.arguments) for c in t.calls
        ]
        cots = [m["reasoning_content"] for m in row["messages"] if m["tool_calls"]]
        assert cots == [s.cot for turn in t.turns for s in turn.steps]
        assert [tool["function"]["name"] for tool in json.loads(row["tools"])] == [s.name for s in t.tools]
        assert json.loads(row["hardgen"])["final_state_hash"] == t.final_state_hash


class FakeHub:
    """huggingface_hub.HfApi at its boundary: records the repository and the commit instead of uploading."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, token: str | None = None) -> None:
        self.calls.append(("init", {"token": token}))

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def create_commit(self, **kwargs: Any) -> None:
        self.calls.append(("create_commit", kwargs))


@pytest.mark.parametrize("fmt", ["llamafactory", "openai", "verl", "hf"])
def test_push_to_hub_sends_the_files_manifest_and_card(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """No Hub can be reached here: HfApi (and datasets' own push for hf) are replaced at their boundary."""
    FakeHub.calls = []
    pushed: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setattr("huggingface_hub.HfApi", FakeHub)
    monkeypatch.setattr(
        datasets.Dataset,
        "push_to_hub",
        lambda self, repo, **kw: pushed.append((repo, {"rows": len(self), **kw})),
    )
    out = {"llamafactory": "lf", "openai": "o.jsonl", "verl": "v.parquet", "hf": "hf"}[fmt]
    result = export_run(run_dir, fmt, tmp_path / out, push_to_hub="someone/data", private=False)
    kinds = [c[0] for c in FakeHub.calls]
    assert kinds == ["init", "create_repo", "create_commit"]
    assert FakeHub.calls[0][1]["token"] == "hf_test"
    assert FakeHub.calls[1][1] == {
        "repo_id": "someone/data",
        "repo_type": "dataset",
        "private": False,
        "exist_ok": True,
    }
    ops = {op.path_in_repo: op for op in FakeHub.calls[2][1]["operations"]}
    card = ops.pop("README.md").path_or_fileobj.decode("utf-8")
    assert result.manifest.name in ops
    if fmt == "hf":
        assert pushed == [("someone/data", {"rows": 3, "private": False, "token": "hf_test"})]
    else:
        assert set(ops) == {f.name for f in result.files if f.name != "dataset_info.json"} | {
            result.manifest.name
        }
        assert "configs:" in card and "path: '*." in card
    assert f"format: `{fmt}` ({result.records} records from 3 trajectories)" in card
    assert "call format: `hermes`" in card
    assert f"config hash: `{RUN_ID.removeprefix('run-')}`" in card
    assert "- reasoner: offline" in card and "license: apache-2.0" in card
    assert "3 trajectories kept" in card


def test_hf_push_needs_a_token(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(ExportError, match="HF_TOKEN"):
        export_run(run_dir, "hf", tmp_path / "hf", push_to_hub="someone/data")
    assert not (tmp_path / "hf").exists()


# ------------------------------------------------------------------------------------ errors & CLI


def test_errors_are_clear(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown format 'csv'"):
        export_run(run_dir, "csv", tmp_path / "x")
    with pytest.raises(ExportError, match="not a run directory"):
        export_run(tmp_path / "nothing", "openai", tmp_path / "x.jsonl")
    assert not (tmp_path / "nothing" / "results.sqlite").exists(), "a typo must not create a run"
    with pytest.raises(ExportError, match="unknown call format 'xml'"):
        export_run(run_dir, "openai", tmp_path / "x.jsonl", call_format="xml")
    assert not (tmp_path / "x.jsonl").exists()


def test_empty_run_exports_empty_files(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [t for t in all_trajectories() if t.status == "discarded"])
    for fmt, out in [("openai", "o.jsonl"), ("verl", "v.parquet"), ("llamafactory", "lf")]:
        result = export_run(run, fmt, tmp_path / out)
        assert result.trajectories == 0 and result.records == 0
    assert pq.read_table(tmp_path / "v.parquet").num_rows == 0


def test_cli_export_and_format_detection(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for fmt, out in [("openai", "o.jsonl"), ("llamafactory", "lf"), ("verl", "v.parquet"), ("hf", "hf")]:
        res = runner.invoke(app, ["export", str(run_dir), "--format", fmt, "-o", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
        assert "exported 3 trajectories" in res.output
    assert detect_format(tmp_path / "o.jsonl") == "openai"
    assert detect_format(tmp_path / "lf") == "llamafactory"
    assert detect_format(tmp_path / "lf" / f"hardgen_{RUN_ID}.jsonl") == "llamafactory"
    assert detect_format(tmp_path / "v.parquet") == "verl"
    assert detect_format(tmp_path / "hf") == "hf"
