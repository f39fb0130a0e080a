"""Dataset statistics of a run (the paper's Figure 3 and Figure 5, plus quality checks).

:func:`compute_stats` returns one JSON object. Shares are fractions in [0, 1]. Keys:

    trajectories             kept trajectories (the dataset)
    items, discarded         work items stored, and how many were discarded
    turns, steps, calls      totals over the kept trajectories
    calls_per_trajectory     mean, min, max and a histogram {"calls": count} (Figure 3, top left)
    share_3plus_calls        share of trajectories with three or more calls (62.1% in the paper)
    multi_turn_share         share with more than one turn (63.7% in the paper; Figure 3, bottom right)
    domains                  share of calls per API domain (Figure 3, bottom left)
    funnel                   per stage, in pipeline order: {"in", "out", "reasons": {reason: count}}
    correct_at_k             share of steps right by attempt k, k = 1..K_max (Figure 5), over every
                             step attempted in the run, kept or discarded
    implicit_bridging_rate   share of kept turns whose calls need a value that appears only in an earlier
                             observation of the turn, not in the query (hardgen.dataflow)
    leaks                    queries naming a primitive tool or stating an intermediate value, and
                             Verifier hints stating a ground-truth value the query does not (hardgen.guards)
    tokens                   token usage by role, and the total
    distinct_tool_chains     number of distinct tool-name sequences among kept trajectories
    turn_kinds               the kept turns by kind (hardgen.kinds): {"configured": the config's shares,
                             "kept": share of kept turns, "counts": kept turns, "no_call_steps": count,
                             "unmade": kept base turns drawn as another kind no chain could carry, by kind}
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import JsonValue

from hardgen.dataflow import hidden_values, needs_implicit_bridging, text_contains
from hardgen.export.common import RESULTS_FILE, ExportError
from hardgen.guards import hint_problems, mentions_tool
from hardgen.schema import Step, Trace, TraceStep, Trajectory, Turn
from hardgen.store import ResultStore

MAX_LEAK_EXAMPLES = 5


def _share(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole else 0.0


def executed_trace(turn: Turn) -> Trace:
    """The turn's verified steps as a trace (what the dataset shows, which may differ in form from the
    sampled ground truth when a call was accepted by state equivalence)."""
    return Trace(steps=[TraceStep(calls=s.calls, observations=s.observations) for s in turn.steps])


@dataclass
class _Accumulator:
    """Everything gathered in one pass over the stored trajectories."""

    calls_per_trajectory: list[int] = field(default_factory=list)
    turns_per_trajectory: list[int] = field(default_factory=list)
    domain_calls: Counter[str] = field(default_factory=Counter)
    chains: set[tuple[str, ...]] = field(default_factory=set)
    steps: int = 0
    parallel_steps: int = 0
    first_correct: list[int | None] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    turns: int = 0
    bridging_turns: int = 0
    queries: int = 0
    queries_naming_tool: int = 0
    queries_with_intermediate: int = 0
    hints: int = 0
    hints_with_truth: int = 0
    examples: list[dict[str, JsonValue]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    no_call_steps: int = 0
    unmade: Counter[str] = field(default_factory=Counter)

    def example(self, kind: str, trajectory: Trajectory, turn: int, text: str) -> None:
        if len(self.examples) < MAX_LEAK_EXAMPLES:
            self.examples.append({"kind": kind, "trajectory": trajectory.id, "turn": turn, "text": text})


def compute_stats(run_dir: str | Path) -> dict[str, JsonValue]:
    """The statistics of a run directory (see the module docstring for the keys).

    Raises:
        ExportError: when the folder is not a run directory.
    """
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise ExportError(f"{run_dir} is not a run directory: it has no {RESULTS_FILE}")
    with ResultStore(path) as store:
        info = store.info()
        items = store.count()
        kept = store.count("kept")
        acc = _Accumulator()
        for trajectory in store.trajectories(None):
            _add(acc, trajectory)
        tokens = store.usage_by_role()
        funnel = _funnel(info.get("funnel"), store)
    k_max = _k_max(info.get("settings"), acc.attempts)
    return {
        "run_id": str(info.get("run_id", "")),
        "trajectories": kept,
        "items": items,
        "discarded": items - kept,
        "turns": sum(acc.turns_per_trajectory),
        "steps": acc.steps,
        "calls": sum(acc.calls_per_trajectory),
        "calls_per_trajectory": distribution(acc.calls_per_trajectory),
        "share_3plus_calls": _share(sum(1 for n in acc.calls_per_trajectory if n >= 3), kept),
        "multi_turn_share": _share(sum(1 for n in acc.turns_per_trajectory if n > 1), kept),
        "parallel_step_share": _share(acc.parallel_steps, acc.steps),
        "domains": {d: _share(n, sum(acc.domain_calls.values())) for d, n in acc.domain_calls.most_common()},
        "funnel": funnel,
        "correct_at_k": _correct_at_k(acc.first_correct, k_max),
        "attempts_per_step": round(statistics.fmean(acc.attempts), 4) if acc.attempts else 0.0,
        "implicit_bridging_rate": _share(acc.bridging_turns, acc.turns),
        "leaks": {
            "queries_checked": acc.queries,
            "queries_naming_tool": acc.queries_naming_tool,
            "queries_with_intermediate_value": acc.queries_with_intermediate,
            "hints_checked": acc.hints,
            "hints_with_ground_truth_value": acc.hints_with_truth,
            "examples": list(acc.examples),
        },
        "tokens": _tokens(tokens),
        "distinct_tool_chains": len(acc.chains),
        "turn_kinds": _turn_kinds(info.get("settings"), acc),
    }


def _turn_kinds(settings: object, acc: _Accumulator) -> dict[str, JsonValue]:
    """The kept turns' kinds against the configured shares (normalised to fractions)."""
    from hardgen.config import TurnKindsConfig
    from hardgen.schema import TURN_KINDS

    raw = settings.get("sampling", {}).get("turn_kinds") if isinstance(settings, dict) else None
    try:
        shares = TurnKindsConfig.model_validate(raw or {}).shares()
    except ValueError:
        shares = TurnKindsConfig().shares()
    total = sum(shares.values())
    turns = sum(acc.kinds.values())
    return {
        "configured": {k: _share(shares[k], total) for k in TURN_KINDS},
        "kept": {k: _share(acc.kinds[k], turns) for k in TURN_KINDS},
        "counts": {k: acc.kinds[k] for k in TURN_KINDS},
        "no_call_steps": acc.no_call_steps,
        "unmade": {k: acc.unmade[k] for k in TURN_KINDS if acc.unmade[k]},
    }


def _add(acc: _Accumulator, t: Trajectory) -> None:
    for turn in t.turns:
        for step in turn.steps:
            _add_step_attempts(acc, step)
        _add_hints(acc, t, turn)
    if t.failed_step is not None:
        _add_step_attempts(acc, t.failed_step)
    if t.status != "kept":
        return
    domains = {spec.name: spec.domain or spec.suite or "unknown" for spec in t.tools}
    calls = t.calls
    acc.calls_per_trajectory.append(len(calls))
    acc.turns_per_trajectory.append(len(t.turns))
    acc.domain_calls.update(domains.get(c.name, "unknown") for c in calls)
    acc.chains.add(tuple(c.name for c in calls))
    tool_names = [spec.name for spec in t.tools]
    context: list[Trace] = []
    for turn in t.turns:
        acc.kinds[turn.kind] += 1
        if turn.unmade_kind:
            acc.unmade[turn.unmade_kind] += 1
        acc.no_call_steps += sum(1 for s in turn.steps if s.no_call)
        acc.steps += len(turn.steps)
        acc.parallel_steps += sum(1 for s in turn.steps if len(s.calls) > 1)
        trace = executed_trace(turn)
        acc.turns += 1
        if needs_implicit_bridging(trace, turn.query.text, context=context):
            acc.bridging_turns += 1
        _add_query(acc, t, turn, tool_names, context)
        context.append(trace)


def _add_step_attempts(acc: _Accumulator, step: Step) -> None:
    if not step.attempts:
        return
    acc.attempts.append(len(step.attempts))
    correct = [a.attempt for a in step.attempts if a.verdict is not None and a.verdict.correct]
    acc.first_correct.append(min(correct) if correct else None)


def _add_query(
    acc: _Accumulator, t: Trajectory, turn: Turn, tool_names: list[str], context: list[Trace]
) -> None:
    text = turn.query.text
    acc.queries += 1
    named = [name for name in tool_names if mentions_tool(text, name)]
    if named:
        acc.queries_naming_tool += 1
        acc.example("query_names_tool", t, turn.index, f"{', '.join(named)}: {text}")
    hidden = [h for h in hidden_values(turn.trace, context=context) if text_contains(text, h.value)]
    if hidden:
        acc.queries_with_intermediate += 1
        acc.example("query_states_intermediate_value", t, turn.index, f"{hidden[0].value!r}: {text}")


def _add_hints(acc: _Accumulator, t: Trajectory, turn: Turn) -> None:
    for step in turn.steps:
        truth_steps = turn.trace.steps
        truth = truth_steps[step.index].calls if step.index < len(truth_steps) else step.calls
        for attempt in step.attempts:
            feedback = attempt.feedback
            if feedback is None:
                continue
            acc.hints += 1
            text = " ".join([feedback.corrective_hint, feedback.root_cause, *feedback.should_reconsider])
            if hint_problems(text, truth, turn.query):
                acc.hints_with_truth += 1
                acc.example("hint_states_ground_truth", t, turn.index, feedback.corrective_hint)


def distribution(values: list[int]) -> dict[str, JsonValue]:
    """Mean, min, max and histogram of a list of counts (calls per trajectory)."""
    if not values:
        return {"mean": 0.0, "min": 0, "max": 0, "histogram": {}}
    counts = Counter(values)
    return {
        "mean": round(statistics.fmean(values), 4),
        "min": min(values),
        "max": max(values),
        "histogram": {str(n): counts[n] for n in sorted(counts)},
    }


def _k_max(settings: object, attempts: list[int]) -> int:
    pipeline = settings.get("pipeline") if isinstance(settings, dict) else None
    k = pipeline.get("k_max") if isinstance(pipeline, dict) else None
    if isinstance(k, int) and k >= 1:
        return k
    return max(attempts, default=1)


def _correct_at_k(first_correct: list[int | None], k_max: int) -> dict[str, JsonValue]:
    total = len(first_correct)
    return {
        str(k): _share(sum(1 for f in first_correct if f is not None and f <= k), total)
        for k in range(1, k_max + 1)
    }


def _funnel(recorded: object, store: ResultStore) -> dict[str, JsonValue]:
    """Per stage: items in, items out, and why the others were discarded there.

    A funnel the pipeline recorded in the run info is used as it is; otherwise the runner computes it
    from the stored items (every item enters the first stage and leaves at the stage that discarded it).
    """
    if isinstance(recorded, dict) and recorded and all(isinstance(v, dict) for v in recorded.values()):
        return dict(recorded)
    from hardgen.runner import funnel

    return {stage: dict(row) for stage, row in funnel(store).items()}


def _tokens(by_role: dict[str, dict[str, int]]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {role: dict(v) for role, v in sorted(by_role.items())}
    total = Counter[str]()
    for values in by_role.values():
        total.update(values)
    out["total"] = dict(total) if total else {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0}
    return out


def summary_rows(stats: dict[str, JsonValue]) -> Iterable[tuple[str, str]]:
    """The headline figures as (label, value) pairs, for the CLI table and the report."""
    cpt = stats["calls_per_trajectory"]
    assert isinstance(cpt, dict)
    yield "trajectories kept", f"{stats['trajectories']} of {stats['items']} items"
    mean = cpt["mean"]
    shown = f"{mean:.2f}" if isinstance(mean, int | float) else "-"
    yield "calls per trajectory", f"{shown} (min {cpt['min']}, max {cpt['max']})"
    yield "3+ calls", _percent(stats["share_3plus_calls"])
    yield "multi-turn", _percent(stats["multi_turn_share"])
    yield "parallel steps", _percent(stats["parallel_step_share"])
    yield "implicit bridging within a turn", _percent(stats["implicit_bridging_rate"])
    cak = stats["correct_at_k"]
    assert isinstance(cak, dict)
    yield "correct at k", ", ".join(f"k={k}: {_percent(v)}" for k, v in cak.items()) or "-"
    yield "distinct tool chains", str(stats["distinct_tool_chains"])
    kinds = stats.get("turn_kinds")
    kept = kinds.get("kept") if isinstance(kinds, dict) else None
    configured = kinds.get("configured") if isinstance(kinds, dict) else None
    if isinstance(kept, dict) and isinstance(configured, dict):
        kinds_shown = [k for k, v in kept.items() if v or configured.get(k)]
        if kinds_shown != ["base"]:
            yield (
                "turn kinds (kept / configured)",
                ", ".join(f"{k} {_percent(kept[k])} / {_percent(configured.get(k))}" for k in kinds_shown),
            )
        unmade = kinds.get("unmade") if isinstance(kinds, dict) else None
        if isinstance(unmade, dict) and unmade:
            yield (
                "turns made as base (no chain for the kind)",
                ", ".join(f"{k} {n}" for k, n in unmade.items()),
            )
    leaks = stats["leaks"]
    assert isinstance(leaks, dict)
    yield (
        "leaks",
        f"{leaks['queries_naming_tool']} queries name a tool, {leaks['queries_with_intermediate_value']} "
        f"state an intermediate value; {leaks['hints_with_ground_truth_value']} hints state a ground truth",
    )
    tokens = stats["tokens"]
    assert isinstance(tokens, dict)
    total = tokens.get("total", {})
    assert isinstance(total, dict)
    prompt, completion = total.get("prompt_tokens", 0), total.get("completion_tokens", 0)
    yield "tokens", f"{prompt:,} prompt + {completion:,} completion"


def _percent(value: object) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "-"
