"""The roles of the pipeline as Protocols, with their inputs as schema models.

Every role takes one input model and returns one output (a schema model) plus the token usage it spent.
Inputs carry a ``seed`` derived from (run seed, item, turn, step, attempt) so deterministic
implementations give the same answer on a resume, whatever the concurrency.

Implementations: ``offline`` (deterministic, no model, the embedded default), ``llm`` (ChatOpenAI against
any OpenAI-compatible endpoint) or any ``"package.module:Class"`` named in the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import Field

from hardgen.config import AgentConfig
from hardgen.schema import (
    AdvancedTool,
    CheckVerdict,
    HardQuery,
    Model,
    Observation,
    QuietDefaults,
    ReasoningAttempt,
    Step,
    TokenUsage,
    ToolCall,
    ToolSpec,
    Trace,
    Turn,
    VerifierFeedback,
)

T = TypeVar("T")


class AgentError(RuntimeError):
    """An agent could not produce a usable output (after its own re-asks and retries).

    The pipeline records ``reason`` (namespaced, e.g. ``llm:malformed_output``, ``llm:unreachable``) and
    discards the item; it never crashes the run.
    """

    def __init__(self, reason: str, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.raw = raw


class EndpointFault(Exception):
    """A model endpoint failed, not the model: never a reason to discard an item.

    ``transient`` faults (unreachable, timeouts, 429, 5xx, broken bodies, past their retries) defer the
    item: its checkpoint is kept and ``hardgen resume`` tries it again. Permanent ones (401/403, unknown
    model, a refused request) stop the run at once with ``str(fault)``: the endpoint, the status and what
    to do. Deliberately not an :class:`AgentError`, so no node can mistake it for the model's failure.
    """

    def __init__(self, reason: str, message: str, *, transient: bool, endpoint: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.transient = transient
        self.endpoint = endpoint


@dataclass
class AgentResult(Generic[T]):
    value: T
    raw: str = ""
    usage: list[TokenUsage] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ inputs


class ToolMakerInput(Model):
    trace: Trace
    tools: list[ToolSpec] = Field(description="Specs of the primitive tools the trace called.")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns of this trajectory.")
    seed: int = 0


class QueryInput(Model):
    advanced_tool: AdvancedTool
    trace: Trace
    tools: list[ToolSpec]
    history: list[Turn] = Field(default_factory=list)
    seed: int = 0


class ReasonerInput(QuietDefaults):
    """Prompt^(k) of the paper: query, primitive tools, the advanced tool as a hint, the history.

    ``failed_attempts`` are this step's earlier wrong attempts, each with its Verifier feedback
    (eq. 5: Prompt^(k+1) = Concat(Prompt^k, Error^k)). ``done_steps`` are the verified steps of this turn
    with their observations (Prompt_{i+1}^(1) = Concat(Prompt_i^(k), C_i, E_i)).
    """

    query: HardQuery
    tools: list[ToolSpec]
    advanced_tool: AdvancedTool
    previous_turns: list[Turn] = Field(default_factory=list)
    done_steps: list[Step] = Field(default_factory=list)
    failed_attempts: list[ReasoningAttempt] = Field(default_factory=list)
    attempt: int = Field(default=1, ge=1)
    seed: int = 0
    no_call_allowed: bool = Field(
        default=False,
        description="The run mixes in turn kinds whose right answer may make no call (all its turns say so).",
    )

    quiet: ClassVar[tuple[str, ...]] = ("no_call_allowed",)


class VerifierInput(QuietDefaults):
    query: HardQuery
    attempt: ReasoningAttempt
    ground_truth: list[ToolCall]
    execution_result: list[Observation] = Field(description="The wrong attempt executed on a copy.")
    verdict: CheckVerdict
    tools: list[ToolSpec] = Field(default_factory=list)
    no_call_reason: str = Field(
        default="",
        description="Set when no call was due: missing_param:<parameter>, missing_func or irrelevance.",
    )
    seed: int = 0

    quiet: ClassVar[tuple[str, ...]] = ("no_call_reason",)


class SummaryInput(Model):
    query: HardQuery
    steps: list[Step]
    seed: int = 0


class TargetInput(Model):
    """Phase I: a model under test gets the hard query and the primitive tools and acts step by step."""

    query: HardQuery
    tools: list[ToolSpec]
    transcript: list[Step] = Field(default_factory=list, description="Its own executed steps so far.")
    seed: int = 0


class TargetAction(Model):
    """The target's next move: calls to execute, or none (it considers the task done)."""

    calls: list[ToolCall] = Field(default_factory=list)
    text: str = ""
    raw: str = ""


# --------------------------------------------------------------------------------------- protocols


@runtime_checkable
class ToolMaker(Protocol):
    async def make_tool(self, inp: ToolMakerInput) -> AgentResult[AdvancedTool]: ...


@runtime_checkable
class QueryGenerator(Protocol):
    async def make_query(self, inp: QueryInput) -> AgentResult[HardQuery]: ...


@runtime_checkable
class Reasoner(Protocol):
    async def reason(self, inp: ReasonerInput) -> AgentResult[ReasoningAttempt]: ...


@runtime_checkable
class Verifier(Protocol):
    async def diagnose(self, inp: VerifierInput) -> AgentResult[VerifierFeedback]: ...


@runtime_checkable
class Summarizer(Protocol):
    async def summarize(self, inp: SummaryInput) -> AgentResult[str]: ...


@runtime_checkable
class TargetModel(Protocol):
    name: str

    async def act(self, inp: TargetInput) -> AgentResult[TargetAction]: ...


ROLE_PROTOCOLS: dict[str, type] = {
    "tool_maker": ToolMaker,
    "query_generator": QueryGenerator,
    "reasoner": Reasoner,
    "verifier": Verifier,
    "summarizer": Summarizer,
    "target": TargetModel,
}


class AgentFactory(Protocol):
    """What a ``"package.module:Class"`` must accept: ``Class(config, role)``."""

    def __call__(self, config: AgentConfig, role: str) -> object: ...
