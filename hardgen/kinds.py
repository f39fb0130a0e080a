"""Turn kinds beyond the base turn: what makes each one, and the guards that keep it honest.

BFCL's multi-turn categories score more than fully specified requests (Base): a request that leaves out
a value (Miss Param), one that needs a tool the model does not have (Miss Func), one asked over large
observations (Long Context), and one no tool fits (irrelevance). A trajectory's turns draw their kind
from ``sampling.turn_kinds``; the first three of those make the right first answer one with **no call**,
which the checker, the reward and the exports treat as a ground truth like any call.

    missing_param  the query leaves out one value a required argument needs (no earlier output gives it):
                   the right reply asks for it; the user's follow-up states it; then the calls.
    missing_func   a tool the chain needs is absent from the tools shown: the right reply says the request
                   cannot be done with the tools at hand; the follow-up adds the tool; then the calls.
    long_context   the session holds many more records (:func:`enlarge_state`); the query singles one out.
    irrelevance    the request comes from another domain's tools (a suite the session does not have):
                   the right reply makes no call, and the turn ends there.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic import JsonValue

from hardgen.agents.offline.text import label, render_value
from hardgen.dataflow import is_trivial, text_contains, values_match
from hardgen.schema import AdvancedParameter, AdvancedTool, HardQuery, ToolSpec, Trace

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# The user's message after a missing_func reply: the tool's schema follows it in the exports.
ADDED_TOOLS_MESSAGE = "I've added the tool you were missing (below). Please go ahead with my request."


def hidden_tool_for(trace: Trace, called_before: Iterable[str]) -> str | None:
    """The tool a missing_func turn hides: the trace's target when no earlier turn called it, else
    another of its tools no earlier turn called (the list of tools is one per trajectory, so a tool
    already used cannot go missing). None: every tool was used before."""
    seen = set(called_before)
    names = list(dict.fromkeys(trace.tool_names))
    if trace.target in names and trace.target not in seen:
        return trace.target
    fresh = [n for n in reversed(names) if n not in seen]
    return fresh[0] if fresh else None


def withheld_parameter(
    tool: AdvancedTool, required: Sequence[JsonValue], rng: random.Random
) -> AdvancedParameter | None:
    """The advanced parameter a missing_param query leaves out: one carrying a value the user must
    give (``required``: the chain's external inputs, no earlier output gives them), a string or a
    number that can be looked for in text. None when the chain has no such input."""
    fit = [
        p
        for p in tool.parameters
        if withholdable(p.value) and any(values_match(p.value, r) for r in required)
    ]
    if not fit:
        return None
    strings = [p for p in fit if isinstance(p.value, str)]
    return rng.choice(strings or fit)


def withholdable(value: JsonValue) -> bool:
    """Whether a missing_param query can leave this value out: a string or a number the follow-up can
    state and a guard can look for in text (not a flag, not a trivial value)."""
    return (
        isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and not is_trivial(value)
        and len(str(value)) >= 2
    )


def without_value(tool: AdvancedTool, name: str) -> AdvancedTool:
    """The advanced tool as the user's first message shows it: the withheld value is unknown (None)."""
    params = [p.model_copy(update={"value": None}) if p.name == name else p for p in tool.parameters]
    return tool.model_copy(update={"parameters": params})


def supply_text(param: AdvancedParameter) -> str:
    """The user's follow-up that states the withheld value."""
    return f"Sorry, I forgot to say: the {label(param.name)} is {render_value(param.value)}."


def combined_query(query: HardQuery, followup: str) -> HardQuery:
    """What the user has said by the time the calls start: the request and the follow-up."""
    return query.model_copy(update={"text": f"{query.text}\n{followup}"})


def withheld_problems(text: str, value: JsonValue) -> list[str]:
    """missing_param guard: the query must not state the value it leaves out."""
    if text_contains(text, value):
        return [f"the query states {value!r}, the value it must leave out for the user to give later"]
    return []


def hidden_tool_problems(shown: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """missing_func guard: a hidden tool must not be among the tools shown for the turn."""
    shown_set = set(shown)
    return [f"the hidden tool {name!r} is among the tools shown" for name in hidden if name in shown_set]


def foreign_suites(own: Sequence[str], candidates: Iterable[str], domains: Mapping[str, str]) -> list[str]:
    """Suites an irrelevance request may come from: none of the session's suites or their domains."""
    own_domains = {domains.get(s, s) for s in own}
    return [s for s in candidates if s not in own and domains.get(s, s) not in own_domains]


def no_call_reason(setup: object) -> str:
    """Why the current answer should make no call, for the Verifier: ``missing_param:<parameter>``,
    ``missing_func`` or ``irrelevance`` (the withheld value itself is never in it)."""
    kind = getattr(setup, "kind", "")
    if kind == "missing_param":
        return f"missing_param:{getattr(setup, 'withheld_param', '')}"
    return str(kind) if kind in ("missing_func", "irrelevance") else ""


def tools_named(specs: Mapping[str, ToolSpec], names: Iterable[str]) -> list[ToolSpec]:
    return [specs[n] for n in names if n in specs]


# ---------------------------------------------------------------------------------------- long context

LONG_LISTING = 20  # a listing this long (items of one list in one observation) makes a long-context turn


GROUP_TARGET = 24  # records a session's own group (its accounts, its messages, ...) grows to


def enlarge_state(
    snapshot: Mapping[str, JsonValue], rng: random.Random, target: int = 60
) -> dict[str, JsonValue]:
    """The session's snapshot with its record collections grown to about ``target`` records each.

    A collection is a list of objects or an object of objects (keyed by id or path) in a suite's state.
    A new record copies an existing one; every field whose values are unique in the collection (ids,
    names, titles, paths: what a query singles a record out by) gets a new value of the same form
    (``T1003`` -> ``T1047``, ``Web Growth`` -> ``Web Growth 12``, ``a/b.txt`` -> ``a/b 12.txt``), and
    every other field takes the value of a random record (references stay valid). The records are real
    state: tools list, filter and act on them like on the others.

    Listings mostly read the session's own records (the signed-in user's accounts, the messages sent to
    them), so those are grown first: a record belongs to a user when it refers to one who can sign in
    (:func:`_session_refs`) or to a record that does, and each group of such records (by the values it
    refers to: one account's transactions, one user's events) grows to :data:`GROUP_TARGET` copies that
    keep those references. The sign-in records themselves are not copied (a copied login would own
    nothing to list).
    """
    out: dict[str, JsonValue] = {}
    for suite, part in snapshot.items():
        if isinstance(part, dict) and isinstance(part.get("state"), dict):
            state = dict(part["state"])  # type: ignore[arg-type]
            own = _session_refs(state)
            for key, value in list(state.items()):
                grown = _grow(value, rng, target, own)
                if grown is not None:
                    state[key] = grown
            out[suite] = {**part, "state": state}
        else:
            out[suite] = part
    return out


def _records(collection: JsonValue) -> list[tuple[str | None, dict[str, JsonValue]]]:
    """A collection's records with their keys (None in a list), or [] when it is not a collection."""
    if isinstance(collection, list) and len(collection) >= 2 and all(isinstance(r, dict) for r in collection):
        return [(None, r) for r in collection if isinstance(r, dict)]
    if (
        isinstance(collection, dict)
        and len(collection) >= 2
        and all(isinstance(k, str) and isinstance(r, dict) for k, r in collection.items())
    ):
        return [(str(k), r) for k, r in collection.items() if isinstance(r, dict)]
    return []


def _refs(key: str | None, record: Mapping[str, JsonValue], own: set[str]) -> frozenset[str]:
    """The session values a record refers to (in a field or a list field), not counting its own key."""
    found: set[str] = set()
    for field, value in record.items():
        if field == "password":
            return frozenset()  # credentials are not grown as the session's records
        items = value if isinstance(value, list) else [value]
        found.update(v for v in items if isinstance(v, str) and v in own and v != key)
    return frozenset(found)


def _session_refs(state: Mapping[str, JsonValue]) -> set[str]:
    """Who can be the session's user (the keys of records with a password, and the records those name:
    a login's ``user_id``) and, to a fixed point, the keys of the records that refer to them (their
    accounts, then those accounts' cards). The session signs in during the trajectory, so every user
    who can sign in gets their records grown."""
    collections = {name: _records(value) for name, value in state.items()}
    keys = {k for recs in collections.values() for k, _ in recs if k is not None}
    own: set[str] = set()
    for recs in collections.values():
        for k, r in recs:
            if k is not None and "password" in r:
                own.add(k)
                own.update(v for v in r.values() if isinstance(v, str) and v in keys)
    changed = bool(own)
    while changed:
        changed = False
        for recs in collections.values():
            for k, r in recs:
                if k is not None and k not in own and _refs(k, r, own):
                    own.add(k)
                    changed = True
    return own


def _grow(collection: JsonValue, rng: random.Random, target: int, own: set[str]) -> JsonValue | None:
    keyed = _records(collection)
    if not keyed:
        return None
    records = [r for _, r in keyed]
    if any("password" in r for r in records):
        return None  # who can sign in stays as it is: a copy would sign in to an empty session
    unique = _unique_fields(records)
    if not unique and isinstance(collection, list):
        return None
    # what each new record copies: the session's groups first (each to GROUP_TARGET), then any record
    groups: dict[frozenset[str], list[dict[str, JsonValue]]] = {}
    for k, r in keyed:
        refs = _refs(k, r, own)
        if refs:
            groups.setdefault(refs, []).append(r)
    plan: list[tuple[list[dict[str, JsonValue]], frozenset[str]]] = []
    for refs, members in sorted(groups.items(), key=lambda g: sorted(g[0])):
        plan += [(members, refs)] * max(0, GROUP_TARGET - len(members))
    plan += [(records, frozenset())] * max(0, target - len(records) - len(plan))
    if not plan:
        return None
    taken = {f: {str(r.get(f)) for r in records} for f in unique}
    if isinstance(collection, list):
        grown: list[JsonValue] = list(collection)
        for n, (pool, refs) in enumerate(plan, start=len(records)):
            grown.append(_new_record(pool, unique, taken, rng, n, refs))
        return grown
    keys = [k for k, _ in keyed if k is not None]
    taken_keys = set(keys)
    result: dict[str, JsonValue] = dict(collection)  # type: ignore[arg-type]
    for n, (pool, refs) in enumerate(plan, start=len(records)):
        key = _fresh(rng.choice(keys), taken_keys, n)
        taken_keys.add(key)
        record = _new_record(pool, unique, taken, rng, n, refs)
        for field, value in list(record.items()):
            if isinstance(value, str) and value in taken_keys:  # a field holding its own key
                record[field] = key
        result[key] = record
    return result


def _unique_fields(records: Sequence[Mapping[str, JsonValue]]) -> list[str]:
    """Scalar string/int fields present in every record whose values differ from record to record."""
    fields = set(records[0])
    for r in records[1:]:
        fields &= set(r)
    out = []
    for f in sorted(fields):
        values = [r[f] for r in records]
        if any(isinstance(v, str) and (_DATE.match(v) or "@" in v) for v in values):
            continue  # dates and addresses are not renamed: a copy takes another record's
        scalar = all(isinstance(v, str) and v for v in values) or all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        )
        if scalar and len({str(v) for v in values}) == len(values):
            out.append(f)
    return out


def _new_record(
    records: Sequence[Mapping[str, JsonValue]],
    unique: Sequence[str],
    taken: dict[str, set[str]],
    rng: random.Random,
    n: int,
    refs: frozenset[str] = frozenset(),
) -> dict[str, JsonValue]:
    """A copy of one of ``records`` with fresh unique fields; a field holding one of ``refs`` (the
    session values the group shares: its owner, its account) keeps the copied record's value."""
    base = dict(rng.choice(records))
    kept = {f for f, v in base.items() if _holds(v, refs)}
    for field in base:
        if field not in unique and field not in kept:
            donor = rng.choice(records)
            if field in donor:
                base[field] = donor[field]
    for field in unique:
        if field in kept:
            continue
        value = base[field]
        if isinstance(value, int):
            fresh = max(int(v) for v in taken[field]) + 1 + rng.randrange(3)
            taken[field].add(str(fresh))
            base[field] = fresh
        else:
            text = _fresh(str(value), taken[field], n, rng)
            taken[field].add(text)
            base[field] = text
    return base


def _holds(value: JsonValue, refs: frozenset[str]) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v in refs for v in items)


def _fresh(value: str, taken: set[str], n: int, rng: random.Random | None = None) -> str:
    """A new value of the same form as ``value``: an id's number grown past the largest (``T1003`` ->
    ``T1047``), a file name numbered before its extension, words recombined from two taken values
    (``Grace Okafor`` + ``Sofia Rossi`` -> ``Grace Rossi``), else a number appended."""
    match = re.fullmatch(r"(.*?)(\d+)", value)
    if match:
        head, digits = match.groups()
        same = [int(m.group(1)) for t in taken if (m := re.fullmatch(re.escape(head) + r"(\d+)", t))]
        number = max([int(digits), *same]) + 1
        candidate = f"{head}{str(number).zfill(len(digits))}"
    elif re.search(r"\.[A-Za-z0-9]{1,5}$", value):
        stem, _, ext = value.rpartition(".")
        candidate = f"{stem}_{n + 1}.{ext}"
    elif " " in value and rng is not None:
        pool = sorted(t for t in taken if " " in t)
        candidate = value
        for _ in range(12):
            first, second = rng.choice(pool).split(" "), rng.choice(pool).split(" ")
            cut_a, cut_b = max(1, len(first) // 2), len(second) // 2
            candidate = " ".join(first[:cut_a] + second[cut_b:])
            if candidate not in taken:
                break
    else:
        candidate = f"{value}{n + 1}"
    k = n
    while candidate in taken:
        k += 1
        candidate = f"{value} {k + 1}"
    return candidate


def longest_listing(trace: Trace) -> int:
    """The longest list in any observation of the trace (the items a pick is made among)."""
    best = 0

    def walk(node: JsonValue) -> None:
        nonlocal best
        if isinstance(node, list):
            best = max(best, len(node))
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)

    for obs in trace.observations:
        walk(obs.output)
    return best
