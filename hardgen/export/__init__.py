"""Export a run's kept trajectories for trainers, and read exported files back for ``hardgen verify``.

Formats (``hardgen export DIR --format F -o OUT``):

    llamafactory  ShareGPT JSON lines + the ``dataset_info.json`` entry (SFT with LLaMA-Factory)
    openai        OpenAI chat messages JSON lines with ``tools`` and ``tool_calls``
    verl          parquet, one row per assistant response, for RL with Verl and hardgen.reward
    verl-sft      parquet, one row per trajectory, for Verl's multi-turn SFT (+ its dataset class)
    hf            a Hugging Face ``datasets`` dataset saved to disk (optionally pushed to the Hub)
    bfcl          BFCL multi-turn test entries + ground truth (trajectories on BFCL classes only), for
                  BFCL's own checker; an evaluation set, not training data, so ``verify`` does not read it

Every format carries a ``hardgen`` metadata field (a JSON string) with what ``verify`` needs to rebuild
the environment; the calls and observations are read back from the training content itself.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from hardgen.calls import CALL_STYLES
from hardgen.export.common import (
    META_KEY,
    ExportError,
    ExportMeta,
    Replay,
    ReplayStep,
    RunSource,
    dataset_name,
)
from hardgen.export.hub import hub_token
from hardgen.export.lengths import LengthReport, make_counter, measure
from hardgen.export.manifest import write_manifest

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ExportError",
    "ExportMeta",
    "ExportResult",
    "Format",
    "Replay",
    "ReplayStep",
    "detect_format",
    "export_run",
    "read_replays",
]

log = logging.getLogger(__name__)

Format = Literal["llamafactory", "openai", "verl", "verl-sft", "hf"]
FORMATS: tuple[str, ...] = get_args(Format)  # the training formats, which ``verify`` reads back
EXPORT_FORMATS: tuple[str, ...] = (*FORMATS, "bfcl")


@dataclass
class ExportResult:
    format: str
    files: list[Path]
    trajectories: int
    records: int
    seconds: float
    manifest: Path
    lengths: LengthReport | None = None


def export_run(
    run_dir: str | Path,
    fmt: str,
    out: str | Path,
    *,
    name: str | None = None,
    push_to_hub: str | None = None,
    private: bool = True,
    call_format: str | None = None,
    tokenizer: str | None = None,
    lengths: bool = True,
    with_recovery: bool = False,
) -> ExportResult:
    """Export the kept trajectories of a run directory.

    Args:
        run_dir: The run directory (it holds ``results.sqlite``).
        fmt: One of :data:`EXPORT_FORMATS`.
        out: The output file or folder (see each format for which one it takes).
        name: The dataset name (LLaMA-Factory entry, file stem); default ``hardgen_<run id>``.
        push_to_hub: Also push the export, its manifest and a dataset card to this Hub dataset repository.
        private: Whether a pushed dataset is private.
        call_format: ``hermes`` or ``python`` (see :data:`hardgen.calls.CallStyle`); default: the run
            config's ``export.call_format`` (``hermes`` unless set).
        tokenizer: A tokenizer (folder or Hub name) for exact token lengths; default: an estimate.
        lengths: Measure the token lengths (:attr:`ExportResult.lengths`).
        with_recovery: Also show failed attempts whose calls gave a real tool error, before the step
            that corrects them (:mod:`hardgen.export.recovery`); ``openai`` and ``verl-sft`` only.

    Raises:
        ExportError: for an unknown format, a folder that is not a run directory, a bad output path, a
            push without a Hub token (checked before anything is written).
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if call_format is not None and call_format not in CALL_STYLES:
        raise ExportError(f"unknown call format {call_format!r}; choose one of {', '.join(CALL_STYLES)}")
    if with_recovery:
        from hardgen.export.recovery import RECOVERY_FORMATS

        if fmt not in RECOVERY_FORMATS:
            raise ExportError(
                f"--with-recovery needs a format that can leave the failed call unsupervised: "
                f"{' or '.join(RECOVERY_FORMATS)} (not {fmt})"
            )
    source = RunSource.open(run_dir)
    source.with_recovery = with_recovery
    if call_format is not None:
        source.call_format = "python" if call_format == "python" else "hermes"
    token = hub_token() if push_to_hub else None  # before writing anything: a missing token is bad input
    counter = make_counter(tokenizer) if lengths else None  # likewise a tokenizer that cannot load
    stem = name or dataset_name(source.run_id)
    target = Path(out)
    start = time.perf_counter()
    if fmt == "llamafactory":
        from hardgen.export import llamafactory

        files, records = llamafactory.write(source, target, stem)
        data_files = files[:1]  # dataset_info.json is shared with other datasets
    elif fmt == "openai":
        from hardgen.export import openai_chat

        files, records = openai_chat.write(source, target, stem)
        data_files = files
    elif fmt == "verl":
        from hardgen.export import verl

        files, records = verl.write(source, target, stem)
        data_files = files
    elif fmt == "verl-sft":
        from hardgen.export import verl_sft

        files, records = verl_sft.write(source, target, stem)
        data_files = files
    elif fmt == "bfcl":
        from hardgen.export import bfcl

        files, records = bfcl.write(source, target, stem)
        data_files = files
    else:
        from hardgen.export import hf

        files, records = hf.write(source, target, stem)
        data_files = files
    manifest = write_manifest(
        # bfcl: one manifest for the folder, named so that BFCL's file pattern does not pick it up
        target if fmt == "bfcl" else files[0],
        fmt=fmt,
        files=data_files,
        trajectories=source.count,
        records=records,
        call_format=source.call_format,
        run_id=source.run_id,
        config_hash=source.run_id.removeprefix("run-"),
    )
    seconds = time.perf_counter() - start
    log.info("exported %d trajectories as %d %s records in %.2f s", source.count, records, fmt, seconds)
    result = ExportResult(
        format=fmt,
        files=files,
        trajectories=source.count,
        records=records,
        seconds=seconds,
        manifest=manifest,
    )
    if counter is not None and fmt != "bfcl":  # an evaluation set: no trainer reads it
        result.lengths = measure(source, fmt, counter)
    if push_to_hub and token:
        _push(source, result, push_to_hub, private=private, token=token)
    return result


def _push(source: RunSource, result: ExportResult, repo_id: str, *, private: bool, token: str) -> None:
    """Push the exported files, their manifest and a dataset card to a Hub dataset repository."""
    from hardgen.export import hub

    data = result.files[0]
    base = data if data.is_dir() else data.parent
    # LLaMA-Factory's dataset_info.json may list other datasets of the folder: it stays local.
    files = [f for f in result.files if f.name != "dataset_info.json"]
    names = [f.relative_to(base).as_posix() if f != base else f.name for f in files]
    try:
        from hardgen.stats import compute_stats

        audit = compute_stats(source.run_dir)
    except Exception:  # the card's audit line is a courtesy; the push must not fail for it
        log.warning("no statistics for the dataset card", exc_info=True)
        audit = None
    card = hub.dataset_card(
        source,
        fmt=result.format,
        trajectories=result.trajectories,
        records=result.records,
        files=names,
        audit=audit,
    )
    if result.format == "hf":
        from hardgen.export import hf

        hf.push(data, repo_id, private=private, token=token)
        hub.push_files(repo_id, base, [result.manifest], card, private=private, token=token)
    else:
        hub.push_files(repo_id, base, [*files, result.manifest], card, private=private, token=token)


def detect_format(path: str | Path) -> str:
    """Which export format a file (or folder) is in.

    Raises:
        ExportError: when it is none of them.
    """
    p = Path(path)
    if not p.exists():
        raise ExportError(f"{p} does not exist")
    if p.is_dir():
        if (p / "state.json").exists():
            return "hf"
        if (p / "dataset_info.json").exists():
            return "llamafactory"
        raise ExportError(f"{p} is a folder but neither a saved dataset nor a LLaMA-Factory dataset folder")
    if p.suffix == ".parquet":
        from hardgen.export import verl_sft

        return "verl-sft" if verl_sft.is_sft_parquet(p) else "verl"
    with p.open(encoding="utf-8") as fh:
        first = next((line for line in fh if line.strip()), "")
    try:
        record = json.loads(first) if first else None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{p}: not a hardgen export (the first line is not JSON: {exc})") from exc
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list):
        raise ExportError(f"{p}: not a hardgen export (no messages in the first record)")
    roles = {m.get("role") for m in messages if isinstance(m, dict)}
    if roles & {"function_call", "observation"}:
        return "llamafactory"
    return "openai"


def read_replays(path: str | Path, fmt: str | None = None) -> Iterator[Replay]:
    """The trajectories of an exported file, read back for re-execution."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt == "llamafactory":
        from hardgen.export import llamafactory

        if p.is_dir():
            yield from _llamafactory_folder(p)
        else:
            yield from llamafactory.read_replays(p)
    elif fmt == "openai":
        from hardgen.export import openai_chat

        yield from openai_chat.read_replays(p)
    elif fmt == "verl":
        from hardgen.export import verl

        yield from verl.read_replays(p)
    elif fmt == "verl-sft":
        from hardgen.export import verl_sft

        yield from verl_sft.read_replays(p)
    elif fmt == "hf":
        from hardgen.export import hf

        yield from hf.read_replays(p)
    else:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _llamafactory_folder(folder: Path) -> Iterator[Replay]:
    """Every hardgen dataset listed in a LLaMA-Factory folder's dataset_info.json (others are skipped)."""
    from hardgen.export import llamafactory

    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    entries = info.values() if isinstance(info, dict) else []
    names = [e.get("file_name") for e in entries if isinstance(e, dict)]
    files = [folder / n for n in names if isinstance(n, str) and _is_hardgen_jsonl(folder / n)]
    if not files:
        raise ExportError(f"{folder}/dataset_info.json lists no hardgen dataset file that exists")
    for f in files:
        yield from llamafactory.read_replays(f)


def _is_hardgen_jsonl(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and META_KEY in record
