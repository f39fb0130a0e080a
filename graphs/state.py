"""Graph state: schema models and JSON only, so every checkpoint round-trips.

One ``GenerateState`` is one trajectory (one LangGraph thread). The environment travels as the hash of
its snapshot (``env_state``), the snapshot itself being stored once in the run's snapshot store
(:mod:`hardgen.snapshots`): a resumed thread rebuilds the exact environment from it.

Lists that only grow (usage, turns) and the logs of the current turn (steps, attempts) have LangGraph
reducers: a node returns only what it adds, never the whole list again.
"""

from __future__ import annotations

import hashlib
import operator
import random
from typing import Annotated, Literal

from pydantic import Field, JsonValue, SkipValidation

from hardgen.schema import (
    AdvancedTool,
    HardQuery,
    JSONDict,
    Model,
    ReasoningAttempt,
    Step,
    TokenUsage,
    Trace,
    Turn,
    TurnKind,
)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (run seed, item, turn, step, attempt, role): stable across runs."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


class ItemPlan(Model):
    """What one work item will be, fixed by (run seed, item index) alone."""

    item: int
    seed: int
    suites: list[str]
    calls_per_turn: list[int] = Field(description="M for each turn; len() is N, the number of turns.")
    k_max: int = Field(default=3, ge=1, description="Attempts per step before the item is discarded.")
    kinds: list[TurnKind] = Field(
        default_factory=list, description="The kind of each turn (sampling.turn_kinds); empty: all base."
    )

    def kind_of(self, turn: int) -> TurnKind:
        return self.kinds[turn] if turn < len(self.kinds) else "base"


class TurnSetup(Model):
    """How the current turn differs from a base turn (hardgen.kinds); None in the state: a base turn."""

    kind: TurnKind = "base"
    hidden_tools: list[str] = Field(default_factory=list)
    withheld_param: str = ""
    withheld_value: JsonValue = None
    followup: str = ""
    foreign_suites: list[str] = Field(
        default_factory=list, description="irrelevance: the suites the out-of-reach request came from."
    )
    unmade: str = Field(default="", description="A kind drawn for the turn that could not be made (base).")

    @property
    def no_call_first(self) -> bool:
        """Whether the turn's first right answer makes no call."""
        return self.kind in ("missing_param", "missing_func", "irrelevance")


# Environment snapshots are large JSON trees produced by our own code (Environment.snapshot), and
# LangGraph rebuilds the state model before every node: validating them again each time was the
# pipeline's largest CPU cost. Their type stays declared (JSONDict); only the re-check is skipped.
Snapshot = SkipValidation[JSONDict]


def step_log(current: list[Step], update: list[Step]) -> list[Step]:
    """Reducer of ``steps``: an update's steps are appended; an empty update starts a new turn."""
    return [*current, *update] if update else []


def attempt_log(current: list[ReasoningAttempt], update: list[ReasoningAttempt]) -> list[ReasoningAttempt]:
    """Reducer of ``attempts``: an attempt with the number of the last one replaces it (checked, then
    diagnosed), another is appended; an empty update starts a new step."""
    if not update:
        return []
    out = list(current)
    for attempt in update:
        if out and out[-1].attempt == attempt.attempt:
            out[-1] = attempt
        else:
            out.append(attempt)
    return out


class GenerateState(Model):
    """The state of one trajectory's thread (Phase II + III)."""

    run_id: str
    plan: ItemPlan
    env_state: str = Field(default="", description="Hash of the environment's snapshot now; '' = fresh.")
    initial_state: str = Field(default="", description="Hash of the snapshot before turn 1.")
    called: list[str] = Field(default_factory=list, description="T_called across the session (eq. 1).")
    graph_updates: Snapshot = Field(default_factory=dict, description="What sampling learned (item-local).")
    turns: Annotated[list[Turn], operator.add] = Field(default_factory=list, description="Finished turns.")
    trace: Trace | None = None
    advanced_tool: AdvancedTool | None = None
    query: HardQuery | None = None
    steps: Annotated[list[Step], step_log] = Field(
        default_factory=list, description="Verified steps of the current turn."
    )
    setup: TurnSetup | None = Field(default=None, description="The current turn's kind, when not base.")
    attempts: Annotated[list[ReasoningAttempt], attempt_log] = Field(
        default_factory=list, description="Current step's attempts."
    )
    status: Literal["running", "kept", "discarded"] = "running"
    discard_stage: str | None = None
    discard_reason: str | None = None
    usage: Annotated[list[TokenUsage], operator.add] = Field(default_factory=list)

    @property
    def thread(self) -> str:
        """The item's key (its LangGraph thread id): names its live environment and its snapshots."""
        return f"{self.run_id}/{self.plan.item}"

    @property
    def turn_index(self) -> int:
        return len(self.turns)

    @property
    def step_index(self) -> int:
        return len(self.steps)


class SelfEvalState(Model):
    """The state of one tool's self-evaluation thread (Phase I)."""

    run_id: str
    tool: str
    seed: int
    suites: list[str]
    env_state: Snapshot = Field(default_factory=dict)
    trace: Trace | None = None
    advanced_tool: AdvancedTool | None = None
    query: HardQuery | None = None
    target_index: int = 0
    transcript: list[Step] = Field(default_factory=list, description="Current target's executed steps.")
    outcomes: dict[str, str] = Field(
        default_factory=dict, description="Target name -> 'pass' or 'fail: reason'."
    )
    skipped: str | None = Field(default=None, description="Why this tool could not be evaluated.")
    usage: list[TokenUsage] = Field(default_factory=list)
