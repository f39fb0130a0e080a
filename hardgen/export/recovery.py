"""Recovery examples (``hardgen export --with-recovery``): a failed call, its real error, then the fix.

By default an exported step shows only its verified calls. With ``--with-recovery``, a step that was
solved after a wrong attempt may also show that attempt, when the attempt's calls failed loudly: the
wrong calls, the error the environment really gives for them, then the corrected calls, whose reasoning
opens by reading that error. A model learns from it to read a tool error and fix its call.

An attempt is shown only when everything a reader needs is visible:

* it was judged wrong and parsed into calls, and its reasoning reads as a first answer (attempt 1's
  reasoning, or a refined attempt's ``final_cot``; never reasoning that answers feedback the example
  does not show);
* re-executed on the state just before the step (a restored snapshot, so nothing of the run changes),
  every one of its calls returns an error, and the state is unchanged: a wrong call that returns a
  plausible result (silently wrong) teaches nothing visible, and one that changed the state would
  make the corrected step's recorded results wrong.

Of several such attempts at a step, the last one is shown. The failed assistant message carries
``"weight": 0`` (OpenAI's fine-tuning field; the ``verl-sft`` dataset class gives it no loss), so a
trainer learns the recovery, not the mistake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hardgen.export.common import EnvOptions
from hardgen.schema import Observation, ReasoningAttempt, Step, Trajectory

log = logging.getLogger(__name__)

# The formats whose messages can carry an unsupervised assistant message.
RECOVERY_FORMATS = ("openai", "verl-sft")


@dataclass(frozen=True)
class Recovery:
    """A failed attempt shown before the step that corrects it."""

    cot: str
    observations: list[Observation]  # one error per call of the failed attempt


def shown_reasoning(attempt: ReasoningAttempt) -> str | None:
    """The attempt's reasoning as a first answer, or None when it has none that the example could show."""
    if attempt.attempt <= 1:
        return attempt.cot
    return attempt.final_cot or None


def candidates(step: Step) -> list[tuple[ReasoningAttempt, str]]:
    """The step's wrong attempts that could be shown, with their reasoning, latest first. A no-call
    step has none: a call where none was due is not a failed call the next one fixes."""
    if step.no_call:
        return []
    out = []
    for attempt in step.attempts:
        wrong = attempt.verdict is not None and not attempt.verdict.correct
        if not wrong or attempt.parse_error or not attempt.calls:
            continue
        cot = shown_reasoning(attempt)
        if cot is not None:
            out.append((attempt, cot))
    return out[::-1]


def recovery_cot(recovery: Recovery, cot: str) -> str:
    """The corrected step's reasoning: what the visible error says, then the step's own reasoning."""
    errors = [f"`{o.call.name}` returned an error: {o.error}" for o in recovery.observations]
    note = "\n".join([*errors, "Let me look at the request and the results so far again."])
    return f"{note}\n{cot}" if cot else note


def find_recoveries(trajectory: Trajectory, options: EnvOptions) -> dict[tuple[int, int], Recovery]:
    """The recovery to show before each step (by turn and step index), found by re-execution."""
    wanted = {
        (turn.index, step.index): found
        for turn in trajectory.turns
        for step in turn.steps
        if (found := candidates(step))
    }
    if not wanted:
        return {}
    from hardgen.verify import build_environment

    try:
        env = build_environment(
            trajectory.suites,
            options.backends,
            time_limit_s=options.time_limit_s,
            max_output_bytes=options.max_output_bytes,
        )
    except Exception:  # an environment that cannot be rebuilt here: the trajectory goes out as it is
        log.warning("no recovery examples for %s: its environment cannot be built", trajectory.id)
        return {}
    out: dict[tuple[int, int], Recovery] = {}
    try:
        env.restore(trajectory.initial_state)
        for turn in trajectory.turns:
            for step in turn.steps:
                for attempt, cot in wanted.get((turn.index, step.index), []):
                    before, state = env.snapshot(), env.state_hash()
                    observations = [env.execute(c) for c in attempt.calls]
                    unchanged = env.state_hash() == state
                    env.restore(before)
                    if unchanged and all(not o.ok and o.error for o in observations):
                        out[(turn.index, step.index)] = Recovery(cot=cot, observations=observations)
                        break
                for c in step.calls:
                    env.execute(c)
    finally:
        env.close()
    return out
