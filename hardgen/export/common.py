"""What every export format shares: the run source, the ``hardgen`` metadata and the replay records.

A trajectory becomes training text as a sequence of assistant responses (Section 4.1 splits the data at
each of them): one per verified step (its CoT and its calls, several for a parallel step), then the
turn's summary (free text, no call). Observations are shown to the model as the JSON of
:meth:`~hardgen.schema.Observation.content`.

Each exported record also carries :class:`ExportMeta` (as a JSON string, so that Arrow-based loaders
never have to unify the schemas of different environment states): what ``hardgen verify`` needs to
rebuild the environment. The calls and observations themselves are read back from the training content,
so ``verify`` checks what a trainer will actually see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, JsonValue

from hardgen.calls import DEFAULT_CALL_STYLE, CallStyle
from hardgen.schema import JSONDict, Model, Observation, Step, ToolCall, ToolSpec, Trajectory, Turn

FORMAT_VERSION = 1
META_KEY = "hardgen"
RESULTS_FILE = "results.sqlite"

# LLaMA-Factory joins the responses of parallel calls like this (its OpenAI converter); with Qwen-style
# templates, which wrap an observation in <tool_response> tags, it renders one block per call.
PARALLEL_OBSERVATION_SEPARATOR = "\n</tool_response>\n<tool_response>\n"


class ExportError(ValueError):
    """An export or a read-back that cannot proceed; the message says what to fix."""


class ExportMeta(Model):
    """What ``hardgen verify`` needs besides the training content: how to rebuild the environment."""

    format_version: int = FORMAT_VERSION
    trajectory_id: str
    run_id: str = ""
    item: int = 0
    suites: list[str] = Field(default_factory=list)
    backends: list[JSONDict] = Field(
        default_factory=list, description="Non-suite backend configs (BackendConfig dumps) of the run."
    )
    time_limit_s: float | None = None
    max_output_bytes: int | None = None
    initial_state: JSONDict = Field(default_factory=dict)
    final_state_hash: str = ""
    turns: int = 0
    steps: int = 0  # steps with calls (a no-call answer re-executes nothing)
    calls: int = 0
    recovered: int = Field(
        default=0,
        description="Failed attempts shown before the step that corrects them (--with-recovery); "
        "``steps`` and ``calls`` count them too, since the file shows them and verify re-executes them.",
    )

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: object, where: str) -> ExportMeta:
        if not isinstance(text, str) or not text:
            raise ExportError(f"{where}: no {META_KEY!r} metadata; was the file exported by hardgen?")
        try:
            return cls.model_validate_json(text)
        except ValueError as exc:
            raise ExportError(f"{where}: the {META_KEY!r} metadata is not valid: {exc}") from exc


@dataclass(frozen=True)
class EnvOptions:
    """The environment options of a run that change what a call observes."""

    backends: list[JSONDict] = field(default_factory=list)
    time_limit_s: float | None = None
    max_output_bytes: int | None = None

    @classmethod
    def from_settings(cls, settings: object) -> EnvOptions:
        """Read them from the ``settings`` a run stores in its run_info (a dict; anything else: defaults)."""
        env = settings.get("environment") if isinstance(settings, dict) else None
        if not isinstance(env, dict):
            return cls()
        backends = env.get("backends")
        limit = env.get("time_limit_s")
        size = env.get("max_output_bytes")
        return cls(
            backends=[b for b in backends if isinstance(b, dict)] if isinstance(backends, list) else [],
            time_limit_s=float(limit) if isinstance(limit, int | float) else None,
            max_output_bytes=int(size) if isinstance(size, int) else None,
        )


def export_meta(
    trajectory: Trajectory, options: EnvOptions, recoveries: Mapping[tuple[int, int], Any] | None = None
) -> ExportMeta:
    """The metadata of a trajectory; ``recoveries``: the failed attempts shown (their ``observations``)."""
    t = trajectory
    shown = list((recoveries or {}).values())
    return ExportMeta(
        trajectory_id=t.id,
        run_id=t.run_id,
        item=t.item,
        suites=list(t.suites),
        backends=list(options.backends),
        time_limit_s=options.time_limit_s,
        max_output_bytes=options.max_output_bytes,
        initial_state=t.initial_state,
        final_state_hash=t.final_state_hash,
        turns=len(t.turns),
        # what re-executes: call steps (a no-call step has none) and the failed attempts shown
        steps=sum(1 for turn in t.turns for s in turn.steps if s.calls) + len(shown),
        calls=len(t.calls) + sum(len(r.observations) for r in shown),
        recovered=len(shown),
    )


# ------------------------------------------------------------------------------------ the run source


@dataclass
class RunSource:
    """The kept trajectories of one run directory, with what the exporters need to know about the run."""

    run_dir: Path
    run_id: str
    options: EnvOptions
    count: int
    call_format: CallStyle = DEFAULT_CALL_STYLE
    settings: JSONDict = field(default_factory=dict)
    with_recovery: bool = False  # show failed attempts with their real errors (hardgen.export.recovery)

    @classmethod
    def open(cls, run_dir: str | Path) -> RunSource:
        from hardgen.store import ResultStore

        path = Path(run_dir)
        results = path / RESULTS_FILE
        if not results.is_file():
            raise ExportError(
                f"{path} is not a run directory: it has no {RESULTS_FILE} (start one with hardgen run)"
            )
        with ResultStore(results) as store:
            info = store.info()
            count = store.count("kept")
        run_id = info.get("run_id")
        settings = info.get("settings")
        settings = settings if isinstance(settings, dict) else {}
        export = settings.get("export")
        style = export.get("call_format") if isinstance(export, dict) else None
        return cls(
            run_dir=path,
            run_id=run_id if isinstance(run_id, str) and run_id else path.name,
            options=EnvOptions.from_settings(settings),
            count=count,
            call_format="python" if style == "python" else DEFAULT_CALL_STYLE,
            settings=settings,
        )

    def trajectories(self) -> Iterator[Trajectory]:
        """Kept trajectories in item order, read lazily."""
        from hardgen.store import ResultStore

        with ResultStore(self.run_dir / RESULTS_FILE) as store:
            yield from store.trajectories("kept")


def dataset_name(run_id: str) -> str:
    """A dataset name LLaMA-Factory and file systems accept, from a run id."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._-")
    return f"hardgen_{cleaned}" if cleaned else "hardgen"


# ----------------------------------------------------------------------------- content conversions

SYSTEM_TEMPLATES = {"python": "tool_system.j2", "hermes": "tool_system_hermes.j2"}


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hardgen", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    return env


@cache
def _system_prompt_cached(tools_key: str, style: str) -> str:
    tools = [ToolSpec.model_validate(t) for t in json.loads(tools_key)]
    return str(_environment().get_template(SYSTEM_TEMPLATES[style]).render(tools=tools))


def system_prompt(tools: list[ToolSpec], style: CallStyle = "python") -> str:
    """A system message with the tools and the answer format of a call style (what the reward checks)."""
    key = json.dumps([t.model_dump(mode="json") for t in tools], sort_keys=True)
    return _system_prompt_cached(key, style)


def observation_text(observation: Observation) -> str:
    """What the model is shown for one call's result."""
    return json.dumps(observation.content(), ensure_ascii=False)


def joined_observations(observations: list[Observation]) -> str:
    """One message for the results of a (possibly parallel) step, in LLaMA-Factory's convention."""
    return PARALLEL_OBSERVATION_SEPARATOR.join(observation_text(o) for o in observations)


def calls_json(calls: list[ToolCall]) -> list[dict[str, JsonValue]]:
    return [{"name": c.name, "arguments": c.arguments} for c in calls]


def tool_dicts(tools: list[ToolSpec]) -> list[dict[str, JsonValue]]:
    """Tools as ``{name, description, parameters}`` (what LLaMA-Factory's ``tools`` column holds)."""
    return [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools]


def openai_tools(tools: list[ToolSpec]) -> list[JSONDict]:
    return [t.to_openai() for t in tools]


def specs_from_tool_dicts(value: object) -> dict[str, ToolSpec]:
    """Tool specs by name from a ``tools`` value: a JSON string or a list, plain or OpenAI-wrapped."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return {}
    specs: dict[str, ToolSpec] = {}
    if not isinstance(value, list):
        return specs
    for item in value:
        if not isinstance(item, dict):
            continue
        fn = item.get("function") if item.get("type") == "function" else item
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            continue
        params = fn.get("parameters")
        specs[fn["name"]] = ToolSpec(
            name=fn["name"],
            description=str(fn.get("description") or ""),
            parameters=params if isinstance(params, dict) else {"type": "object", "properties": {}},
        )
    return specs


@dataclass(frozen=True)
class Response:
    """One assistant response: a verified step (CoT + calls) or a turn's closing summary (text only)."""

    turn: Turn
    step: Step | None

    @property
    def is_summary(self) -> bool:
        return self.step is None

    @property
    def calls(self) -> list[ToolCall]:
        return self.step.calls if self.step is not None else []


def responses(turn: Turn) -> Iterator[Response]:
    """A turn's assistant responses in order: its steps, then its summary (a turn that ends in a
    no-call answer, an irrelevance turn, has none: that answer closes it)."""
    for step in turn.steps:
        yield Response(turn, step)
    if turn.summary or not (turn.steps and turn.steps[-1].no_call):
        yield Response(turn, None)


def followup_text(turn: Turn) -> str:
    """The user's message after a no-call answer (``""``: none); for a missing_func turn it carries the
    added tools' schemas, since a record has one tools list, which leaves them out."""
    if not turn.followup or not turn.added_tools:
        return turn.followup
    return f"{turn.followup}\n\n{json.dumps(tool_dicts(turn.added_tools), ensure_ascii=False)}"


def call_id(turn: int, step: int, index: int) -> str:
    """A stable tool-call id (OpenAI messages need one to pair a call with its result)."""
    return f"call_{turn}_{step}_{index}"


# -------------------------------------------------------------------------------- replay records


@dataclass
class ReplayStep:
    """One exported step read back: the calls a trainer sees and the results it sees for them.

    ``observed`` holds one text per call, or a single joined text (LLaMA-Factory's parallel format).
    """

    turn: int
    step: int
    calls: list[ToolCall]
    observed: list[str]
    joined: bool = False


@dataclass
class Replay:
    """One exported trajectory read back from a file, ready to be re-executed."""

    meta: ExportMeta
    steps: list[ReplayStep]
    where: str
    problems: list[str] = field(default_factory=list)


def parse_call_objects(value: object, where: str) -> list[ToolCall]:
    """Calls from ``[{"name", "arguments"}]`` (or one such object); arguments may be a JSON string."""
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ExportError(f"{where}: a call must be an object with a name, got {item!r}"[:300])
        args = item.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError as exc:
                raise ExportError(f"{where}: the arguments of {item['name']} are not JSON: {exc}") from exc
        if not isinstance(args, dict):
            raise ExportError(f"{where}: the arguments of {item['name']} are not an object")
        calls.append(ToolCall.model_validate({"name": item["name"], "arguments": args}))
    return calls


def read_jsonl_records(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """Each JSON object line of an exported JSONL file with its location (``name:line``)."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExportError(f"{path}:{n}: not a JSON line: {exc}") from exc
            if not isinstance(rec, dict):
                raise ExportError(f"{path}:{n}: a record must be a JSON object")
            yield rec, f"{path.name}:{n}"
