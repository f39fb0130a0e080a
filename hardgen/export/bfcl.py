"""BFCL multi-turn test entries: evaluate a model on generated data with BFCL's own checker.

``hardgen export DIR --format bfcl -o FOLDER`` writes the layout of bfcl-eval's multi-turn data::

    FOLDER/BFCL_v4_multi_turn_<name>.json                  one test entry a line
    FOLDER/possible_answer/BFCL_v4_multi_turn_<name>.json  its ground truth, one a line

An entry is ``{"id", "question", "initial_config", "path", "involved_classes", "excluded_function"}``:
one ``question`` turn per trajectory turn (the user's query), the involved classes and their initial
config in BFCL's ``initial_config`` format (with ``random_seed`` where a class draws ids, so BFCL's run
draws the ids hardgen's did), and ``path``, the ``Class.method`` names the answer uses. The ground truth
is ``{"id", "ground_truth"}``: per turn the verified calls as BFCL writes them (``cd(folder='docs')``).
BFCL shows a model every function of the involved classes; ``excluded_function`` is left empty.

Only trajectories that ran on BFCL's classes (``kind: bfcl`` backends) can be written so: BFCL's
checker re-executes the calls on its own classes. Trajectories on built-in suites, catalogs or MCP
servers are skipped (counted in the log); a run with none on BFCL classes is refused with one message.
Every written entry is checked first: BFCL's classes loaded from the written ``initial_config`` must
give exactly the trajectory's initial state (else the trajectory is skipped and the reason counted).

Ids are ``multi_turn_<name>_<item>``: BFCL's checker reads the category from the id (everything before
the last ``_``), and treats an entry as long-context only when that category says ``long_context``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from hardgen.calls import render_call
from hardgen.export.common import EnvOptions, ExportError, RunSource
from hardgen.schema import JSONDict, Trajectory, canonical_json

log = logging.getLogger(__name__)

ANSWER_DIR = "possible_answer"
_STATE_PARTS = ("state", "private", "types", "random")


class NotExpressible(Exception):
    """A trajectory that BFCL's format cannot hold; the message says why (counted, not fatal)."""


def file_name(name: str) -> str:
    return f"BFCL_v4_multi_turn_{_slug(name)}.json"


def entry_id(name: str, item: int) -> str:
    return f"multi_turn_{_slug(name)}_{item}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "hardgen"


def write(source: RunSource, target: Path, stem: str) -> tuple[list[Path], int]:
    """Write the run's BFCL-expressible trajectories into the folder ``target``."""
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file; --format bfcl writes a folder (two JSON-lines files)")
    entries: list[str] = []
    answers: list[str] = []
    skipped: Counter[str] = Counter()
    for trajectory in source.trajectories():
        try:
            entry, answer = to_entry(trajectory, source.options, entry_id(stem, trajectory.item))
        except NotExpressible as exc:
            skipped[str(exc)] += 1
            continue
        entries.append(json.dumps(entry, ensure_ascii=False))
        answers.append(json.dumps(answer, ensure_ascii=False))
    for reason, count in skipped.most_common():
        log.warning("bfcl export: skipped %d trajectories: %s", count, reason)
    if not entries:
        why = "; ".join(f"{n} {r}" for r, n in skipped.most_common(3)) or "the run kept no trajectories"
        raise ExportError(
            "no trajectory of this run can be written as a BFCL multi-turn entry: BFCL's checker re-runs "
            f"calls on BFCL's own classes, so only trajectories on kind: bfcl backends qualify ({why})"
        )
    questions = target / file_name(stem)
    possible = target / ANSWER_DIR / file_name(stem)
    _write_lines(questions, entries)
    _write_lines(possible, answers)
    return [questions, possible], len(entries)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{line}\n" for line in lines))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------ one entry


def to_entry(trajectory: Trajectory, options: EnvOptions, test_id: str) -> tuple[JSONDict, JSONDict]:
    """One trajectory as a BFCL test entry and its ground truth.

    Raises:
        NotExpressible: when the trajectory did not run on BFCL classes only, or its initial state
            cannot be written as BFCL's ``initial_config``.
    """
    kinds = {str(b.get("name") or b.get("kind")): str(b.get("kind")) for b in options.backends}
    others = [s for s in trajectory.suites if kinds.get(s) != "bfcl"]
    if others:
        raise NotExpressible(f"they use environments other than BFCL classes ({', '.join(sorted(others))})")
    configs: dict[str, JSONDict] = {}
    for backend in trajectory.suites:
        snapshot = trajectory.initial_state.get(backend)
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get("state"), dict):
            raise NotExpressible("their initial state has no BFCL snapshot")
        for cls_name, config in _initial_config(snapshot).items():
            if cls_name in configs:
                raise NotExpressible(f"two backends hold {cls_name}; BFCL has one instance per class")
            configs[cls_name] = config
        _check_round_trip(snapshot, configs)
    classes = list(configs)
    owner = _method_owners(classes)
    ground_truth: list[JsonValue] = []
    path: list[JsonValue] = []
    questions: list[JsonValue] = []
    missed: dict[str, JsonValue] = {}
    for turn in trajectory.turns:
        calls = [call for step in turn.steps for call in step.calls]
        for call in calls:
            where = f"{owner.get(call.name, '?')}.{call.name}"
            if call.name not in owner:
                raise NotExpressible(f"a call to {call.name} is no method of the involved BFCL classes")
            if where not in path:
                path.append(where)
        questions.append([{"role": "user", "content": turn.query.text}])
        if turn.steps and turn.steps[0].no_call:
            # BFCL's layout of a turn whose right answer makes no call: that turn's ground truth is
            # empty; the user's follow-up is the next turn (for a missed function an empty turn, at
            # which BFCL adds the function: ``missed_function``), whose ground truth holds the calls.
            ground_truth.append([])
            if turn.kind == "irrelevance":
                continue
            if turn.hidden_tools:
                missed[str(len(questions))] = list(turn.hidden_tools)
                questions.append([])
            else:
                questions.append([{"role": "user", "content": turn.followup}])
        ground_truth.append([render_call(call) for call in calls])  # Python literals, as BFCL writes
    entry: JSONDict = {
        "id": test_id,
        "question": questions,
        "initial_config": dict(configs),
        "path": path,
        "involved_classes": list(classes),
        "excluded_function": [],
    }
    if missed:
        entry["missed_function"] = missed
    return entry, {"id": test_id, "ground_truth": ground_truth}


def _initial_config(snapshot: Mapping[str, Any]) -> dict[str, JSONDict]:
    """BFCL ``initial_config`` entries for the classes of one backend snapshot."""
    from hardgen.environment.backends.bfcl import default_state

    out: dict[str, JSONDict] = {}
    rngs = snapshot.get("random") or {}
    for cls_name, public in snapshot["state"].items():
        rng = rngs.get(cls_name) if isinstance(rngs, dict) else None
        if isinstance(rng, dict) and "state" in rng:
            raise NotExpressible("a random generator had drawn before the first turn")
        if cls_name == "GorillaFileSystem":
            private = snapshot.get("private", {}).get(cls_name, {})
            if private.get("cwd"):
                raise NotExpressible("the file system does not start at its root directory")
            config: JSONDict = {"root": {name: _fs_config(node) for name, node in public["root"].items()}}
        else:
            # Keys left at BFCL's default are left out (the default may be a set, which JSON lacks);
            # BFCL loads a private attribute ``_x`` from the scenario key ``x``.
            default_public, default_private = default_state(cls_name)
            private = snapshot.get("private", {}).get(cls_name, {})
            config = {k: v for k, v in public.items() if not _same(v, default_public, k)}
            config.update({k[1:]: v for k, v in private.items() if not _same(v, default_private, k)})
        if isinstance(rng, dict) and isinstance(rng.get("seed"), int):
            config["random_seed"] = rng["seed"]
        out[cls_name] = config
    return out


def _same(value: JsonValue, defaults: Mapping[str, JsonValue], key: str) -> bool:
    return key in defaults and canonical_json(value) == canonical_json(defaults[key])


def _fs_config(node: Mapping[str, Any]) -> JSONDict:
    """A file-system node of our snapshot as BFCL's scenario writes it (folder order kept)."""
    if node.get("type") != "directory":
        return {"type": "file", "content": node.get("content", "")}
    contents = node.get("contents", {})
    order = node.get("order")
    names = [n for n in order if n in contents] if isinstance(order, list) else sorted(contents)
    names += [n for n in contents if n not in names]
    return {"type": "directory", "contents": {n: _fs_config(contents[n]) for n in names}}


def _check_round_trip(snapshot: Mapping[str, Any], configs: Mapping[str, JSONDict]) -> None:
    """BFCL's classes loaded from ``configs`` must be in exactly the snapshot's state."""
    from hardgen.environment.backends.bfcl import CLASSES, BFCLBackend
    from hardgen.environment.base import EnvironmentConfigError

    classes = [CLASSES[c] for c in snapshot["state"] if c in CLASSES]
    if len(classes) != len(snapshot["state"]):
        raise NotExpressible("their snapshot names a class bfcl-eval does not have")
    try:
        rebuilt = BFCLBackend(
            "bfcl",
            classes,
            {c.name: configs[c.name] for c in classes},
            decontaminate=False,
            bfcl_seeds=True,
        ).snapshot()
    except EnvironmentConfigError as exc:
        raise ExportError(f"--format bfcl: {exc}") from exc
    want = {k: snapshot.get(k) for k in _STATE_PARTS if snapshot.get(k)}
    have = {k: rebuilt.get(k) for k in _STATE_PARTS if rebuilt.get(k)}
    if canonical_json(want) != canonical_json(have):
        raise NotExpressible("their initial state cannot be written as BFCL's initial_config exactly")


def _method_owners(classes: list[str]) -> dict[str, str]:
    from hardgen.environment.backends.bfcl import positional_order

    return {method: cls for cls in classes for method in positional_order(cls)}
