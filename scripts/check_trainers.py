"""Load hardgen's exports with the trainers' own data code (run by scripts/check_trainers.sh, by hand).

Runs inside a throwaway venv that has llamafactory and verl (not hardgen's venv, never in CI):

    python scripts/check_trainers.py EXPORTS_DIR [MAX_PROMPT_LENGTH [SFT_MAX_LENGTH]]

EXPORTS_DIR holds ``lf/`` (llamafactory), ``openai.jsonl``, ``verl/`` (parquet + reward module) and
``verl-sft/`` (parquet + dataset class), as check_trainers.sh writes them. No model or tokenizer can be
downloaded: a small byte-level BPE is trained on the exported text, with the tags as tokens and a
Qwen3-style chat template whose generation prompt opens ``<think>`` (what a thinking model's template
does).
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

TAGS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]
SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]

# Written for this check: tools in the system turn, reasoning_content as a think block, tool calls as
# one JSON block each, tool results as user turns in <tool_response>, and a generation prompt that opens
# the think block.
CHAT_TEMPLATE = """{%- if tools or messages[0].role == 'system' -%}
<|im_start|>system
{% if messages[0].role == 'system' %}{{ messages[0].content }}{% endif %}
{%- if tools %}
# Tools
<tools>
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}</tools>
Answer with one <tool_call>{"name": ..., "arguments": {...}}</tool_call> block per call.
{%- endif %}<|im_end|>
{% endif -%}
{%- for m in messages -%}
{%- if m.role == 'user' %}<|im_start|>user
{{ m.content }}<|im_end|>
{% elif m.role == 'assistant' %}<|im_start|>assistant
{% if m.reasoning_content %}<think>
{{ m.reasoning_content }}
</think>

{% endif %}{% if m.content %}{{ m.content }}{% endif %}
{%- for tc in m.tool_calls or [] %}
{%- set a = tc.function.arguments %}
<tool_call>
{"name": "{{ tc.function.name }}", "arguments": {{ a if a is string else a | tojson }}}
</tool_call>
{%- endfor %}<|im_end|>
{% elif m.role == 'tool' %}<|im_start|>user
<tool_response>
{{ m.content }}
</tool_response><|im_end|>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
<think>
{% endif -%}"""
# The same without opening <think> in the generation prompt (as Qwen3's own template in thinking mode):
# Verl's multi-turn SFT dataset masks the generation prompt's tokens at the start of every assistant
# message, which must not eat the reasoning's opening tag.
SFT_CHAT_TEMPLATE = CHAT_TEMPLATE.replace(
    "<|im_start|>assistant\n<think>\n{% endif", "<|im_start|>assistant\n{% endif"
)
assert SFT_CHAT_TEMPLATE != CHAT_TEMPLATE


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def build_tokenizer(corpus: list[str], folder: Path) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8000, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=[]
    )
    fast.add_tokens(TAGS)
    fast.add_special_tokens({"additional_special_tokens": SPECIAL})
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(folder))
    return fast


def corpus_of(exports: Path) -> list[str]:
    texts = []
    for path in glob.glob(str(exports / "lf" / "*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            texts.extend(fh.readlines())
    return texts


def check_datasets(exports: Path) -> None:
    import datasets

    say(f"== datasets {datasets.__version__}: load_dataset('json') on each JSON lines export")
    for path in [*glob.glob(str(exports / "lf" / "*.jsonl")), str(exports / "openai.jsonl")]:
        ds = datasets.load_dataset("json", data_files=path, split="train", cache_dir=str(exports / ".cache"))
        say(f"   {Path(path).name}: {len(ds)} rows, tools column {ds.features['tools']}")


def check_llamafactory(exports: Path, tokdir: Path, cutoff: int) -> None:
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from transformers import AutoTokenizer

    info = json.loads((exports / "lf" / "dataset_info.json").read_text(encoding="utf-8"))
    name = next(iter(info))
    for template in ("qwen3", "qwen"):
        args = {
            "stage": "sft",
            "do_train": True,
            "model_name_or_path": str(tokdir),
            "dataset": name,
            "dataset_dir": str(exports / "lf"),
            "template": template,
            "cutoff_len": cutoff,
            "output_dir": str(exports / ".lf-out"),
            "overwrite_cache": True,
            "preprocessing_num_workers": 1,
            "report_to": "none",
        }
        model_args, data_args, training_args, _, _ = get_train_args(args)
        tokenizer = AutoTokenizer.from_pretrained(str(tokdir))
        tmpl = get_template_and_fix_tokenizer(tokenizer, data_args)
        module = get_dataset(tmpl, model_args, data_args, training_args, stage="sft", tokenizer=tokenizer)
        train = module["train_dataset"]
        lengths = [len(x) for x in train["input_ids"]]
        at_cutoff = sum(n >= cutoff for n in lengths)
        say(
            f"== LLaMA-Factory get_dataset (sharegpt, template {template}, cutoff_len {cutoff}): "
            f"{len(train)} examples, longest {max(lengths)} tokens, {at_cutoff} cut at the cutoff"
        )
        ids, labels = train[0]["input_ids"], train[0]["labels"]
        supervised = tokenizer.decode([i for i, lab in zip(ids, labels, strict=True) if lab != -100])
        unsupervised = tokenizer.decode([i for i, lab in zip(ids, labels, strict=True) if lab == -100])
        say(
            f"   example 0: supervised spans hold <tool_call> {supervised.count('<tool_call>')}x, "
            f"<think> {supervised.count('<think>')}x, "
            f"<tool_response> {supervised.count('<tool_response>')}x; "
            f"unsupervised hold <tool_response> {unsupervised.count('<tool_response>')}x"
        )
        if template == "qwen3":
            say(f"   supervised text of example 0 (start): {json.dumps(supervised[:300])}")


def check_verl(exports: Path, tokdir: Path, max_prompt: int) -> None:
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.workers.reward_manager.naive import NaiveRewardManager

    tokenizer = AutoTokenizer.from_pretrained(str(tokdir))
    parquet = sorted(glob.glob(str(exports / "verl" / "*.parquet")))[0]
    module = sorted(glob.glob(str(exports / "verl" / "*_reward.py")))[0]
    for limit in (1024, max_prompt):
        cfg = OmegaConf.create(
            {
                "prompt_key": "prompt",
                "max_prompt_length": limit,
                "filter_overlong_prompts": True,
                "truncation": "error",
            }
        )
        ds = RLHFDataset(data_files=[parquet], tokenizer=tokenizer, config=cfg)
        say(f"== Verl RLHFDataset (max_prompt_length {limit}): {len(ds)} rows kept")
    say(f"   row 0 holds: {', '.join(sorted(ds[0]))}")

    config = OmegaConf.create(
        {"reward": {"custom_reward_function": {"path": module, "name": "compute_score"}}}
    )
    score_fn = get_custom_reward_fn(config)
    manager = NaiveRewardManager(tokenizer=tokenizer, num_examine=0, compute_score=score_fn)
    import pyarrow.parquet as pq

    rows = pq.read_table(parquet).to_pylist()
    cases: dict[str, list[float]] = {}
    for i, row in enumerate(rows):
        truth = json.loads(row["reward_model"]["ground_truth"])
        nxt = rows[i + 1]["prompt"] if i + 1 < len(rows) else []
        same = (
            i + 1 < len(rows)
            and rows[i + 1]["extra_info"]["trajectory_id"] == row["extra_info"]["trajectory_id"]
        )
        if not same:
            continue
        shown = nxt[len(row["prompt"])]["content"]  # the reference answer as later prompts show it
        kind = "parallel" if len(truth) > 1 else "single" if truth else "summary"
        # The generation prompt opened <think>, so the decoded answer starts inside it.
        answer = shown.removeprefix("<think>\n") if shown.startswith("<think>") else shown
        variants = {f"{kind}: reference": answer}
        if truth:
            wrong = answer.replace('"arguments": {', '"arguments": {"zz_unknown": 1, ', 1)
            variants[f"{kind}: wrong argument"] = wrong
            variants[f"{kind}: malformed"] = answer.replace("</tool_call>", "", 1)
        for label, text in variants.items():
            prompt_ids = tokenizer.apply_chat_template(
                [dict(m) for m in row["prompt"]], add_generation_prompt=True, tokenize=False
            )
            p = tokenizer(prompt_ids, add_special_tokens=False)["input_ids"]
            r = tokenizer(text + "<|im_end|>", add_special_tokens=False)["input_ids"]
            batch = {
                "prompts": torch.tensor([p]),
                "responses": torch.tensor([r]),
                "attention_mask": torch.ones(1, len(p) + len(r), dtype=torch.long),
            }
            non_tensor = {
                "reward_model": np.array([row["reward_model"]], dtype=object),
                "data_source": np.array([row["data_source"]], dtype=object),
                "extra_info": np.array([dict(row["extra_info"])], dtype=object),
            }
            data = DataProto.from_dict(tensors=batch, non_tensors=non_tensor)
            reward = manager(data)
            cases.setdefault(label, []).append(float(reward.sum()))
    say(f"== Verl reward manager (naive) with {Path(module).name} loaded by custom_reward_function.path")
    for label in sorted(cases):
        scores = cases[label]
        say(f"   {label:28s} {sum(s == 1.0 for s in scores):5d} of {len(scores):5d} score 1.0")


def _nulls(value: Any, where: str = "") -> list[str]:
    """Paths of the null values inside a JSON-like value (what null-padding would leave)."""
    if value is None:
        return [where or "."]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{where}[{i}]")]
    return []


def check_verl_sft(exports: Path, tokdir: Path, max_length: int) -> None:
    import pyarrow.parquet as pq
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset
    from verl.utils.import_utils import load_extern_object

    parquet = sorted(glob.glob(str(exports / "verl-sft" / "*.parquet")))[0]
    module = sorted(glob.glob(str(exports / "verl-sft" / "*_dataset.py")))[0]
    tokenizer = AutoTokenizer.from_pretrained(str(tokdir))
    tokenizer.chat_template = SFT_CHAT_TEMPLATE
    seen: list[tuple[Any, Any]] = []  # (messages, tools) of every apply_chat_template call
    render = tokenizer.apply_chat_template

    def spy(conversation: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((conversation, kwargs.get("tools")))
        return render(conversation, *args, **kwargs)

    tokenizer.apply_chat_template = spy
    cfg = OmegaConf.create({"max_length": max_length, "truncation": "error", "pad_mode": "no_padding"})
    rows = pq.read_table(parquet).to_pylist()

    plain = MultiTurnSFTDataset(parquet_files=[parquet], tokenizer=tokenizer, config=cfg)
    try:
        plain[0]
        say("== Verl MultiTurnSFTDataset without the class: row 0 loads")
    except Exception as exc:  # what a user who forgets data.custom_cls sees
        say(f"== Verl MultiTurnSFTDataset without the class: {type(exc).__name__}: {str(exc)[:110]}")

    cls = load_extern_object(module, "HardgenSFTDataset")
    ds = cls(parquet_files=[parquet], tokenizer=tokenizer, config=cfg)
    say(
        f"== Verl {cls.__name__}({Path(module).name}, a MultiTurnSFTDataset) via data.custom_cls, "
        f"max_length {max_length}, truncation error: {len(ds)} rows"
    )
    lengths, intact, nulls, arg_objects, calls_total = [], 0, 0, 0, 0
    counts = {"<tool_call>": [0, 0], "<think>": [0, 0], "<tool_response>": [0, 0]}
    unweighted = 0
    for i, row in enumerate(rows):
        seen.clear()
        item = ds[i]  # Verl tokenises message by message and asserts it equals the whole conversation
        ids, mask = item["input_ids"].tolist(), item["loss_mask"].tolist()
        lengths.append(len(ids))
        tools_given = [t for _, t in seen if t is not None]
        want = json.loads(row["tools"])
        if tools_given and all(t == want for t in tools_given):
            intact += 1
        nulls += sum(len(_nulls(t)) - len(_nulls(want)) for t in tools_given)
        # The last whole-conversation render is Verl's sanity check (the others tokenise one message each).
        whole = [c for c, _ in seen if len(c) == len(row["messages"])][-1:]
        for conversation in whole:
            for m in conversation:
                for tc in m.get("tool_calls") or []:
                    calls_total += 1
                    arg_objects += isinstance(tc["function"]["arguments"], dict)
        supervised = tokenizer.decode([t for t, k in zip(ids, mask, strict=True) if k])
        context = tokenizer.decode([t for t, k in zip(ids, mask, strict=True) if not k])
        for tag, pair in counts.items():
            pair[0] += supervised.count(tag)
            pair[1] += context.count(tag)
        unweighted += sum(len(m["tool_calls"] or []) for m in row["messages"] if m.get("weight") == 0)
    trained = [m for r in rows for m in r["messages"] if m.get("weight") != 0]
    n_calls = sum(len(m["tool_calls"] or []) for m in trained)
    n_think = sum(1 for m in trained if m["reasoning_content"])
    say(f"   every row passed Verl's sanity check; longest {max(lengths)} tokens")
    say(
        f"   tools reaching the chat template: identical to the export's schemas in {intact} of {len(rows)} "
        f"rows, {nulls} null values beyond the schemas' own"
    )
    try:  # the alternative: tools as Arrow objects in the parquet, one struct type for every tool
        import pyarrow as pa

        padded = pa.array([json.loads(r["tools"]) for r in rows]).to_pylist()
        extra = sum(
            len(_nulls(p)) - len(_nulls(json.loads(r["tools"]))) for p, r in zip(padded, rows, strict=True)
        )
        say(f"   (as Arrow objects the same tools would carry {extra} null-padded keys)")
    except Exception as exc:  # schemas whose keys hold different types cannot be one Arrow type at all
        say(f"   (as Arrow objects the same tools do not load: {type(exc).__name__}: {str(exc)[:80]})")
    say(f"   tool-call arguments reaching the template as objects: {arg_objects} of {calls_total}")
    say(
        f"   supervised tokens hold <tool_call> {counts['<tool_call>'][0]}x "
        f"(calls in the export: {n_calls}), "
        f"<think> {counts['<think>'][0]}x (reasoned steps: {n_think}), "
        f"<tool_response> {counts['<tool_response>'][0]}x"
    )
    say(
        f"   unsupervised tokens hold <tool_response> {counts['<tool_response>'][1]}x, "
        f"<tool_call> {counts['<tool_call>'][1]}x (one per row in the system block's format line: "
        f"{len(rows)}, plus the calls of weight-0 failed attempts: {unweighted})"
    )


def main() -> int:
    exports = Path(sys.argv[1])
    cutoff = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    sft_limit = int(sys.argv[3]) if len(sys.argv) > 3 else cutoff
    tokdir = exports / "tokenizer"
    build_tokenizer(corpus_of(exports), tokdir)
    say(f"== tokenizer: byte-level BPE trained on the export, saved to {tokdir.name}/")
    check_datasets(exports)
    check_llamafactory(exports, tokdir, cutoff)
    check_verl(exports, tokdir, cutoff)
    check_verl_sft(exports, tokdir, sft_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
