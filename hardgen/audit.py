"""``hardgen audit``: would a model learn the right thing from this run's data?

The audit reads the kept trajectories of a run (offline or LLM, it makes no difference) the way an ML
engineer reads training data: seeing only what an exported example shows. Each check is a count over a
denominator, with a few examples to look at:

    implicit_bridging     turns where a value from an earlier output (this turn or an earlier one) feeds a
                          later argument and the user never states it (what makes a query hard; the
                          within-turn part is the ``implicit_bridging_rate`` of ``hardgen stats``)
    ghost_reasoning       exported CoTs that speak of an attempt, feedback or a verifier the example does
                          not show ("What was wrong in my previous attempt?")
    ghost_trajectories    trajectories with at least one such CoT
    undo_chains           turns whose calls change something and then undo it on the same entity (join a
                          queue, then leave it; lock, then unlock)
    action_order          turns whose query asks for state-changing actions in the opposite order of the
                          calls (calls of one parallel step have no order; lookups and calculations are no
                          actions)
    values_from_nowhere   turns with an argument value the user never gave: not in the query, the visible
                          conversation, an earlier output, nor a schema default or a forced enum choice
    unresolved_picks      turns that take a value from a list of several candidates where neither the query
                          nor the conversation says which one
    foreign_credentials   turns that log in with an identity taken from an output, not the user's own
    unasked_amounts       turns whose state-changing call uses an amount from an output the user never
                          asked for ("withdraw cash" paying out the whole balance)
    field_dump_summaries  closing summaries that list fields instead of answering; with the ungrammatical,
                          truncated ("... and 4 more value(s)") and cut-off ones counted apart
    raw_field_names       queries and summaries that show raw names instead of words: snake_case identifiers
                          that are no value ("pressure_psi"), or a field named with its unit ("the distance
                          km is")
    misplaced_values      turns whose query states a value with an action that does not use it ("open the
                          workspace: percentile 99.68", where the percentile belongs to a later calculation)
    unanswered_summaries  summaries that leave out most of what the final call returned that the user did not
                          know already (the estimate's net cost, not just the symbol and quantity asked about)
    calls_3plus, calls_at_cap   the calls-per-trajectory distribution against the paper's Figure 3
    query_copies_description    queries that repeat a tool description's first sentence verbatim
    query_skeletons       distinct queries once their values are masked
    distinct_2, distinct_3      n-gram diversity of the queries (distinct n-grams over all n-grams)

:func:`audit_run` returns an :class:`Audit`; ``Audit.to_json()`` is what ``hardgen audit --json`` prints.
The checks are text heuristics over values and words: they are meant to count the problems of a run, and
every count comes with examples so that a reader can judge the verdicts.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from pydantic import JsonValue

from hardgen.dataflow import (
    IntermediateValue,
    argument_values,
    intermediate_values,
    is_trivial,
    output_values,
    text_contains,
    values_match,
)
from hardgen.export.common import RESULTS_FILE, ExportError
from hardgen.schema import Observation, ToolCall, ToolSpec, Trace, Trajectory, Turn
from hardgen.stats import distribution, executed_trace
from hardgen.store import ResultStore

MAX_EXAMPLES = 5
EXAMPLE_CHARS = 400
PAPER_MEAN_CALLS = 3.21
PAPER_SHARE_3PLUS = 0.621


# ------------------------------------------------------------------------------------------ results


@dataclass
class Check:
    """One audit check: ``count`` of ``total`` ``unit`` (turns, CoTs, ...) and a few examples."""

    name: str
    label: str
    unit: str
    count: int = 0
    total: int = 0
    good: str = "low"  # "low": fewer is better; "high": more is better
    reference: str = ""
    detail: dict[str, JsonValue] = field(default_factory=dict)
    examples: list[dict[str, JsonValue]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return round(self.count / self.total, 6) if self.total else 0.0

    def observe(self, hit: bool, where: str = "", text: str = "") -> None:
        """Count one case; keep it as an example when it is a hit."""
        self.total += 1
        if hit:
            self.count += 1
            self.example(where, text)

    def example(self, where: str, text: str) -> None:
        if len(self.examples) < MAX_EXAMPLES:
            short = text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."
            self.examples.append({"where": where, "text": short})

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "label": self.label,
            "count": self.count,
            "total": self.total,
            "unit": self.unit,
            "share": self.share,
            "good": self.good,
            "reference": self.reference,
            "detail": dict(self.detail),
            "examples": list(self.examples),
        }


@dataclass
class Audit:
    run_id: str
    trajectories: int
    turns: int
    steps: int
    checks: list[Check]
    calls_per_trajectory: dict[str, JsonValue]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "run_id": self.run_id,
            "trajectories": self.trajectories,
            "turns": self.turns,
            "steps": self.steps,
            "calls_per_trajectory": dict(self.calls_per_trajectory),
            "checks": {c.name: c.to_json() for c in self.checks},
        }

    def headline(self) -> str:
        """Two lines for the end of ``hardgen run``: the checks as shares, and the calls distribution."""
        if not self.trajectories:
            return "audit: no kept trajectories"
        share = {c.name: _pct(c.share) for c in self.checks}
        cpt = self.calls_per_trajectory
        return (
            f"audit: implicit bridging {share['implicit_bridging']} of turns; reasoning about unseen "
            f"attempts {share['ghost_reasoning']} of CoTs; undo chains {share['undo_chains']}, action-order "
            f"contradictions {share['action_order']}, values from nowhere {share['values_from_nowhere']}, "
            f"unresolved picks {share['unresolved_picks']} of turns\n"
            f"       field-dump summaries {share['field_dump_summaries']}; calls per trajectory "
            f"{_num(cpt.get('mean')):.2f} (3+: {share['calls_3plus']}, at the cap: {share['calls_at_cap']}; "
            f"paper: {PAPER_MEAN_CALLS}, {100 * PAPER_SHARE_3PLUS:.1f}%)"
        )


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def rows(audit: Audit) -> Iterator[tuple[str, str, str, str]]:
    """The audit table as (check, count, of, share) text rows, for the CLI and the report page."""
    for c in audit.checks:
        yield c.label, str(c.count), f"{c.total} {c.unit}", _pct_precise(c.share)


def _pct_precise(share: float) -> str:
    return f"{100 * share:.1f}%"


# ------------------------------------------------------------------------------------------ the run


def audit_run(run_dir: str | Path) -> Audit:
    """Audit the kept trajectories of a run directory.

    Raises:
        ExportError: when the folder is not a run directory.
    """
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise ExportError(f"{run_dir} is not a run directory: it has no {RESULTS_FILE}")
    with ResultStore(path) as store:
        info = store.info()
        cap = _calls_cap(info.get("settings"))
        # One trajectory in memory at a time: the audit's memory stays flat however long the run.
        return audit_trajectories(
            store.trajectories("kept"), run_id=str(info.get("run_id", "")), calls_cap=cap
        )


def _calls_cap(settings: object) -> int | None:
    sampling = settings.get("sampling") if isinstance(settings, dict) else None
    cap = sampling.get("max_calls_per_trajectory") if isinstance(sampling, dict) else None
    return cap if isinstance(cap, int) and cap > 0 else None


def audit_trajectories(
    trajectories: Iterable[Trajectory], *, run_id: str = "", calls_cap: int | None = None
) -> Audit:
    """Audit trajectories (kept ones; see :func:`audit_run` for a run directory)."""
    checks = _new_checks(calls_cap)
    by_name = {c.name: c for c in checks}
    calls: list[int] = []
    queries: list[str] = []
    n_traj = n_turns = n_steps = 0
    for t in trajectories:
        n_traj += 1
        calls.append(len(t.calls))
        specs = {s.name: s for s in t.tools}
        context: list[Trace] = []
        for view in _turn_views(t):
            n_turns += 1
            n_steps += len(view.turn.steps)
            _bridging(by_name["implicit_bridging"], view, context)
            _ghost(by_name["ghost_reasoning"], view)
            _undo(by_name["undo_chains"], view)
            _order(by_name["action_order"], view, specs)
            _nowhere(by_name["values_from_nowhere"], view, specs)
            _picks(by_name["unresolved_picks"], view, context)
            _borrowed(by_name, view, context, specs)
            _summary(by_name, view)
            _raw_names(by_name["raw_field_names"], view)
            _misplaced(by_name["misplaced_values"], view, specs)
            _unanswered(by_name["unanswered_summaries"], view)
            _copies(by_name["query_copies_description"], view)
            queries.append(_masked_query(view))
            context.append(view.trace)
        by_name["ghost_trajectories"].observe(
            any(_ghost_phrase(s.cot) for turn in t.turns for s in turn.steps), t.id, t.id
        )
    _calls(by_name, calls, calls_cap)
    _diversity(by_name, queries)
    return Audit(
        run_id=run_id,
        trajectories=n_traj,
        turns=n_turns,
        steps=n_steps,
        checks=checks,
        calls_per_trajectory=distribution(calls),
    )


def _new_checks(cap: int | None) -> list[Check]:
    return [
        Check(
            "implicit_bridging",
            "implicit bridging",
            "turns",
            good="high",
            reference="issue 12 aim: at least 85%",
        ),
        Check("ghost_reasoning", "reasoning about unseen attempts", "CoTs"),
        Check("ghost_trajectories", "trajectories with such reasoning", "trajectories"),
        Check("undo_chains", "undo chains", "turns"),
        Check("action_order", "action-order contradictions", "turns"),
        Check("values_from_nowhere", "values from nowhere", "turns"),
        Check("unresolved_picks", "unresolved picks among candidates", "turns"),
        Check("foreign_credentials", "log-ins with credentials the user never gave", "turns"),
        Check("unasked_amounts", "amounts the user never asked for", "turns"),
        Check("field_dump_summaries", "field-dump summaries", "summaries"),
        Check("ungrammatical_summaries", "ungrammatical summaries", "summaries"),
        Check("truncated_summaries", "summaries cut off or '... N more'", "summaries"),
        Check("raw_field_names", "raw field names in queries and summaries", "texts"),
        Check("misplaced_values", "values stated with an action that does not use them", "turns"),
        Check("unanswered_summaries", "summaries that leave out the answer", "summaries"),
        Check(
            "calls_3plus",
            "trajectories with 3+ calls",
            "trajectories",
            good="paper",
            reference=f"paper (Figure 3): {100 * PAPER_SHARE_3PLUS:.1f}%, mean {PAPER_MEAN_CALLS}",
        ),
        Check(
            "calls_at_cap",
            f"trajectories at the cap of {cap} calls" if cap else "trajectories at the calls cap",
            "trajectories",
            reference="issue 12 aim: at most 5%",
        ),
        Check("query_copies_description", "queries copying a tool description", "queries"),
        Check("query_skeletons", "distinct query skeletons", "queries", good="high"),
        Check("distinct_2", "distinct 2-grams (queries)", "2-grams", good="high"),
        Check("distinct_3", "distinct 3-grams (queries)", "3-grams", good="high"),
    ]


# ------------------------------------------------------------------------------------- turn views


@dataclass
class _TurnView:
    """One kept turn with what the example shows before it."""

    trajectory: Trajectory
    turn: Turn
    trace: Trace
    earlier: list[Turn]

    @property
    def where(self) -> str:
        return f"{self.trajectory.id} turn {self.turn.index}"

    @property
    def query(self) -> str:
        return self.turn.query.text

    def user_text(self) -> str:
        """What the user has said so far: this turn's query and the earlier ones (with the follow-up
        that gives a value the query left out, in a missing_param turn)."""
        said = [x for t in [*self.earlier, self.turn] for x in (t.query.text, t.followup) if x]
        return "\n".join(said)

    def visible_text(self) -> str:
        """What the user and the assistant said before this turn's calls: queries and summaries."""
        texts = [x for t in self.earlier for x in (t.query.text, t.followup, t.summary) if x]
        return "\n".join([*texts, self.query, *([self.turn.followup] if self.turn.followup else [])])


def _turn_views(t: Trajectory) -> Iterator[_TurnView]:
    for i, turn in enumerate(t.turns):
        yield _TurnView(t, turn, executed_trace(turn), list(t.turns[:i]))


# ---------------------------------------------------------------------------------- 1. bridging


def _bridging(check: Check, view: _TurnView, context: Sequence[Trace]) -> None:
    """A value an earlier output produced (this turn, or an earlier turn's output) feeds an argument, and
    the user's messages do not state it. Values the user gave in an earlier turn do not count."""
    said = view.user_text()
    found = []
    for iv in intermediate_values(view.trace, context=context):
        if text_contains(said, iv.value):
            continue
        if iv.from_context and not _from_earlier_output(iv.value, context):
            continue
        found.append(iv)
    within = any(not iv.from_context for iv in found)
    if within:
        check.detail["within_turn"] = int(_num(check.detail.get("within_turn"))) + 1
    text = ""
    if found:
        iv = found[0]
        source = "an earlier turn" if iv.from_context else f"call {iv.source_call} ({iv.source_tool})"
        text = f"{iv.tool}.{iv.parameter} = {iv.value!r} from {source}; query: {view.query}"
    check.observe(bool(found), view.where, text)


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _from_earlier_output(value: JsonValue, context: Sequence[Trace]) -> bool:
    return any(
        obs.ok and any(values_match(v, value) for v in output_values(obs.output).values())
        for trace in context
        for obs in trace.observations
    )


# ---------------------------------------------------------------------------- 2. ghost reasoning

_GHOST = re.compile(
    r"\b(?:previous|earlier|last|prior|failed|first|wrong|original) (?:attempt|answer|try|tries|solution)s?\b"
    r"|\bwhat was wrong\b|\bwhat went wrong\b"
    r"|\b(?:what does )?the feedback (?:tells?|says?|suggests?|points?|indicates?|shows?|asks?|mean)"
    r"|\b(?:the |this |that |your |my )?(?:reviewer|verifier|checker)(?:'s)?\b"
    r"|\bjudged (?:wrong|incorrect)\b|\bi (?:was|got it) wrong\b|\bmy (?:mistake|error)\b"
    r"|\bcorrected calls?\b|\btry again\b|\bnew execution plan\b|\badjust my approach\b"
    r"|\brevis(?:e|ed|ing) (?:my|the) (?:reasoning|answer|plan|approach|calls?)\b"
    r"|\bi (?:previously|earlier|before) (?:called|tried|made|used)\b"
    r"|\b(?:earlier|previously|last time),? i (?:called|tried|made|used|passed)\b"
    r"|\bi (?:mistakenly|incorrectly|wrongly) (?:called|used|passed|chose|picked|made)\b"
    r"|\b(?:based on|according to|following|per) (?:the|your|this) (?:feedback|review|hint|correction)\b"
    r"|\bthe hint (?:says?|suggests?|tells?|points?)",
    re.IGNORECASE,
)


def _ghost_phrase(cot: str) -> str:
    match = _GHOST.search(cot)
    return match.group() if match else ""


def _ghost(check: Check, view: _TurnView) -> None:
    """Judge each step's CoT as exported (the step's ``cot``; the attempts stay in results.sqlite)."""
    for step in view.turn.steps:
        phrase = _ghost_phrase(step.cot)
        check.observe(bool(phrase), f"{view.where} step {step.index}", f"{phrase!r} in: {step.cot}")
        if phrase and step.index == 0:
            check.detail["first_step_of_turn"] = int(_num(check.detail.get("first_step_of_turn"))) + 1
        if step.index == 0:
            check.detail["first_steps"] = int(_num(check.detail.get("first_steps"))) + 1


# -------------------------------------------------------------------------------- 3. undo chains

# A verb and the verbs that undo it. "un"/"de"/"dis" + verb undo the verb too (lock/unlock).
_UNDO: dict[str, frozenset[str]] = {
    verb: frozenset(undo.split())
    for verb, undo in {
        "add": "remove delete", "join": "leave", "follow": "unfollow", "start": "stop end",
        "press": "release", "create": "delete cancel remove", "book": "cancel", "place": "cancel",
        "publish": "delete remove", "send": "delete recall", "register": "remove delete unregister",
        "save": "delete remove", "set": "remove delete cancel unset clear", "apply": "remove",
        "fund": "withdraw", "deposit": "withdraw", "mkdir": "rmdir", "touch": "rm",
        "invite": "uninvite remove", "assign": "unassign", "open": "close", "enable": "disable",
        "activate": "deactivate", "attach": "detach", "engage": "disengage release",
        "inflate": "deflate", "grant": "revoke", "schedule": "cancel", "reserve": "cancel release",
        "insert": "delete remove", "subscribe": "unsubscribe", "hold": "release",
    }.items()
}  # fmt: skip
_SESSION_VERBS = frozenset({"login", "logout", "authenticate", "signin", "signout", "log"})
_UNDO_PREFIXES = ("un", "de", "dis")
_FILLER = frozenset({"to", "from", "the", "a", "an", "my", "of", "for", "on", "in", "at", "with", "by"})


@cache
def _name_words(name: str) -> tuple[str, ...]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return tuple(w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w)


def _all_undo_verbs() -> frozenset[str]:
    return frozenset(_UNDO) | frozenset(v for vs in _UNDO.values() for v in vs)


@cache
def _verb_and_object(name: str) -> tuple[str, frozenset[str]]:
    """The action word of a tool name (skipping a domain prefix such as ``game_``) and the other words."""
    words = _name_words(name)
    known = _all_undo_verbs() | _SESSION_VERBS
    for i, w in enumerate(words):
        if w in known or any(w.startswith(p) and w[len(p) :] in known for p in _UNDO_PREFIXES):
            rest = [x for j, x in enumerate(words) if j != i and x not in _FILLER]
            return w, frozenset(_singular(x) for x in rest[i:] or rest)
    return (words[0] if words else ""), frozenset(_singular(x) for x in words[1:] if x not in _FILLER)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def undoes(first: str, second: str) -> bool:
    """Whether a call of tool ``second`` undoes what tool ``first`` did, by their action words (lock and
    unlock, add and remove, ...; either way round) and the things they act on."""
    a, obj_a = _verb_and_object(first)
    b, obj_b = _verb_and_object(second)
    if not a or not b or a in _SESSION_VERBS or b in _SESSION_VERBS:
        return False
    related = _inverse(a, b) or _inverse(b, a)
    return related and (not obj_a or not obj_b or bool(obj_a & obj_b) or first == second)


def _inverse(verb: str, other: str) -> bool:
    return other in _UNDO.get(verb, frozenset()) or any(other == p + verb for p in _UNDO_PREFIXES)


def _same_entity(first: Observation, second: Observation) -> bool:
    """The second call acts on what the first made or named: each of its values is one of the first's
    arguments or outputs; a call without values acts on the same kind of thing (same object words)."""
    known = [
        *argument_values(first.call.arguments).values(),
        *(output_values(first.output).values() if first.ok else []),
    ]
    values = [v for v in argument_values(second.call.arguments).values() if not is_trivial(v)]
    if values:
        return all(any(values_match(v, k) for k in known) for v in values)
    return bool(_verb_and_object(first.call.name)[1] & _verb_and_object(second.call.name)[1])


def undo_pairs(trace: Trace) -> list[tuple[Observation, Observation]]:
    """Pairs (a change, its undo on the same entity) among a trace's successful calls, in call order."""
    done = [o for o in trace.observations if o.ok and o.changed_state is not False]
    pairs = []
    for i, first in enumerate(done):
        for second in done[i + 1 :]:
            if undoes(first.call.name, second.call.name) and _same_entity(first, second):
                pairs.append((first, second))
    return pairs


def _undo(check: Check, view: _TurnView) -> None:
    pairs = undo_pairs(view.trace)
    text = ""
    if pairs:
        a, b = pairs[0]
        text = f"{a.call.render()} then {b.call.render()}; query: {view.query}"
    check.observe(bool(pairs), view.where, text)


# ------------------------------------------------------------------------------ 4. action order

_READ_VERBS = frozenset({
    "get", "list", "find", "search", "view", "check", "estimate", "lookup", "look", "describe", "preview",
    "read", "show", "track", "stat", "calculate", "compute", "convert", "query", "fetch", "count", "browse",
    "summarize", "predict", "project", "whoami", "pwd", "ls", "cat", "head", "tail", "wc", "grep", "diff",
    "du",
})  # fmt: skip
_COMPUTE_VERBS = frozenset({
    "add", "subtract", "multiply", "divide", "solve", "round", "factor", "compute", "calculate", "convert",
    "estimate", "predict", "project", "raise", "take", "work", "tell", "return", "give", "show", "describe",
    "preview", "summarize", "summarise", "measure", "compare", "test", "check", "count", "fetch", "read",
    "look", "list", "find", "search", "view", "track", "what", "which", "how", "whether",
})  # fmt: skip
_OPENER = re.compile(
    r"^\W*(?:after that|once (?:that|this) is done|once done|then|next|now|also|and)\b[\s,:]*", re.IGNORECASE
)
_ORDER_WORDS = re.compile(r"\b(?:after|before|once|first|prior to|beforehand|afterwards?)\b", re.IGNORECASE)


def _changes_state(obs: Observation, spec: ToolSpec | None) -> bool:
    """Whether a call is an action the user asks for (a lookup or a calculation that only logs itself in
    a history is not, whatever the environment reports): by the environment's flag, and by the verb its
    description opens with ("Solve ...", "Get ...")."""
    if obs.changed_state is False:
        return False
    opening = _name_words(spec.description.split(" ", 1)[0]) if spec is not None and spec.description else ()
    if opening and opening[0] in _READ_VERBS | _COMPUTE_VERBS:
        return False
    return obs.changed_state is True or _verb_and_object(obs.call.name)[0] not in _READ_VERBS


def _mention(
    query: str, call: ToolCall, spec: ToolSpec | None, *, by_verb: bool = True, with_object: bool = False
) -> int | None:
    """Where the query asks for this call: its description's first sentence, else (when ``by_verb``) its
    action word in any inflection; ``with_object``: only when a word of the thing it acts on is said
    too ("add a payment card" is no request for ``add_to_cart``)."""
    folded = query.casefold()
    if spec is not None:
        sentence = _first_sentence(spec.description).casefold()
        if len(sentence) > 12 and sentence in folded:
            return folded.index(sentence)
    verb, objects = _verb_and_object(call.name)
    if not by_verb or len(verb) < 3:
        return None
    if with_object and objects and not any(_word_start_in(folded, o) for o in objects if len(o) > 2):
        return None
    for form in _verb_forms(verb):
        match = re.search(rf"(?<![a-z]){re.escape(form)}(?![a-z])", folded)
        if match:
            return match.start()
    return None


@cache
def _verb_forms(verb: str) -> tuple[str, ...]:
    forms = {verb}
    try:
        from lemminflect import getAllInflections

        for values in getAllInflections(verb, upos="VERB").values():
            forms.update(v.casefold() for v in values)
    except ImportError:  # pragma: no cover - lemminflect is a dependency
        forms.update({verb + "s", verb + "ed", verb + "ing"})
    return tuple(sorted(forms, key=len, reverse=True))


def order_contradiction(query: str, trace: Trace, specs: dict[str, ToolSpec]) -> tuple[str, str] | None:
    """Two state-changing calls of different steps that the query asks for in the opposite order (their
    tool names), if any.

    Queries with ordering words ("after", "before", "first", ...) may legitimately ask in reverse, so
    they are not judged ("After that, ..." opening a later turn is no such word). Calls of one parallel
    step have no order; session calls (log in/out) and a tool called twice are skipped.
    """
    asked = _OPENER.sub("", query.strip())
    if _ORDER_WORDS.search(asked):
        return None
    changing = [
        (index, obs.call)
        for index, step in enumerate(trace.steps)
        for obs in step.observations
        if obs.ok
        and _changes_state(obs, specs.get(obs.call.name))
        and _verb_and_object(obs.call.name)[0] not in _SESSION_VERBS
    ]
    names = Counter(c.name for _, c in changing)
    verbs = Counter(_verb_and_object(c.name)[0] for _, c in changing)
    seen: list[tuple[str, int, int]] = []
    for index, c in changing:
        if names[c.name] > 1:
            continue
        unique_verb = verbs[_verb_and_object(c.name)[0]] == 1
        pos = _mention(asked, c, specs.get(c.name), by_verb=unique_verb)
        if pos is not None:
            seen.append((c.name, index, pos))
    for name_a, step_a, pos_a in seen:
        for name_b, step_b, pos_b in seen:
            if step_a < step_b and pos_a > pos_b:
                return name_a, name_b
    return None


def _order(check: Check, view: _TurnView, specs: dict[str, ToolSpec]) -> None:
    found = order_contradiction(view.query, view.trace, specs)
    text = f"calls {found[0]} then {found[1]}; query: {view.query}" if found else ""
    check.observe(found is not None, view.where, text)


# ------------------------------------------------------------------------- 5. values from nowhere


def nowhere_values(view: _TurnView, specs: dict[str, ToolSpec]) -> list[tuple[ToolCall, str, JsonValue]]:
    """Argument values found neither in what the user said, the visible conversation (earlier calls,
    outputs and summaries), nor the tool's schema (a default, a single enum option, the description)."""
    said = view.visible_text()
    known: list[JsonValue] = []
    for t in view.earlier:
        for step in t.steps:
            for obs in step.observations:
                known.extend(argument_values(obs.call.arguments).values())
                known.extend(output_values(obs.content()).values())
    found = []
    for step in view.turn.steps:
        for call in step.calls:
            spec = specs.get(call.name)
            for path, value in argument_values(call.arguments).items():
                if is_trivial(value) or _stated(said, value) or any(values_match(value, k) for k in known):
                    continue
                if spec is not None and _schema_gives(spec, path, value):
                    continue
                found.append((call, path, value))
        for obs in step.observations:
            known.extend(argument_values(obs.call.arguments).values())
            known.extend(output_values(obs.content()).values())
    return found


def _stated(text: str, value: JsonValue) -> bool:
    if text_contains(text, value):
        return True
    if isinstance(value, str):
        # "window_seat" is stated by "window seat"
        spaced = re.sub(r"[_\-]+", " ", value).strip()
        if spaced != value and text_contains(text, spaced):
            return True
        # "EUR" is stated by "euros", "Headphone" by "Headphones": a word that begins with the value
        if len(value) >= 3 and value[-1].isalpha():
            return _word_start_in(text.casefold(), value.casefold())
        return _date_stated(text, value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value:
        # 1.071247e46 is stated by "1.0712 × 10^46" (how a person writes a number that size)
        for mantissa, exponent in _POWER_OF_TEN.findall(text):
            said = float(mantissa) * 10 ** int(exponent)
            if abs(said - value) <= 1e-3 * abs(value):
                return True
    return False


_POWER_OF_TEN = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:×|x|\*)\s*10\^\s*(-?\d+)")


def _date_stated(text: str, value: str) -> bool:
    """An ISO date or timestamp said as a person says it: "2026-03-30T06:00" by "30 March 2026 at 06:00"
    or "March 30, 2026, 06:00" (the day, the month's name and the year, and the time if it has one)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?", value):
        return False
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return False
    month = calendar.month_name[when.month]
    dates = (f"{when.day} {month} {when.year}", f"{month} {when.day}, {when.year}")
    if not any(d.casefold() in text.casefold() for d in dates):
        return False
    return (
        len(value) == 10
        or f"{when.hour:02d}:{when.minute:02d}" in text
        or f"{when.hour}:{when.minute:02d}" in text
    )


def _word_start_in(folded: str, needle: str) -> bool:
    start = folded.find(needle)
    while start >= 0:
        if start == 0 or not folded[start - 1].isalnum():
            return True
        start = folded.find(needle, start + 1)
    return False


def _schema_gives(spec: ToolSpec, path: str, value: JsonValue) -> bool:
    schema = spec.properties.get(path.split(".", 1)[0].split("[", 1)[0])
    if not isinstance(schema, dict):
        return False
    if "default" in schema and values_match(schema["default"], value):
        return True
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return True
    return text_contains(str(schema.get("description", "")), value) or text_contains(spec.description, value)


def _nowhere(check: Check, view: _TurnView, specs: dict[str, ToolSpec]) -> None:
    found = nowhere_values(view, specs)
    check.detail["values"] = int(_num(check.detail.get("values"))) + len(found)
    text = ""
    if found:
        call, path, value = found[0]
        text = f"{call.name}.{path} = {value!r}; query: {view.query}"
    check.observe(bool(found), view.where, text)


# ---------------------------------------------------------------------------- 6. unresolved picks

# "the third card listed", "my latest order", "the cheapest flight": a position or a rank that singles out
# one candidate ("newest first" describes a sort order and does not).
_POSITION_WORDS = re.compile(
    r"\b(?:the|my|your|our|its|their)\s+(?:very\s+)?(?:first|last|latest|newest|oldest|earliest|most recent|"
    r"cheapest|highest|lowest|largest|smallest|biggest|top|only|primary|default|main|best|next|second|"
    r"third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)|\w+est)\b",
    re.IGNORECASE,
)
_ELEMENT = re.compile(r"^(.*)\[(\d+)\](.*)$")


def unresolved_picks(view: _TurnView, context: Sequence[Trace]) -> list[tuple[str, JsonValue, int]]:
    """Values taken from a list output with several candidates that nothing the user said singles out:
    (the argument, the value, how many candidates)."""
    said = view.user_text()
    if _POSITION_WORDS.search(view.query):
        return []
    outputs = [o.output if o.ok else None for o in view.trace.observations]  # by call index
    found = []
    for iv in intermediate_values(view.trace, context=context):
        if text_contains(said, iv.value):
            continue
        if iv.from_context:
            output = _context_output(context, iv.source_tool, iv.source_path, iv.value)
        else:
            output = outputs[iv.source_call] if 0 <= iv.source_call < len(outputs) else None
        if output is None:
            continue
        candidates = _candidates(output, iv.source_path)
        if candidates is None:
            continue
        chosen, others = candidates
        if len(others) == 0 or _singled_out(said, chosen, others):
            continue
        found.append((f"{iv.tool}.{iv.parameter}", iv.value, len(others) + 1))
    return found


def _context_output(context: Sequence[Trace], tool: str, path: str, value: JsonValue) -> JsonValue:
    for trace in reversed(context):
        for obs in reversed(trace.observations):
            if obs.ok and obs.call.name == tool:
                at = output_values(obs.output).get(path)
                if at is not None and values_match(at, value):
                    return obs.output
    return None


def _candidates(output: JsonValue, path: str) -> tuple[JsonValue, list[JsonValue]] | None:
    """The list element the path points into and the other elements of that list (the innermost list)."""
    match = _ELEMENT.match(path)
    if match is None:
        return None
    list_path, index = match.group(1), int(match.group(2))
    node = _at(output, list_path)
    if not isinstance(node, list) or index >= len(node):
        return None
    chosen = node[index]
    suffix = match.group(3)
    chosen_value = _at(chosen, suffix.lstrip(".")) if suffix else chosen
    others = [
        e for i, e in enumerate(node)
        if i != index and not values_match(_at(e, suffix.lstrip(".")) if suffix else e, chosen_value)
    ]  # fmt: skip
    return chosen, others


def _at(node: JsonValue, path: str) -> JsonValue:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def _singled_out(said: str, chosen: JsonValue, others: list[JsonValue]) -> bool:
    """Whether the user's words name a value of the chosen candidate that no other candidate has."""
    for value in output_values(chosen).values():
        if is_trivial(value) or not text_contains(said, value):
            continue
        if not any(values_match(value, v) for o in others for v in output_values(o).values()):
            return True
    return False


def _picks(check: Check, view: _TurnView, context: Sequence[Trace]) -> None:
    found = unresolved_picks(view, context)
    text = ""
    if found:
        arg, value, n = found[0]
        text = f"{arg} = {value!r}, one of {n} candidates; query: {view.query}"
    check.observe(bool(found), view.where, text)


# ------------------------------------------------------- 6b. credentials and amounts not asked for

_ALL_WORDS = re.compile(
    r"\b(?:all|entire|whole|full|everything|remaining|rest|balance|total|same|that much)\b", re.IGNORECASE
)


def borrowed_values(
    view: _TurnView, context: Sequence[Trace], specs: dict[str, ToolSpec]
) -> tuple[list[str], list[str]]:
    """Values the user did not ask for, taken from an earlier output: (credentials of a log-in, amounts of
    a state-changing call). A log-in must be as the user (who states who they are); an amount the user
    never gave ("withdraw cash" paid out the whole balance) is ill-posed unless they ask for all of it."""
    said = view.user_text()
    credentials = []
    for iv in intermediate_values(view.trace, context=context):
        if text_contains(said, iv.value) or _verb_and_object(iv.tool)[0] not in _SESSION_VERBS:
            continue
        if not _identity_of_user(said, iv, view.trace, context):
            credentials.append(
                f"{iv.tool}.{iv.parameter} = {iv.value!r} from {iv.source_tool or 'an earlier turn'}"
            )
    amounts = [
        f"{iv.tool}.{iv.parameter} = {iv.value!r} from {iv.source_tool or 'an earlier turn'}"
        for iv in unasked_amounts(view.trace, context, said=said, query=view.query, specs=specs)
    ]
    return credentials, amounts


def unasked_amounts(
    trace: Trace,
    context: Sequence[Trace] = (),
    *,
    said: str = "",
    query: str = "",
    specs: dict[str, ToolSpec] | None = None,
) -> list[IntermediateValue]:
    """Numbers a state-changing call takes from an earlier output that the user did not give: a balance,
    a limit or a price read from the state, not the result of a calculation on numbers (the mean the
    user asks to save). ``said`` (what the user said) and ``query`` (which may ask for "all" of it)
    spare the ones the request covers; without them (a trace before its query) every such amount
    counts."""
    observations = trace.observations  # one per call, in call order
    found = []
    for iv in intermediate_values(trace, context=context):
        if not isinstance(iv.value, int | float) or isinstance(iv.value, bool):
            continue
        if said and text_contains(said, iv.value):
            continue
        if _verb_and_object(iv.tool)[0] in _SESSION_VERBS:
            continue
        obs = observations[iv.call_index] if iv.call_index < len(observations) else None
        if obs is None or not _changes_state(obs, (specs or {}).get(iv.tool)):
            continue  # a lookup, or a calculation (raise the saved number to a power) takes no amount
        if _ALL_WORDS.search(query) or _asked_calculation(_producers(iv, trace, context)):
            continue
        found.append(iv)
    return found


def split_picks(trace: Trace) -> list[tuple[str, str]]:
    """Arguments of one turn taken from different items of the same listing, for parameters whose names
    give no side (from/to) that a request could assign them by: two cards taken from one list of cards
    for two calls, which no request can tell apart ("use the card 8869 and the card 8879")."""
    groups: dict[tuple[int, str], dict[int, list[str]]] = {}
    for iv in intermediate_values(trace):
        match = re.match(r"^(.*?)\[(\d+)\]", iv.source_path)
        if iv.from_context or match is None:
            continue
        items = groups.setdefault((iv.source_call, match.group(1)), {})
        items.setdefault(int(match.group(2)), []).append(f"{iv.tool}.{iv.parameter}")
    found = []
    for items in groups.values():
        if len(items) < 2:
            continue
        params = [p for ps in items.values() for p in ps]
        sides = {_side(p.rsplit(".", 1)[-1]) for p in params}
        if "" in sides or len(sides) < len(items):
            found.append((params[0], params[-1]))
    return found


def positional_picks(trace: Trace) -> list[tuple[str, JsonValue]]:
    """Values taken from a list of several records where nothing but the value itself (which the
    request must not state) or its place in the list tells the chosen record apart: "remove the empty
    folder, the sixth entry listed" asks for what the user cannot know before the listing."""
    hidden = intermediate_values(trace)
    outputs = [o.output if o.ok else None for o in trace.observations]
    found = []
    for iv in hidden:
        if iv.from_context or not 0 <= iv.source_call < len(outputs):
            continue
        candidates = _candidates(outputs[iv.source_call], iv.source_path)
        if candidates is None or not candidates[1]:
            continue
        chosen, others = candidates
        tells = [
            v
            for v in (output_values(chosen).values() if isinstance(chosen, dict) else [])
            if not is_trivial(v)
            and not any(values_match(v, h.value) for h in hidden)
            and not any(values_match(v, x) for o in others for x in output_values(o).values())
        ]
        if not tells:
            found.append((f"{iv.tool}.{iv.parameter}", iv.value))
    return found


_SIDES = {
    "from": frozenset(["from", "origin", "departure", "source", "sender", "outbound"]),
    "to": frozenset(["to", "destination", "arrival", "target", "recipient", "receiver"]),
}


def _side(parameter: str) -> str:
    said = set(_name_words(parameter))
    return next((side for side, names in _SIDES.items() if said & names), "")


# "as Grace Okafor", "I'm Grace Okafor", "my name is ...", "this is ...": who the user says they are.
_SELF = r"(?:\bas|\bi'm|\bi am|\bmy name is|\bthis is|\bit's|\bme,?)\s+"


def _said_as_self(said: str, value: JsonValue) -> bool:
    if not isinstance(value, str) or is_trivial(value):
        return False
    name = re.escape(value.strip())
    return bool(
        re.search(rf"{_SELF}{name}(?![\w-])", said, re.IGNORECASE)
        or re.search(rf"(?<![\w-]){name}\s+here\b", said, re.IGNORECASE)
    )


def _producers(iv: IntermediateValue, trace: Trace, context: Sequence[Trace]) -> list[Observation]:
    """The successful calls whose output holds an intermediate value: its source call in this turn, or
    every earlier turn's call that showed it."""
    if not iv.from_context and 0 <= iv.source_call < len(trace.observations):
        return [trace.observations[iv.source_call]]
    return [
        obs
        for earlier in context
        for obs in earlier.observations
        if obs.ok and any(values_match(iv.value, v) for v in output_values(obs.output).values())
    ]


def _identity_of_user(said: str, iv: IntermediateValue, trace: Trace, context: Sequence[Trace]) -> bool:
    """Whether a log-in's identity taken from an output is the user's own: the call that found it was
    given (or its record shows) a name, username or e-mail the user says is theirs ("log me in as Grace
    Okafor", "I'm Grace Okafor"), not a name the user only asked about."""
    for obs in _producers(iv, trace, context):
        known = list(argument_values(obs.call.arguments).values())
        record = _record_holding(obs.output, iv.value)
        known += [v for v in record.values() if not isinstance(v, dict | list)]
        if any(_said_as_self(said, v) for v in known if not values_match(v, iv.value)):
            return True
    return False


def _record_holding(output: JsonValue, value: JsonValue) -> dict[str, JsonValue]:
    """The innermost object of an output that holds ``value`` as one of its fields."""
    if isinstance(output, dict):
        for v in output.values():
            found = _record_holding(v, value) if isinstance(v, dict | list) else {}
            if found:
                return found
        if any(values_match(v, value) for v in output.values() if not isinstance(v, dict | list)):
            return output
    elif isinstance(output, list):
        for v in output:
            found = _record_holding(v, value)
            if found:
                return found
    return {}


def _asked_calculation(producers: Sequence[Observation]) -> bool:
    """Whether an amount is the result of a calculation the user asked for: a call that took only
    numbers ("save the mean of 4, 8 and 9 in memory", "divide the factorial by ..."). A
    balance or a limit read from the user's accounts is no such
    result: "withdraw cash" paying out the whole balance stays an amount the user never gave."""
    for obs in producers:
        values = list(argument_values(obs.call.arguments).values())
        numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        other = [v for v in values if v not in numeric and not is_trivial(v)]
        if numeric and not other:
            return True
    return False


def _borrowed(
    by_name: dict[str, Check], view: _TurnView, context: Sequence[Trace], specs: dict[str, ToolSpec]
) -> None:
    credentials, amounts = borrowed_values(view, context, specs)
    by_name["foreign_credentials"].observe(
        bool(credentials), view.where, "; ".join(credentials[:1]) + f"; query: {view.query}"
    )
    by_name["unasked_amounts"].observe(
        bool(amounts), view.where, "; ".join(amounts[:1]) + f"; query: {view.query}"
    )


# --------------------------------------------------------------------------------- 7. summaries

_INDEXES = re.compile(r"\[\d+\]")
_MORE_VALUES = re.compile(r"\band \d+ more (?:value|item|field|result)", re.IGNORECASE)
_PRONOUN_VERB = re.compile(r"\b(?:I|we|you|they|it)\s+([a-z]+ed)\b")
_HEDGED_PLURAL = re.compile(r"\w\(s\)")
_DOUBLED = re.compile(r"\b([a-z]{2,})\s+\1\b", re.IGNORECASE)
_END = re.compile(r"[.!?)\"'»”]\s*$")


def summary_problems(summary: str, observations: Sequence[Observation] = ()) -> list[str]:
    """Why a closing summary is not an answer a person would write (an empty list: it reads fine).

    ``truncated``: it ends mid-sentence or says "... and 4 more value(s)"; ``field_dump``: it labels values
    with the outputs' field names ("agent id AG108, name Julia Novak") instead of answering;
    ``ungrammatical``: a past tense that is no English word ("I lookuped"), a hedged plural
    ("value(s)") or a doubled word.
    """
    problems = []
    text = summary.strip()
    if _MORE_VALUES.search(text) or (text and (not _END.search(text) or text.endswith(("...", "…")))):
        problems.append("truncated")
    if _is_field_dump(text, observations):
        problems.append("field_dump")
    bad = [w for w in _PRONOUN_VERB.findall(text) if not _known_verb_form(w)]
    if bad or _HEDGED_PLURAL.search(text) or _DOUBLED.search(text):
        problems.append("ungrammatical")
    return problems


def _is_field_dump(text: str, observations: Sequence[Observation]) -> bool:
    """Values labelled with their output field names: two such pairs, or a list after a colon made of
    nothing else; "and N more value(s)" is a dump too."""
    if _MORE_VALUES.search(text):
        return True
    pairs = _field_pairs(observations)
    if sum(1 for p in pairs if text_contains(text, p)) >= 2:
        return True
    for clause in re.split(r"(?<=[.!?])\s+", text):
        if ":" not in clause:
            continue
        tail = clause.split(":", 1)[1].strip().rstrip(".")
        items = [x.strip().casefold() for x in re.split(r",\s*|\s+and\s+", tail) if x.strip()]
        if items and all(x in pairs for x in items):
            return True
    return False


def _field_pairs(observations: Sequence[Observation]) -> set[str]:
    """ "<field name> <its value>" for every scalar of the outputs ("agent id ag108"), casefolded."""
    pairs = set()
    for obs in observations:
        if not obs.ok:
            continue
        for path, value in output_values(obs.output).items():
            key = _INDEXES.sub("", path).rsplit(".", 1)[-1]
            if not key or value is None:
                continue
            label = " ".join(_name_words(key))
            rendered = (
                ["yes", "true"] if value is True else ["no", "false"] if value is False else [str(value)]
            )
            for v in rendered:
                pairs.update({f"{label} {v}".casefold(), f"{label}: {v}".casefold()})
    return pairs


@cache
def _known_verb_form(word: str) -> bool:
    from lemminflect import getLemma

    return bool(getLemma(word.casefold(), upos="VERB", lemmatize_oov=False))


def _summary(by_name: dict[str, Check], view: _TurnView) -> None:
    problems = summary_problems(view.turn.summary, [o for s in view.turn.steps for o in s.observations])
    for name, problem in (
        ("field_dump_summaries", "field_dump"),
        ("ungrammatical_summaries", "ungrammatical"),
        ("truncated_summaries", "truncated"),
    ):
        by_name[name].observe(problem in problems, view.where, view.turn.summary)


# ------------------------------------------------------------------- 7b. words, places, answers

_SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")
_UNIT_WORDS = frozenset(
    {"km", "kmh", "mph", "psi", "percent", "pct", "c", "minutes", "hours", "days", "kg", "liters"}
)


def raw_names(text: str, values: Sequence[JsonValue], keys: Iterable[str] = ()) -> list[str]:
    """Raw names a person would not write: snake_case identifiers that are none of ``values`` (the
    arguments and outputs the text may quote), and output fields named with their unit ("distance km"
    for ``distance_km``) among ``keys``."""
    found = [m.group() for m in _SNAKE.finditer(text) if not any(_quotes(m.group(), v) for v in values)]
    folded = text.casefold()
    for key in keys:
        words = _name_words(key)
        if (
            len(words) > 1
            and words[-1] in _UNIT_WORDS
            and re.search(rf"\b{re.escape(' '.join(words))}\b", folded)
        ):
            found.append(" ".join(words))
    return found


def _quotes(word: str, value: JsonValue) -> bool:
    return isinstance(value, str) and word.casefold() in value.casefold()


def _raw_names(check: Check, view: _TurnView) -> None:
    values: list[JsonValue] = []
    keys: set[str] = set()
    for step in view.turn.steps:
        for obs in step.observations:
            values.extend(argument_values(obs.call.arguments).values())
            values.extend(output_values(obs.content()).values())
            keys.update(_INDEXES.sub("", p).rsplit(".", 1)[-1] for p in output_values(obs.content()))
    for earlier in view.earlier:
        values.extend(v for c in executed_trace(earlier).calls for v in argument_values(c.arguments).values())
    for what, text in (("query", view.query), ("summary", view.turn.summary)):
        found = raw_names(text, values, keys if what == "summary" else ())
        check.observe(bool(found), f"{view.where} {what}", f"{found[0]!r} in: {text}" if found else "")


_CLAUSE_START = re.compile(r"[.!?,]\s|\bthen\b|\bafter that\b|\balso\b", re.IGNORECASE)


def misplaced_values(
    query: str, trace: Trace, specs: dict[str, ToolSpec]
) -> list[tuple[JsonValue, str, str]]:
    """Values the query states with an action that neither uses them nor is fed by a call that does:
    (the value, the call that uses it, the action it is stated with). A value's action is the last one
    the query asks for (by its verb or description) in the same clause before the value; a value with
    no action before it in its clause is not judged."""
    calls = trace.calls
    feeds: dict[int, set[int]] = {}
    for iv in intermediate_values(trace):
        if iv.source_call >= 0:
            feeds.setdefault(iv.source_call, set()).add(iv.call_index)
    folded = query.casefold()
    found = []
    for call in calls:
        for value in argument_values(call.arguments).values():
            if is_trivial(value) or not text_contains(query, value):
                continue
            at = folded.find(str(value).casefold())
            if at < 0:
                continue
            starts = [m.end() for m in _CLAUSE_START.finditer(folded, 0, at)]
            clause = query[starts[-1] if starts else 0 : at]
            users = {
                i
                for i, c in enumerate(calls)
                if any(values_match(value, v) for v in argument_values(c.arguments).values())
            }
            allowed = set(users)
            todo = list(users)
            while todo:
                for nxt in feeds.get(todo.pop(), set()):
                    if nxt not in allowed:
                        allowed.add(nxt)
                        todo.append(nxt)
            mentioned = [
                (pos, i)
                for i, c in enumerate(calls)
                if (pos := _mention(clause, c, specs.get(c.name), with_object=True)) is not None
            ]
            if not mentioned:
                continue
            last = max(pos for pos, _ in mentioned)
            if not any(i in allowed for pos, i in mentioned if pos == last):
                named = next(i for pos, i in mentioned if pos == last)
                found.append((value, call.name, calls[named].name))
    return found


def _misplaced(check: Check, view: _TurnView, specs: dict[str, ToolSpec]) -> None:
    found = misplaced_values(view.query, view.trace, specs)
    text = ""
    if found:
        value, user, said = found[0]
        text = f"{value!r} (for {user}) stated with {said}; query: {view.query}"
    check.observe(bool(found), view.where, text)


def missing_answer(summary: str, query: str, trace: Trace) -> list[JsonValue]:
    """What the final call returned that the user did not know (no argument, nothing the query says; a
    lookup's ids aside) and the summary does not tell, when it tells fewer than half of them (at most 3
    are asked for); an empty list when it answers. Log-ins and log-outs answer nothing."""
    observations = [o for o in trace.observations if o.ok]
    final = observations[-1] if observations else None
    output = final.output if final is not None else None
    if (
        final is None
        or not isinstance(output, dict)
        or _verb_and_object(final.call.name)[0] in _SESSION_VERBS
    ):
        return []
    given = [v for c in trace.calls for v in argument_values(c.arguments).values()]
    news = [
        v
        for k, v in output.items()
        if isinstance(v, str | int | float)
        and (final.changed_state or not _name_words(k) or _name_words(k)[-1] != "id")  # a lookup's ids
        and not is_trivial(v)
        and not any(values_match(v, g) for g in given)
        and not text_contains(query, v)
    ]
    if not news:
        return []
    told = [v for v in news if text_contains(summary, v) or _stated(summary, v)]
    needed = min(3, (len(news) + 1) // 2)
    return [] if len(told) >= needed else [v for v in news if v not in told]


def _unanswered(check: Check, view: _TurnView) -> None:
    missing = missing_answer(view.turn.summary, view.query, view.trace)
    text = f"leaves out {missing[:4]!r}: {view.turn.summary}" if missing else ""
    check.observe(bool(missing), view.where, text)


# ------------------------------------------------------------------------ 8-10. calls and queries


def _calls(by_name: dict[str, Check], calls: list[int], cap: int | None) -> None:
    for n in calls:
        by_name["calls_3plus"].observe(n >= 3, "", "")
        by_name["calls_at_cap"].observe(cap is not None and n >= cap, "", "")
    by_name["calls_3plus"].examples.clear()
    by_name["calls_at_cap"].examples.clear()


_VALUE_TOKEN = re.compile(
    r"\"[^\"]*\"|(?<!\w)'[^']*'(?!\w)|“[^”]*”|\b[\w.+-]+@[\w-]+\.[\w.]+\b|\b\d[\w:./,-]*\b|\b\w*[_\d]\w*\b"
)


def _masked_query(view: _TurnView) -> str:
    """The query with its values masked: the turn's argument values, quoted text, numbers and ids."""
    text = view.query
    values = [
        v for c in view.trace.calls for v in argument_values(c.arguments).values() if isinstance(v, str | int)
    ]
    masked = sorted({str(v) for v in values if not is_trivial(v)}, key=len, reverse=True)
    if masked:
        alternatives = "|".join(re.escape(v) for v in masked)
        text = re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", "<v>", text, flags=re.IGNORECASE)
    text = _VALUE_TOKEN.sub("<v>", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def copied_description(query: str, tools: Sequence[ToolSpec]) -> str:
    """The first sentence of a tool description (four words or more) that the query repeats verbatim."""
    folded = re.sub(r"\s+", " ", query).casefold()
    for spec in tools:
        sentence = _first_sentence(spec.description)
        if len(sentence.split()) >= 4 and sentence.casefold() in folded:
            return sentence
    return ""


def _first_sentence(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", re.sub(r"\s+", " ", text.strip()), maxsplit=1)[0]
    return first.rstrip(".!?:; ")


def _copies(check: Check, view: _TurnView) -> None:
    sentence = copied_description(view.query, view.trajectory.tools)
    check.observe(bool(sentence), view.where, f"{sentence!r} in: {view.query}")


def _diversity(by_name: dict[str, Check], masked: list[str]) -> None:
    skeletons = Counter(masked)
    check = by_name["query_skeletons"]
    check.count, check.total = len(skeletons), len(masked)
    for skeleton, n in skeletons.most_common(3):
        if n > 1:
            check.example(f"{n} queries", skeleton)
    for n in (2, 3):
        grams: Counter[tuple[str, ...]] = Counter()
        for query in masked:
            tokens = re.findall(r"<v>|[a-z']+", query)
            grams.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        c = by_name[f"distinct_{n}"]
        c.count, c.total = len(grams), sum(grams.values())


__all__ = [
    "Audit",
    "Check",
    "audit_run",
    "audit_trajectories",
    "misplaced_values",
    "missing_answer",
    "raw_names",
    "rows",
    "summary_problems",
    "undoes",
]
