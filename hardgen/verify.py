"""``hardgen verify``: re-execute every trajectory of an exported file and report what differs.

For each exported trajectory, a fresh environment is built from the recorded suites (and backends) and
restored to the recorded initial state; then every step's calls, as the trainer will see them, are
executed in order, and each result is compared with the observation the file shows for it. At the end
the environment's state hash must equal the recorded final state hash (tau-bench's check: same actions,
same resulting state). Any difference is a :class:`Mismatch`, with a namespaced kind:

    verify:observation_mismatch   a call's result differs from the exported observation
    verify:state_mismatch         the final state differs from the recorded one
    verify:format                 the record is inconsistent (a call without a result, ...)
    verify:environment            the environment cannot be rebuilt or restored

Before anything is re-executed, the files are compared with the export's manifest (written by
``hardgen export``): a file shorter than recorded is reported as truncated, a different one as changed,
and a different trajectory count as such (:attr:`VerifyReport.integrity`). ``hardgen verify`` takes an
exported file or a folder of exports (every data file with a manifest in it, or a saved ``hf`` dataset).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import JsonValue

from hardgen.environment.base import Environment
from hardgen.export import ExportError, Replay, read_replays
from hardgen.export.common import PARALLEL_OBSERVATION_SEPARATOR, observation_text
from hardgen.schema import Observation, canonical_json

log = logging.getLogger(__name__)

OBSERVATION_MISMATCH = "verify:observation_mismatch"
STATE_MISMATCH = "verify:state_mismatch"
FORMAT_PROBLEM = "verify:format"
ENVIRONMENT_PROBLEM = "verify:environment"


@dataclass
class Mismatch:
    trajectory_id: str
    where: str
    kind: str
    location: str
    expected: str = ""
    got: str = ""

    def describe(self, width: int = 160) -> str:
        text = f"{self.trajectory_id} ({self.where}) {self.location}: {self.kind}"
        if self.expected or self.got:
            text += f"\n    exported: {_clip(self.expected, width)}\n    replayed: {_clip(self.got, width)}"
        return text


@dataclass
class VerifyReport:
    path: str
    format: str
    trajectories: int = 0
    steps: int = 0
    calls: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    manifest: bool = False

    @property
    def failed_trajectories(self) -> int:
        return len({m.trajectory_id for m in self.mismatches})

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.integrity and self.trajectories > 0

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "path": self.path,
            "format": self.format,
            "trajectories": self.trajectories,
            "steps": self.steps,
            "calls": self.calls,
            "verified": self.trajectories - self.failed_trajectories,
            "ok": self.ok,
            "manifest": self.manifest,
            "integrity": list(self.integrity),
            "mismatches": [
                {
                    "trajectory_id": m.trajectory_id,
                    "where": m.where,
                    "kind": m.kind,
                    "location": m.location,
                    "expected": m.expected,
                    "got": m.got,
                }
                for m in self.mismatches
            ],
        }


def build_environment(
    suites: Sequence[str],
    backends: Sequence[Mapping[str, JsonValue]] | None = None,
    *,
    time_limit_s: float | None = None,
    max_output_bytes: int | None = None,
) -> Environment:
    """A fresh environment of the recorded suites and backends (the one place verify builds them).

    Non-suite backends (BFCL classes, MCP servers) are described by their run's ``BackendConfig``s and
    built by :func:`hardgen.environment.backends.build_environment`, which knows every backend kind.
    """
    from hardgen.config import BackendConfig, EnvironmentConfig
    from hardgen.environment.backends import build_environment as build_from_config

    options: dict[str, object] = {"backends": [BackendConfig.model_validate(b) for b in backends or []]}
    if time_limit_s is not None:
        options["time_limit_s"] = time_limit_s
    if max_output_bytes is not None:
        options["max_output_bytes"] = max_output_bytes
    return build_from_config(list(suites), EnvironmentConfig.model_validate(options))


def verify_file(path: str | Path, fmt: str | None = None) -> VerifyReport:
    """Re-execute every trajectory of an exported file (format detected unless given).

    Raises:
        ExportError: when the file cannot be read as a hardgen export at all.
    """
    from hardgen.export import detect_format
    from hardgen.export.manifest import check_manifest

    p = Path(path)
    check = check_manifest(p)
    recorded = check.manifest.get("format") if check.manifest else None
    report = VerifyReport(
        path=str(path),
        format=fmt or (recorded if isinstance(recorded, str) else "unknown"),
        integrity=list(check.problems),
        manifest=check.manifest is not None,
    )
    try:
        report.format = fmt or detect_format(p)
        verify_replays(read_replays(p, report.format), report)
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{path}: not a hardgen export (byte {exc.start} is not UTF-8 text: a binary or damaged file)"
        ) from None
    except ExportError as exc:
        if not report.integrity:
            raise
        report.integrity.append(f"the file cannot be read: {exc}")
        return report
    if check.trajectories is not None and check.trajectories != report.trajectories:
        report.integrity.append(
            f"it holds {report.trajectories} trajectories; "
            f"the manifest says {check.trajectories} were exported"
        )
    return report


def verify_path(path: str | Path) -> list[VerifyReport]:
    """Verify an exported file, or every export in a folder and its subfolders (one report per export).

    Raises:
        ExportError: when the path is neither an export nor a folder holding one.
    """
    from hardgen.export.manifest import FOLDER_MANIFEST, MANIFEST_SUFFIX

    p = Path(path)
    if not p.is_dir() or (p / "state.json").exists():
        return [verify_file(p)]
    # Every export in the folder and below it, found by its manifest (an hf folder holds its own).
    targets = sorted(
        m.parent if m.name == FOLDER_MANIFEST else m.with_name(m.name.removesuffix(MANIFEST_SUFFIX))
        for m in p.rglob(f"*{MANIFEST_SUFFIX}")
    )
    if not targets:
        targets = sorted(
            f for f in p.iterdir() if f.suffix in (".jsonl", ".parquet") and not f.name.startswith(".")
        )
    if not targets and (p / "dataset_info.json").exists():
        return [verify_file(p)]
    if not targets:
        raise ExportError(f"{p} holds no hardgen export (no manifest, .jsonl or .parquet file)")
    return [verify_file(t) for t in targets]


def verify_replays(replays: Iterable[Replay], report: VerifyReport) -> VerifyReport:
    for replay in replays:
        report.trajectories += 1
        report.steps += len(replay.steps)
        report.calls += sum(len(s.calls) for s in replay.steps)
        report.mismatches.extend(verify_replay(replay))
    return report


def verify_replay(replay: Replay) -> list[Mismatch]:
    """Re-execute one trajectory; every difference found (empty when it replays exactly)."""
    meta = replay.meta
    tid = meta.trajectory_id

    def mismatch(kind: str, location: str, expected: str = "", got: str = "") -> Mismatch:
        return Mismatch(tid, replay.where, kind, location, expected, got)

    found = [mismatch(FORMAT_PROBLEM, problem) for problem in replay.problems]
    if len(replay.steps) != meta.steps:
        found.append(
            mismatch(
                FORMAT_PROBLEM, "steps", f"{meta.steps} steps recorded", f"{len(replay.steps)} in the file"
            )
        )
    try:
        env = build_environment(
            meta.suites, meta.backends, time_limit_s=meta.time_limit_s, max_output_bytes=meta.max_output_bytes
        )
    except Exception as exc:  # any failure to build is reported per trajectory, never a crash
        return [*found, mismatch(ENVIRONMENT_PROBLEM, "build", got=f"{type(exc).__name__}: {exc}")]
    try:
        try:
            env.restore(meta.initial_state)
        except Exception as exc:
            return [*found, mismatch(ENVIRONMENT_PROBLEM, "restore", got=f"{type(exc).__name__}: {exc}")]
        for step in replay.steps:
            observations = [env.execute(call) for call in step.calls]
            label = f"turn {step.turn} step {step.step}"
            if step.joined:
                exported = step.observed[0] if step.observed else ""
                if not _same_joined(exported, observations):
                    found.append(mismatch(OBSERVATION_MISMATCH, label, exported, _joined_text(observations)))
                continue
            for i, (call, obs) in enumerate(zip(step.calls, observations, strict=True)):
                exported = step.observed[i] if i < len(step.observed) else ""
                if not _same_content(exported, obs):
                    found.append(
                        mismatch(
                            OBSERVATION_MISMATCH, f"{label} {call.name}", exported, observation_text(obs)
                        )
                    )
        final = env.state_hash()
        if meta.final_state_hash and final != meta.final_state_hash:
            found.append(mismatch(STATE_MISMATCH, "final state", meta.final_state_hash, final))
        elif not meta.final_state_hash:
            found.append(mismatch(FORMAT_PROBLEM, "final state", "no final state hash recorded", final))
    finally:
        env.close()
    return found


def _parsed(text: str) -> JsonValue:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def _same_content(exported: str, obs: Observation) -> bool:
    """Equal as JSON values: key order and spacing do not matter, every value does."""
    return canonical_json(_parsed(exported)) == canonical_json(obs.content())


def _same_joined(exported: str, observations: list[Observation]) -> bool:
    # json.dumps escapes newlines inside strings, so the separator never occurs inside one observation.
    parts = exported.split(PARALLEL_OBSERVATION_SEPARATOR)
    return len(parts) == len(observations) and all(
        _same_content(p, o) for p, o in zip(parts, observations, strict=True)
    )


def _joined_text(observations: list[Observation]) -> str:
    return PARALLEL_OBSERVATION_SEPARATOR.join(observation_text(o) for o in observations)


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 3] + "..."
