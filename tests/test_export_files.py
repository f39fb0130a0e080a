"""Exports as files a trainer gets: atomic with a manifest, loadable by Arrow's JSON reader as datasets 4.0
uses it, and the Verl reward module written beside the parquet scoring every row like hardgen.reward."""

from __future__ import annotations

import importlib.util
import io
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow.json as paj
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hardgen.calls import CallStyle, render_response
from hardgen.cli import app
from hardgen.export import ExportError, export_run
from hardgen.export.manifest import manifest_path
from hardgen.reward import compute_score
from hardgen.schema import ToolCall
from hardgen.verify import verify_file, verify_path
from tests.fixtures_trajectories import OUTPUTS, RUN_ID, all_trajectories, write_run

RUN_NAME = f"hardgen_{RUN_ID}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "run")


# ----------------------------------------------------------------------------- manifest and atomicity


@pytest.mark.parametrize("fmt", ["llamafactory", "openai", "verl", "verl-sft", "hf"])
def test_every_export_has_a_manifest_that_verify_checks(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    result = export_run(run_dir, fmt, tmp_path / OUTPUTS[fmt])
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["format"] == fmt and manifest["trajectories"] == 3
    assert manifest["records"] == result.records and manifest["call_format"] == "hermes"
    assert manifest["hardgen_version"] and manifest["files"]
    report = verify_file(result.files[0])
    assert report.manifest and report.integrity == [] and report.ok
    assert not [p for p in result.manifest.parent.iterdir() if ".partial-" in p.name]


@pytest.mark.parametrize("fmt", ["llamafactory", "openai", "verl", "verl-sft"])
def test_a_truncated_file_is_reported_as_truncated(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    data = export_run(run_dir, fmt, tmp_path / OUTPUTS[fmt]).files[0]
    raw = data.read_bytes()
    # Cut at a line boundary for JSON lines (the case a plain reader cannot notice), mid-file for parquet.
    cut = raw[: raw.rfind(b"\n", 0, len(raw) - 1) + 1] if data.suffix == ".jsonl" else raw[: len(raw) // 2]
    data.write_bytes(cut)
    report = verify_file(data)
    assert not report.ok
    assert any(f"truncated: {len(cut)} of {len(raw)} bytes" in p for p in report.integrity), report.integrity
    res = CliRunner().invoke(app, ["verify", str(data)])
    assert res.exit_code == 1 and "truncated" in res.output and "NOT the complete export" in res.output


def test_an_edited_file_is_named_as_changed(run_dir: Path, tmp_path: Path) -> None:
    data = export_run(run_dir, "openai", tmp_path / "o.jsonl").files[0]
    data.write_text(data.read_text(encoding="utf-8").replace("Rivermist", "Rivermisz"), encoding="utf-8")
    report = verify_file(data)
    assert any("differs from what was exported" in p for p in report.integrity)
    assert not report.ok


def test_a_killed_export_leaves_the_previous_file_untouched(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardgen.export import openai_chat

    target = tmp_path / "o.jsonl"
    export_run(run_dir, "openai", target)
    before = target.read_bytes()
    calls = {"n": 0}
    real = openai_chat.record

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as a Ctrl-C in the middle of the file
        return real(*args, **kwargs)

    monkeypatch.setattr(openai_chat, "record", dying)
    with pytest.raises(KeyboardInterrupt):
        export_run(run_dir, "openai", target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl", "o.jsonl.manifest.json"]
    assert verify_file(target).ok
    # What kill -9 leaves (a hidden partial file of a dead process) goes with the next export.
    stale = tmp_path / ".o.jsonl.partial-999999999"
    stale.write_text("{")
    monkeypatch.setattr(openai_chat, "record", real)
    export_run(run_dir, "openai", target)
    assert not stale.exists()


def test_verify_accepts_a_folder_of_exports(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    export_run(run_dir, "openai", folder / "o.jsonl")
    export_run(run_dir, "verl", folder / "v.parquet")
    export_run(run_dir, "llamafactory", folder / "lf")
    export_run(run_dir, "hf", folder / "hf")
    reports = verify_path(folder)
    assert sorted(Path(r.path).name for r in reports) == [f"{RUN_NAME}.jsonl", "hf", "o.jsonl", "v.parquet"]
    assert all(r.ok for r in reports)
    res = CliRunner().invoke(app, ["verify", str(folder)])
    assert res.exit_code == 0, res.output
    assert res.output.count("3 of 3 trajectories verified (100.0%)") == 4
    (folder / "o.jsonl").unlink()
    res = CliRunner().invoke(app, ["verify", str(folder)])
    assert res.exit_code == 1 and "o.jsonl is missing" in res.output


# ------------------------------------------------------------------- datasets 4.0 Arrow type inference


def _arrow_read_like_datasets_4(path: Path) -> Any:
    """What datasets 4.0's json builder does with a JSON lines file: pyarrow.json.read_json on 10 MB
    chunks with block_size max(chunksize // 32, 16 KiB), doubled while an object straddles two blocks.
    Arrow infers one type per column path and raises ArrowInvalid when a row disagrees ("changed from
    string to array"); datasets 4.0 has no fallback for that (5.x does)."""
    import pyarrow as pa

    block_size = max((10 << 20) // 32, 16 << 10)
    while True:
        try:
            return paj.read_json(
                io.BytesIO(path.read_bytes()), read_options=paj.ReadOptions(block_size=block_size)
            )
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc) or block_size > path.stat().st_size:
                raise
            block_size *= 2


def _mixed_schema_run(tmp_path: Path) -> Path:
    """Trajectories whose tools' schemas give one parameter path different JSON types."""
    trajectories = all_trajectories()
    kept = [t for t in trajectories if t.status == "kept"]
    first, second = kept[0], kept[1]
    tool_a = first.tools[0].model_copy(
        update={"parameters": {"type": "object", "properties": {"limit": {"type": "integer"}}}}
    )
    tool_b = second.tools[0].model_copy(
        update={"parameters": {"type": "object", "properties": {"limit": {"type": ["integer", "null"]}}}}
    )
    changed = [
        first.model_copy(update={"tools": [tool_a, *first.tools[1:]]}),
        second.model_copy(update={"tools": [tool_b, *second.tools[1:]]}),
        *kept[2:],
    ]
    return write_run(tmp_path / "mixed", changed)


@pytest.mark.parametrize("fmt", ["llamafactory", "openai"])
def test_jsonl_loads_with_arrow_block_inference(tmp_path: Path, fmt: str) -> None:
    run = _mixed_schema_run(tmp_path)
    data = export_run(run, fmt, tmp_path / OUTPUTS[fmt]).files[0]
    table = _arrow_read_like_datasets_4(data)
    assert table.num_rows == 3
    assert str(table.schema.field("tools").type) == "string"
    tools = json.loads(table.column("tools")[1].as_py())
    limit = tools[0]["function"]["parameters"] if fmt == "openai" else tools[0]["parameters"]
    assert limit["properties"]["limit"]["type"] == ["integer", "null"]


def test_the_old_openai_layout_fails_arrow_inference(tmp_path: Path) -> None:
    """The check above can fail: a tools list of objects breaks on the mixed parameter types."""
    run = _mixed_schema_run(tmp_path)
    data = export_run(run, "openai", tmp_path / "o.jsonl").files[0]
    lines = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    for rec in lines:
        rec["tools"] = json.loads(rec["tools"])
    data.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    import pyarrow as pa

    with pytest.raises(pa.ArrowInvalid, match="changed from"):
        _arrow_read_like_datasets_4(data)


# ------------------------------------------------------------------ the reward module beside the parquet


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _variants(truth: list[dict[str, Any]], answer: str, style: CallStyle) -> list[str]:
    """The reference answer, as a thinking template leaves it, and wrong or malformed ones."""
    out = [answer, answer.removeprefix("<think>"), answer + "\nDone.", answer.replace("</think>", "")]
    if not truth:
        return [*out, render_response("x", [ToolCall(name="get_zipcode", arguments={})], style=style)]
    calls = [ToolCall.model_validate(c) for c in truth]
    wrong = [c.model_copy(update={"arguments": {k: "zz" for k in c.arguments} or {"zz": 1}}) for c in calls]
    return [
        *out,
        render_response("c", calls[:-1], style=style) if len(calls) > 1 else "<think>c</think>\nno call",
        render_response("c", [*calls, calls[0]], style=style),
        render_response("c", wrong, style=style),
        render_response("c", list(reversed(calls)), style=style),
        render_response("c", calls, style="python" if style == "hermes" else "hermes"),
        answer.replace("}", "", 1).replace(")", "", 1),
        answer.replace("</tool_call>", ""),
    ]


@pytest.mark.parametrize("style", ["hermes", "python"])
def test_the_reward_module_beside_the_parquet_scores_every_row_like_hardgen(
    run_dir: Path, tmp_path: Path, style: CallStyle
) -> None:
    result = export_run(run_dir, "verl", tmp_path / "v.parquet", call_format=style)
    module_path = tmp_path / "v_reward.py"
    assert module_path in result.files
    standalone = _load(module_path)
    rows = pq.read_table(result.files[0]).to_pylist()
    compared = ones = 0
    for i, row in enumerate(rows):
        truth_text = row["reward_model"]["ground_truth"]
        truth = json.loads(truth_text)
        if truth:
            shown = rows[i + 1]["prompt"][len(row["prompt"])]["content"]
        else:
            shown = "<think>\nThe request is complete.\n</think>\n\nAll done: booked."
        for solution in _variants(truth, shown, style):
            ours = compute_score(row["data_source"], solution, truth_text, row["extra_info"])
            theirs = standalone.compute_score(row["data_source"], solution, truth_text, row["extra_info"])
            assert theirs == ours, (i, solution)
            compared += 1
            ones += int(ours == 1.0)
        assert compute_score(row["data_source"], shown, truth_text, row["extra_info"]) == 1.0
    assert compared > 100 and 0 < ones < compared
    assert manifest_path(result.files[0]).is_file()


# ------------------------------------------------------------------------------------- token lengths

CHAT_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n{% for t in tools %}{{ t | tojson }}\n{% endfor %}"
    "<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.reasoning_content %}<think>\n{{ m.reasoning_content }}\n</think>\n\n{% endif %}"
    "{% if m.content %}{{ m.content }}{% endif %}"
    "{% for tc in m.tool_calls or [] %}<tool_call>\n{{ tc.function | tojson }}\n</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


def _tiny_tokenizer(folder: Path, corpus: list[str]) -> Path:
    """A word-level tokenizer with a chat template, trained on the export itself (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["[UNK]", "<|im_end|>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="<|im_end|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(folder))
    return folder


def test_export_prints_lengths_and_the_settings_they_need(run_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["export", str(run_dir), "--format", "llamafactory", "-o", str(tmp_path / "lf")]
    )
    assert res.exit_code == 0, res.output
    assert "token lengths (estimated from the text" in res.output
    match = re.search(r"records +p50 [\d,]+ +p95 [\d,]+ +max ([\d,]+)", res.output)
    cutoff = re.search(r"LLaMA-Factory cutoff_len >= (\d+) keeps every record whole", res.output)
    assert match and cutoff and int(cutoff.group(1)) >= int(match.group(1).replace(",", ""))
    res = CliRunner().invoke(
        app, ["export", str(run_dir), "--format", "verl", "-o", str(tmp_path / "v.parquet")]
    )
    assert re.search(
        r"Verl needs data.max_prompt_length >= \d+ .* data.max_response_length >= \d+", res.output
    )


def test_lengths_with_the_users_tokenizer_are_exact(run_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    estimate = export_run(run_dir, "openai", tmp_path / "o.jsonl")
    records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = [json.dumps(r, ensure_ascii=False) for r in records]
    folder = _tiny_tokenizer(tmp_path / "tok", corpus)
    exact = export_run(run_dir, "openai", tmp_path / "o.jsonl", tokenizer=str(folder))
    assert exact.lengths is not None and estimate.lengths is not None
    assert exact.lengths.tokenizer == str(folder)
    tok = AutoTokenizer.from_pretrained(str(folder))
    for rec, counted in zip(records, exact.lengths.sft.values, strict=True):
        for m in rec["messages"]:
            for tc in m.get("tool_calls") or []:
                tc["function"]["arguments"] = json.loads(tc["function"]["arguments"])
        text = tok.apply_chat_template(rec["messages"], tools=json.loads(rec["tools"]), tokenize=False)
        assert counted == len(tok(text, add_special_tokens=False)["input_ids"])
    assert exact.lengths.sft.values != estimate.lengths.sft.values
    with pytest.raises(ExportError, match="cannot load the tokenizer"):
        export_run(run_dir, "openai", tmp_path / "o2.jsonl", tokenizer=str(tmp_path / "nowhere"))
    assert not (tmp_path / "o2.jsonl").exists()


def test_llamafactory_python_style_teaches_the_python_list(run_dir: Path, tmp_path: Path) -> None:
    result = export_run(run_dir, "llamafactory", tmp_path / "lf", call_format="python")
    data, info_path = result.files
    entry = next(iter(json.loads(info_path.read_text(encoding="utf-8")).values()))
    assert entry["columns"] == {"messages": "messages"}  # no tools column: the system message has them
    for line in data.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert "tools" not in rec
        messages = rec["messages"]
        assert messages[0]["role"] == "system" and "[tool_a(" in messages[0]["content"]
        calls = [m for m in messages if m["role"] == "assistant" and "<tool_call>" in m["content"]]
        assert calls and all(re.search(r"<tool_call>\n\[\w+\(", m["content"]) for m in calls)
        assert not any(m["role"] == "function_call" for m in messages)
        # the roles alternate as LLaMA-Factory's sharegpt reader requires
        roles = [m["role"] for m in messages[1:]]
        assert all(r in ("user", "observation") for r in roles[0::2])
        assert all(r == "assistant" for r in roles[1::2])
    report = verify_file(data)
    assert report.ok and (report.trajectories, report.steps, report.calls) == (3, 9, 14)


# ------------------------------------------------------------------------------- Verl multi-turn SFT


def _verl_rows(parquet: Path) -> list[dict[str, Any]]:
    """The rows as Verl's MultiTurnSFTDataset reads them (pandas with the pyarrow backend)."""
    import pandas as pd

    frame = pd.read_parquet(parquet, dtype_backend="pyarrow")
    return [frame.iloc[i].to_dict() for i in range(len(frame))]


def test_verl_sft_rows_reach_the_chat_template_as_it_expects(run_dir: Path, tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    from hardgen.export.common import openai_tools
    from hardgen.store import ResultStore

    result = export_run(run_dir, "verl-sft", tmp_path / "sft")
    parquet, module_path = result.files
    assert module_path.name == f"{RUN_NAME}_dataset.py" and result.records == 3
    module = _load(module_path)  # the copy beside the parquet, without Verl installed
    with pytest.raises(ModuleNotFoundError, match="verl"):
        module.HardgenSFTDataset  # noqa: B018  (Verl's class is built on first use, where Verl is)
    with ResultStore(run_dir / "results.sqlite") as store:
        kept = list(store.trajectories("kept"))
    corpus = [json.dumps(r, default=str) for r in _verl_rows(parquet)]
    tok = PreTrainedTokenizerFast.from_pretrained(str(_tiny_tokenizer(tmp_path / "tok", corpus)))
    for row, t in zip(_verl_rows(parquet), kept, strict=True):
        # What Verl's own class would hand transformers: the tools as one string, which it refuses.
        with pytest.raises(ValueError, match="Tools should either be a JSON schema"):
            tok.apply_chat_template([{"role": "user", "content": "x"}], tools=row["tools"], tokenize=False)
        messages, tools = module.chat_inputs(row["messages"], row["tools"])
        assert tools == json.loads(json.dumps(openai_tools(t.tools)))  # every tool, no key added
        steps = [s for turn in t.turns for s in turn.steps]
        with_calls = [m for m in messages if m.get("tool_calls")]
        assert [m["reasoning_content"] for m in with_calls] == [s.cot for s in steps]
        assert [[tc["function"]["arguments"] for tc in m["tool_calls"]] for m in with_calls] == [
            [c.arguments for c in s.calls] for s in steps
        ]
        for m in messages:  # no unused key: a template testing `"tool_calls" in m` must not see a null
            assert all(v is not None for k, v in m.items() if k != "content"), m
        assert {m["role"] for m in messages} == {"user", "assistant", "tool"}
        text = tok.apply_chat_template(messages, tools=tools, tokenize=False)
        for tool in tools:
            assert json.dumps(tool, ensure_ascii=False) in text
        for step in steps:
            for c in step.calls:
                assert json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False) in text
    report = verify_file(parquet)
    assert report.format == "verl-sft" and report.ok
    assert (report.trajectories, report.steps, report.calls) == (3, 9, 14)
    res = CliRunner().invoke(
        app, ["export", str(run_dir), "--format", "verl-sft", "-o", str(tmp_path / "cli.parquet")]
    )
    assert res.exit_code == 0, res.output
    assert re.search(r"Verl data.max_length .* >= \d+ keeps every record whole", res.output)
