"""The shared data model of hardgen.

Every part of the pipeline exchanges these pydantic models (or plain JSON). LangGraph state holds only
them, so checkpoints round-trip through JSON without loss. All models forbid unknown fields: a typo in a
config, a cassette or an exported file is an error, not a silently dropped value.

Vocabulary (the paper's Table 1):
    trace        Gamma = (C1, E1, ..., CM, EM): executed calls with their observations (Phase I).
    advanced tool T_adv: one high-level operation abstracting a trace (Phase II, eq. 3).
    hard query   Q_hard: a request that needs the whole chain but names none of its steps (eq. 4).
    attempt      one Reasoner output for one step (CoT + calls), checked and maybe diagnosed (Phase III).
    step         one assistant response: one or more calls executed together (a parallel step).
    turn         one user request with its trace, advanced tool, query, steps and closing summary.
    trajectory   N turns in one environment session: the unit of the dataset.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SerializerFunctionWrapHandler, model_serializer

JSONDict = dict[str, JsonValue]


class Model(BaseModel):
    """Base of every hardgen model: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class QuietDefaults(Model):
    """A model whose fields named in ``quiet`` are left out of its JSON while they hold their default:
    fields added later (turn kinds) then leave the data of runs without them byte for byte as before,
    so their dataset hashes and stored items do not change."""

    quiet: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _drop_quiet_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and self.quiet:
            for name, default in _quiet_defaults(type(self)):
                if name in data and getattr(self, name) == default:
                    del data[name]
        return data


_QUIET_DEFAULTS: dict[type[QuietDefaults], tuple[tuple[str, Any], ...]] = {}


def _quiet_defaults(cls: type[QuietDefaults]) -> tuple[tuple[str, Any], ...]:
    """The quiet fields of ``cls`` with their defaults, worked out once per class: asking pydantic for
    a factory's default inspects the factory's signature, which cost more than the serialisation."""
    found = _QUIET_DEFAULTS.get(cls)
    if found is None:
        fields = cls.model_fields
        found = tuple((n, fields[n].get_default(call_default_factory=True)) for n in cls.quiet)
        _QUIET_DEFAULTS[cls] = found
    return found


def canonical_json(value: object) -> str:
    """Serialise JSON data canonically (sorted keys, no spaces) so equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_type_of(value: JsonValue) -> str:
    """The JSON Schema type name of a JSON value (``boolean`` before ``integer``: bool is an int)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def content_hash(value: object) -> str:
    """The sha256 hex digest of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------- tools


class ToolSpec(Model):
    """One tool as a model sees it, in OpenAI function format plus where it comes from."""

    name: str = Field(description="Unique tool name inside an environment.")
    description: str = Field(description="What the tool does, for the model.")
    parameters: JSONDict = Field(description="JSON Schema (type object) of the arguments.")
    returns: JSONDict = Field(
        default_factory=dict, description="JSON Schema of the result, with a description of what it returns."
    )
    suite: str = Field(default="", description="The suite or backend that provides the tool.")
    domain: str = Field(default="", description="The API domain (finance, travel, ...), for statistics.")

    def to_openai(self) -> JSONDict:
        """The OpenAI ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    @property
    def required(self) -> list[str]:
        req = self.parameters.get("required", [])
        return [str(r) for r in req] if isinstance(req, list) else []

    @property
    def properties(self) -> JSONDict:
        props = self.parameters.get("properties", {})
        return props if isinstance(props, dict) else {}


class ToolCall(Model):
    """A call of one tool by name with keyword arguments."""

    name: str
    arguments: JSONDict = Field(default_factory=dict)

    def render(self) -> str:
        """Python-call form used in the paper's ``<tool_call>[f(a=1)]</tool_call>`` format."""
        args = ", ".join(f"{k}={_py_literal(v)}" for k, v in self.arguments.items())
        return f"{self.name}({args})"


def _py_literal(value: JsonValue) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_py_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


class Observation(Model):
    """What executing one ToolCall gave back. Errors are observations too, never exceptions.

    ``error_type`` is namespaced: ``env:*`` for problems found by the environment before or around the
    call (unknown tool, bad arguments, time limit, size cap, a tool that crashed), ``tool:*`` for failures
    a tool reports itself (``tool:precondition`` when another tool has to run first, ``tool:not_found``,
    ``tool:invalid``, ``tool:conflict``, ``tool:permission``, ``tool:failed``).
    """

    call: ToolCall
    ok: bool
    output: JsonValue = None
    error: str | None = None
    error_type: str | None = None
    changed_state: bool | None = Field(
        default=None, description="Whether the call changed the environment's state (None: unknown)."
    )

    def content(self) -> JsonValue:
        """What a model is shown as the tool response."""
        return self.output if self.ok else {"error": self.error}


# -------------------------------------------------------------------------------------------- traces


class TraceStep(Model):
    """One step of a trace: calls with no data dependency between them, executed together."""

    calls: list[ToolCall]
    observations: list[Observation]


class Trace(Model):
    """An executed hard trace Gamma = (C1, E1, ..., CM, EM) grouped into (possibly parallel) steps."""

    target: str | None = Field(default=None, description="The target tool T_a the sampler aimed at.")
    steps: list[TraceStep] = Field(default_factory=list)
    initial_state: JSONDict = Field(
        default_factory=dict,
        description="Environment snapshot before the first call; empty inside a trajectory, whose own "
        "initial_state and earlier turns give it.",
    )
    final_state_hash: str = ""

    @property
    def calls(self) -> list[ToolCall]:
        return [c for s in self.steps for c in s.calls]

    @property
    def observations(self) -> list[Observation]:
        return [o for s in self.steps for o in s.observations]

    @property
    def tool_names(self) -> list[str]:
        return [c.name for c in self.calls]


# --------------------------------------------------------------------------------- phase II artefacts


class AdvancedParameter(Model):
    name: str
    type: str = Field(description="JSON Schema type name: string, integer, number, boolean, array, object.")
    description: str
    value: JsonValue = Field(
        default=None, description="The concrete value in this trace (an external input)."
    )


class AdvancedTool(Model):
    """T_adv: one high-level operation abstracting a whole trace (eq. 3)."""

    name: str
    description: str
    parameters: list[AdvancedParameter] = Field(default_factory=list)
    returns: str = ""
    primitive_tools: list[str] = Field(default_factory=list, description="Tools of the trace it abstracts.")


class HardQuery(Model):
    """Q_hard: a request that needs the whole chain but names none of its steps (eq. 4)."""

    text: str
    advanced_tool: str = ""


# ------------------------------------------------------------------------------------ phase III loop


class TokenUsage(Model):
    role: str
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 1


class CheckVerdict(Model):
    """The function-call checker's verdict on one attempt against the ground truth."""

    correct: bool
    matched_by: Literal["ast", "state", "none"] = "none"
    error_type: str | None = Field(default=None, description="Namespaced, e.g. call:wrong_name.")
    error_location: str | None = None
    detail: str = ""


class VerifierFeedback(Model):
    """Structured diagnosis of a wrong attempt (the paper's Figure 14)."""

    error_type: str
    error_location: str
    root_cause: str
    corrective_hint: str
    should_reconsider: list[str] = Field(default_factory=list)

    def render(self) -> str:
        aspects = ", ".join(self.should_reconsider) or "-"
        return (
            f"Error type: {self.error_type}\nLocation: {self.error_location}\nRoot cause: {self.root_cause}\n"
            f"Hint: {self.corrective_hint}\nReconsider: {aspects}"
        )


class ReasoningAttempt(QuietDefaults):
    """One Reasoner output for one step: CoT and calls, with the checker's verdict and the feedback."""

    attempt: int = Field(ge=1, description="k, from 1 to K_max.")
    cot: str = ""
    final_cot: str = Field(
        default="",
        description=(
            "For a refined attempt (k > 1): reasoning toward the same calls that reads as a first answer "
            "(no word of earlier attempts or feedback). It is what a verified step keeps as its CoT."
        ),
    )
    calls: list[ToolCall] = Field(default_factory=list)
    raw: str = ""
    reply: str = Field(
        default="", description="The words to the user of an answer that makes no call (a no-call step)."
    )
    parse_error: str | None = None
    verdict: CheckVerdict | None = None
    feedback: VerifierFeedback | None = None
    usage: list[TokenUsage] = Field(default_factory=list)

    quiet: ClassVar[tuple[str, ...]] = ("reply",)


class Step(QuietDefaults):
    """One verified assistant step: the calls that were checked correct, their observations, attempts."""

    index: int
    calls: list[ToolCall]
    observations: list[Observation]
    cot: str = ""
    attempts: list[ReasoningAttempt] = Field(default_factory=list)
    reply: str = Field(
        default="",
        description="A no-call step (no calls: the right answer was to make none): what it tells the user.",
    )

    quiet: ClassVar[tuple[str, ...]] = ("reply",)

    @property
    def no_call(self) -> bool:
        return not self.calls


TurnKind = Literal["base", "missing_param", "missing_func", "long_context", "irrelevance"]
TURN_KINDS: tuple[TurnKind, ...] = ("base", "missing_param", "missing_func", "long_context", "irrelevance")


class Turn(QuietDefaults):
    """One user request with its steps; ``kind`` says what the right first answer is.

    ``base`` and ``long_context`` turns are calls from the first step on. The others open with a
    no-call step (``steps[0].calls == []``): ``missing_param`` asks for ``withheld_value``, which the
    user's ``followup`` then gives; ``missing_func`` says the request cannot be done without the
    ``hidden_tools``, which the ``followup`` then adds; ``irrelevance`` says no tool at hand fits and
    the turn ends there (its ``trace`` has no steps).
    """

    index: int
    trace: Trace
    advanced_tool: AdvancedTool
    query: HardQuery
    steps: list[Step] = Field(default_factory=list)
    summary: str = ""
    kind: TurnKind = "base"
    followup: str = Field(default="", description="The user's next message after the no-call reply.")
    withheld_param: str = Field(default="", description="missing_param: the advanced parameter left out.")
    withheld_value: JsonValue = Field(default=None, description="missing_param: its value.")
    hidden_tools: list[str] = Field(
        default_factory=list, description="missing_func: tools absent until the follow-up adds them."
    )
    added_tools: list[ToolSpec] = Field(
        default_factory=list, description="missing_func: the hidden tools' specs, which the follow-up shows."
    )
    unmade_kind: str = Field(
        default="",
        description="The kind drawn for this turn when no chain could carry it: the turn is base instead.",
    )

    quiet: ClassVar[tuple[str, ...]] = (
        "kind",
        "unmade_kind",
        "followup",
        "withheld_param",
        "withheld_value",
        "hidden_tools",
        "added_tools",
    )


class Trajectory(Model):
    """N turns in one environment session: what a run keeps (or discards, with the reason)."""

    id: str
    run_id: str = ""
    item: int = 0
    seed: int = 0
    suites: list[str] = Field(default_factory=list)
    tools: list[ToolSpec] = Field(default_factory=list, description="The primitive tools the model saw.")
    initial_state: JSONDict = Field(default_factory=dict)
    turns: list[Turn] = Field(default_factory=list)
    final_state_hash: str = ""
    status: Literal["kept", "discarded"] = "kept"
    discard_reason: str | None = None
    discard_stage: str | None = None
    failed_turn: int | None = Field(default=None, description="Turn index of the step that exhausted K_max.")
    failed_step: Step | None = Field(
        default=None, description="That step: no verified calls, but every attempt with its feedback."
    )
    usage: list[TokenUsage] = Field(default_factory=list)

    @property
    def calls(self) -> list[ToolCall]:
        return [c for t in self.turns for s in t.steps for c in s.calls]
