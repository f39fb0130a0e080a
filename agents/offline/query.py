"""Phase II without a model: the offline Tool Maker (eq. 3) and Hard-Query Generator (eq. 4).

The Tool Maker abstracts a trace into one advanced tool whose parameters are the trace's external
inputs (values no earlier output produced, :func:`hardgen.dataflow.external_inputs`). The Query
Generator turns that tool into a request a user would write: the end goal in the words of the final
tool's description, every external input stated with a label ("the origin city Rivermist"), none of
the primitive tools named and no intermediate value stated.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lemminflect import getInflection, getLemma
from pydantic import JsonValue

from hardgen.agents.offline.book import flag_words, phrase_for
from hardgen.agents.offline.text import (
    ORDINALS,
    ROLE_LABEL,
    action_of,
    family_of,
    first_sentence,
    is_login_tool,
    join_words,
    label,
    lower_first,
    param_description,
    param_schema,
    render_value,
    returns_description,
    role_of,
    schema_types,
    singular,
    unit_of,
    upper_first,
    verb_phrase,
    with_unit,
    words,
)
from hardgen.dataflow import (
    ExternalInput,
    IntermediateValue,
    argument_values,
    carried_values,
    external_inputs,
    hidden_values,
    intermediate_values,
    is_trivial,
    output_values,
    values_match,
)
from hardgen.guards import mentions_tool, query_problems
from hardgen.schema import (
    AdvancedParameter,
    AdvancedTool,
    HardQuery,
    Observation,
    ToolCall,
    ToolSpec,
    Trace,
    json_type_of,
)

SECRET_WORDS = frozenset({"password", "passcode", "pin", "secret", "passphrase"})
USER_WORDS = frozenset({"username", "user", "login", "email", "handle"})


@dataclass
class _Flow:
    """Where the trace's argument values come from, computed once."""

    external: list[ExternalInput]
    intermediate: list[IntermediateValue]
    hidden: list[IntermediateValue]

    @classmethod
    def of(cls, trace: Trace, context: Sequence[Trace] = ()) -> _Flow:
        """With ``context`` (earlier turns' traces), an identifier that an earlier turn's output holds,
        and holds alone (the only ticket id shown so far), is no input: a follow-up refers to it ("the
        ticket") and the model carries it over. Any other value from earlier turns (an amount, a text,
        one id among several) the user states again."""
        external = external_inputs(trace, context=context)
        intermediate = intermediate_values(trace, context=context)
        implicit = carried_values(trace, context)
        carried = [iv for iv in intermediate if not iv.from_context or iv in implicit]
        external += [
            ExternalInput(call_index=iv.call_index, tool=iv.tool, parameter=iv.parameter, value=iv.value)
            for iv in intermediate
            if iv not in carried
        ]
        external.sort(key=lambda e: e.call_index)
        return cls(external, carried, hidden_values(trace, context=context))


# ------------------------------------------------------------------------------------ tool maker


@dataclass
class _Input:
    """One external input of the trace, with every call parameter that consumes it."""

    base: str
    value: JsonValue
    consumers: list[tuple[int, str, str]] = field(default_factory=list)
    role: str = ""
    name: str = ""


def make_advanced_tool(
    trace: Trace, tools: Sequence[ToolSpec], context: Sequence[Trace] = ()
) -> tuple[AdvancedTool, str]:
    """Abstract a trace into an advanced tool; returns the tool and the reasoning behind it."""
    specs = {s.name: s for s in tools}
    calls = trace.calls
    flow = _Flow.of(trace, context)
    inputs = _inputs(trace, flow)
    _name_inputs(inputs, flow)
    parameters = [_parameter(item, specs) for item in inputs]
    primitive = list(dict.fromkeys(c.name for c in calls))
    last = calls[-1].name if calls else "operation"
    tool_name = f"{last}_adv"
    while tool_name in specs:
        tool_name += "_adv"
    goals = [first_sentence(specs[t].description) for t in _sinks(trace, flow) if t in specs]
    goal = upper_first(join_words([lower_first(g) for g in dict.fromkeys(goals)]) or label(last))
    inputs_text = join_words([label(p.name) for p in parameters]) or "nothing else"
    description = f"{goal}, working directly from {inputs_text}; every lookup in between is handled inside."
    tool = AdvancedTool(
        name=tool_name,
        description=description,
        parameters=parameters,
        returns=returns_description(specs[last]) if last in specs else "",
        primitive_tools=primitive,
    )
    lines = [
        f"The trace makes {len(calls)} call(s) of {len(primitive)} tool(s) and ends with `{last}`.",
        "External inputs (no earlier output produced them): "
        + (", ".join(f"{p.name} = {render_value(p.value)}" for p in parameters) or "none")
        + ".",
    ]
    hidden = sorted({f"{iv.tool}.{iv.parameter}" for iv in flow.intermediate if not iv.from_context})
    if hidden:
        lines.append(
            f"Intermediate values ({', '.join(hidden)}) come from earlier outputs: they stay inside the "
            "tool and are not parameters."
        )
    lines.append(f"The end-to-end operation is to {lower_first(goal)}; I call it `{tool_name}`.")
    return tool, "\n".join(lines)


def _parameter(item: _Input, specs: dict[str, ToolSpec]) -> AdvancedParameter:
    _, tool, param = item.consumers[0]
    spec = specs.get(tool)
    schema = param_schema(spec, param) if spec else {}
    kinds = [k for k in schema_types(schema) if k != "null"]
    description = (param_description(spec, param) if spec else "") or f"The {label(item.base)}."
    if item.role:
        description = f"{description.rstrip('.')}. Here: the {ROLE_LABEL[item.role]}."
    return AdvancedParameter(
        name=item.name,
        type=kinds[0] if len(kinds) == 1 else json_type_of(item.value),
        description=description,
        value=item.value,
    )


def _inputs(trace: Trace, flow: _Flow) -> list[_Input]:
    """External inputs grouped by (parameter, value). A list or object argument whose values all come
    from the user is one input; flags and small numbers (too trivial for the data-flow analysis to
    place) that the trace sets are inputs too."""
    produced = {(iv.call_index, _top(iv.parameter)) for iv in flow.intermediate}
    found: list[_Input] = []

    def add(base: str, value: JsonValue, consumer: tuple[int, str, str]) -> None:
        for item in found:
            if item.base == base and (values_match(item.value, value) or item.value == value):
                item.consumers.append(consumer)
                return
        found.append(_Input(base=base, value=value, consumers=[consumer]))

    for index, call in enumerate(trace.calls):
        for param, value in call.arguments.items():
            if value is None:
                continue
            mine = [e for e in flow.external if e.call_index == index and _top(e.parameter) == param]
            from_output = (index, param) in produced
            if isinstance(value, list | dict) and from_output:
                for e in mine:  # part of it was produced: the user's parts are inputs one by one
                    add(_leaf_name(e.parameter), e.value, (index, call.name, param))
            elif mine or (is_trivial(value) and not from_output) or isinstance(value, list | dict):
                add(param, value, (index, call.name, param))
    return found


def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _leaf_name(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0] or _top(path)


def _name_inputs(inputs: list[_Input], flow: _Flow) -> None:
    """Unique names: a parameter seen twice becomes origin_x/destination_x by the role its value plays
    downstream (``city`` leading to ``from_airport``), else xA/xB in the order of the trace."""
    bases = list(dict.fromkeys(i.base for i in inputs))
    for base in bases:
        group = [i for i in inputs if i.base == base]
        if len(group) == 1:
            group[0].name = base
            continue
        roles = [_downstream_role(flow, i.consumers[0][0], i.consumers[0][2]) for i in group]
        if all(roles) and len(set(roles)) == len(roles):
            for item, role in zip(group, roles, strict=True):
                item.role = role
                item.name = f"{ROLE_LABEL[role]}_{base}"
            continue
        for n, item in enumerate(group):
            letter = chr(ord("A") + n) if n < 26 else str(n)
            item.name = f"{base}{letter}" if "_" not in base else f"{base}_{letter.lower()}"
    taken: set[str] = set()
    for item in inputs:
        while item.name in taken:
            item.name += "_2"
        taken.add(item.name)


def _downstream_role(flow: _Flow, call_index: int, param: str, depth: int = 0) -> str:
    """The role (from/to) of the value a call's output goes on to fill, following the data flow."""
    role = role_of(param)
    if role or depth > 6:
        return role
    for iv in flow.intermediate:
        if iv.source_call == call_index:
            found = _downstream_role(flow, iv.call_index, iv.parameter, depth + 1)
            if found:
                return found
    return ""


def _sinks(trace: Trace, flow: _Flow) -> list[str]:
    """The goals' tools, in the order of the calls (see :func:`_sink_calls`)."""
    return [trace.calls[i].name for i in _sink_calls(trace, flow)]


def _sink_calls(trace: Trace, flow: _Flow) -> list[int]:
    """The goals, in the order of the calls: every call whose result no later call consumes, and the last.

    Every goal must be asked for: a call the query does not request would teach a model to act
    unprompted (log out, cancel, delete). Only a log-in stays implicit: it is a prerequisite, and the
    query states the credentials.
    """
    calls = trace.calls
    if not calls:
        return []
    consumed = {iv.source_call for iv in flow.intermediate if iv.source_call >= 0}
    observations = trace.observations
    goals: list[int] = []
    for i, call in enumerate(calls):
        if i < len(calls) - 1 and is_login_tool(call.name):
            continue
        # A consumed read is a bridge the model must find; a consumed write (book, create, send) is
        # still an action the user has to ask for.
        last = i == len(calls) - 1
        if (
            not last
            and i in consumed
            and not _writes(call.name, observations[i] if i < len(observations) else None)
        ):
            continue
        if all(calls[g].name != call.name for g in goals):
            goals.append(i)
    # In the order the calls happen: a request that asks for the last action first contradicts the calls.
    return goals


def _writes(tool_name: str, observation: Observation | None) -> bool:
    """Whether a call changed state: measured by the environment, else guessed from the tool's verb."""
    if observation is not None and observation.changed_state is not None:
        return observation.changed_state
    return family_of(tool_name) not in ("read", "find", "login")


def advanced_tool_json(tool: AdvancedTool) -> str:
    """The Tool Maker's answer in the paper's output format (Figure 11)."""
    data = {
        "advanced_tool_name": tool.name,
        "description": tool.description,
        "parameters": [
            {"name": p.name, "type": p.type, "description": p.description, "value": p.value}
            for p in tool.parameters
        ],
        "returns": tool.returns,
        "primitive_tools": tool.primitive_tools,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


# ------------------------------------------------------------------------------- query generator

_OPENERS = {
    "read": [
        "Could you {intent}{details}?",
        "I need you to {intent}{details}.",
        "Please {intent}{details}.",
        "Would you {intent}{details}?",
        "Can you {intent}{details}?",
    ],
    "find": [
        "Can you {intent}{details}?",
        "Please {intent}{details}.",
        "Help me {intent}{details}.",
        "Would you {intent}{details}?",
        "I need you to {intent}{details}.",
    ],
    "buy": [
        "Please {intent}{details}.",
        "I'd like to {intent}{details}.",
        "Can you {intent}{details}?",
        "Would you {intent}{details}?",
        "I want you to {intent}{details}.",
    ],
    "create": [
        "Please {intent}{details}.",
        "I want to {intent}{details}.",
        "Could you {intent}{details}?",
        "Can you {intent}{details}?",
        "I need you to {intent}{details}.",
    ],
    "other": [
        "Please {intent}{details}.",
        "Could you {intent}{details}?",
        "I'd like you to {intent}{details}.",
        "Would you {intent}{details}?",
        "Can you {intent}{details}?",
        "I need you to {intent}{details}.",
    ],
}
_SPLIT_OPENERS = [
    "I want to {intent}. {details}",
    "Please {intent}. {details}",
    "Can you {intent}? {details}",
]
_FOLLOW_UPS = [
    "Now {text}",
    "Next, {text}",
    "One more thing: {text}",
    "After that, {text}",
    "Also, {text}",
    "Another thing: {text}",
    "Then {text}",
]
_DOMAIN_LEADS = {
    "travel": "I'm planning a trip. ",
    "finance": "About my money: ",
    "calendar": "For my schedule: ",
    "support": "A customer needs help. ",
    "vehicle": "About my car: ",
}
_CREDENTIALS = [
    "I'm {user}, password {secret}.",
    "My username is {user} and my password is {secret}.",
    "Use my account {user} (password {secret}).",
    "You can sign me in as {user} with the password {secret}.",
]
_NAMED_CREDENTIALS = [  # the identity is a person's name (looked up to an id), not a username
    "I'm {user}, password {secret}.",
    "This is {user}; my password is {secret}.",
    "You can sign me in as {user} with the password {secret}.",
]
_MORE_CREDENTIALS = "Then switch to the account {user} (password {secret})."
_SECRET_ONLY = "The password is {secret}."
_PHRASAL = {
    "check in": "complete the check-in",
    "log in": "sign in",
    "sign in": "log on",
    "log out": "sign off",
    "sign out": "log off",
    "look up": "find out",
    "set up": "configure",
}
_SYNONYMS = {
    "get": "retrieve", "find": "locate", "list": "show", "search": "look through", "book": "reserve",
    "buy": "purchase", "purchase": "buy", "send": "deliver", "create": "set up", "add": "include",
    "cancel": "call off", "delete": "erase", "remove": "take away", "update": "change", "set": "configure",
    "check": "verify", "transfer": "move", "pay": "settle", "open": "start", "close": "shut",
    "apply": "file", "place": "submit", "make": "do", "show": "display", "view": "see", "register": "enrol",
    "estimate": "work out", "convert": "translate", "move": "shift", "start": "begin", "stop": "halt",
    "lock": "secure", "unlock": "release", "press": "push", "release": "let go of", "fill": "top up",
}  # fmt: skip


@dataclass
class _Goal:
    """One action the user asks for: the call, how it is said, and the values stated with it."""

    call: int
    tool: str
    intent: str = ""
    values: list[AdvancedParameter] = field(default_factory=list)
    joiner: str = "for"
    # For each value (by its name): the call parameter that consumes it, and the parameter of this
    # goal's call it ends up in (itself, or through lookups: a city whose zip code is the destination).
    used_by: dict[str, tuple[str, str]] = field(default_factory=dict)
    lands: dict[str, str] = field(default_factory=dict)
    worded: bool = False  # said by an ``ask`` wording with its values in place


@dataclass
class _Parts:
    """What a query is made of."""

    goals: list[_Goal]
    accounts: list[tuple[AdvancedParameter | None, AdvancedParameter]]
    cues: list[str]
    domain: str

    @property
    def intent(self) -> str:
        return join_words([g.intent for g in self.goals])

    @property
    def details(self) -> list[AdvancedParameter]:
        return [p for g in self.goals for p in g.values]


def make_hard_query(
    tool: AdvancedTool,
    trace: Trace,
    tools: Sequence[ToolSpec],
    history_len: int,
    rng: random.Random,
    context: Sequence[Trace] = (),
) -> tuple[HardQuery, str]:
    """A fluent request that needs the whole chain; returns the query and the reasoning behind it.

    Each action the user asks for is said in the user's words (the phrase book's entry of its tool, else
    words drawn from its name and description), in the order the calls happen, with the values that
    action needs stated beside it. The text is checked with the query guard (no tool named, no
    intermediate value, every external input stated); a template that fails is replaced by another one.
    """
    specs = {s.name: s for s in tools}
    names = list(dict.fromkeys([*specs, *tool.primitive_tools, *_suite_tools(tools)]))
    flow = _Flow.of(trace, context)
    details, accounts = _split_credentials(tool.parameters, trace, context)
    flags: dict[int, list[AdvancedParameter]] = {}
    goals = _goals(trace, flow, details, specs, names, rng, flags)
    cues = _selection_cues(trace, flow, specs, flags)
    for unsaid in flags.values():  # a flag of a lookup no cue speaks of goes with the last goal
        if goals and not any(_phrase(p, 0) in " ".join(cues) for p in unsaid):
            goals[-1].values.extend(unsaid)
    parts = _Parts(
        goals=goals
        or [_Goal(call=len(trace.calls) - 1, tool="", intent=_fallback_intent(tool), values=details)],
        accounts=accounts,
        cues=cues,
        domain=next((specs[g.tool].domain for g in goals if g.tool in specs and specs[g.tool].domain), ""),
    )
    best: tuple[HardQuery, str] | None = None
    for attempt in range(6):
        query = HardQuery(text=_compose(parts, history_len, rng), advanced_tool=tool.name)
        problems = query_problems(query, trace, names, context=context)
        cot = _query_cot(tool, parts, problems)
        if not problems:
            return query, cot
        best = best or (query, cot)
        if attempt == 2:
            for goal in parts.goals:
                goal.intent = _generic_intent(specs[goal.tool], names) if goal.tool in specs else goal.intent
    assert best is not None
    return best


def _goals(
    trace: Trace,
    flow: _Flow,
    details: list[AdvancedParameter],
    specs: dict[str, ToolSpec],
    names: Sequence[str],
    rng: random.Random,
    source_flags: dict[int, list[AdvancedParameter]] | None = None,
) -> list[_Goal]:
    """The actions asked for, in call order, each with the values that reach it: a value is stated with
    the first goal its consuming call leads to (itself, or a call its output feeds), so that a value is
    never said with an action it has nothing to do with."""
    calls = trace.calls
    indexes = [i for i in _sink_calls(trace, flow) if calls[i].name in specs]
    goals = [_Goal(call=i, tool=calls[i].name) for i in indexes]
    if not goals:
        return []
    flags = source_flags if source_flags is not None else {}
    feeds: dict[int, set[int]] = {}
    for iv in flow.intermediate:
        if iv.source_call >= 0:
            feeds.setdefault(iv.source_call, set()).add(iv.call_index)
    for param in details:
        consumer = _consumer(trace, param)
        if isinstance(param.value, bool) and consumer not in indexes:
            flags.setdefault(consumer, []).append(param)  # said with the list it changes (see the cues)
            continue
        reach = _reachable(consumer, feeds)
        goal = next((g for g in goals if g.call in reach), None)
        goal = goal or next((g for g in goals if g.call >= consumer), goals[-1])
        goal.values.append(param)
        key = _argument_key(calls[consumer].arguments, param)
        goal.used_by[param.name] = (calls[consumer].name, key)
        goal.lands[param.name] = _landing(flow, feeds, consumer, key, goal.call)
    for goal in goals:
        derived = {
            iv.parameter: _result_noun(calls[iv.source_call])
            for iv in flow.intermediate
            if iv.call_index == goal.call and not iv.from_context and 0 <= iv.source_call < len(calls)
        }
        _say(goal, calls[goal.call].arguments, specs[goal.tool], names, rng, derived)
        if not goal.values and not goal.worded:  # "the ticket" alone; "a ticket for X" is said by its values
            goal.intent = _definite(
                goal.intent, [iv.parameter for iv in flow.intermediate if iv.call_index == goal.call]
            )
    return goals


def _definite(intent: str, carried: Sequence[str]) -> str:
    """ "show me a ticket" -> "show me the ticket" when the ticket's id comes from an earlier result (the
    one just opened, or the only one an earlier turn showed): the user means that one, not any."""
    for parameter in carried:
        for noun in words(_top(parameter)):
            if noun in ("id", "code", "number", "key", "name"):
                continue
            found = re.sub(rf"\b(?:a|an) ({re.escape(noun)})\b", r"the \1", intent, count=1)
            if found != intent:
                return found
    articles = re.findall(r"\b(?:a|an) (?=[a-z])", intent)
    first = intent.split(" ", 1)[0]
    reads = family_of(first) in ("read", "find") or first in ("tell", "give", "pull", "let", "look")
    if carried and reads and len(articles) == 1:
        # "tell me when a colleague is free" about the colleague just looked up: the only thing it names
        return re.sub(r"\b(?:a|an) (?=[a-z])", "the ", intent, count=1)
    if carried and reads and not articles:  # "tell me who follows someone" -> "... follows them"
        return re.sub(r"\bsomeone\b", "them", re.sub(r"\bsomeone's\b", "their", intent, count=1), count=1)
    return intent


def _consumer(trace: Trace, param: AdvancedParameter) -> int:
    """The call an advanced tool's parameter feeds: the first whose argument of the same name (or of a
    name it shares a word with) has its value, else the first with its value anywhere (a small number
    such as 1 may be the argument of several calls)."""
    own = set(words(param.name))
    for index, call in enumerate(trace.calls):
        for key, value in call.arguments.items():
            if (key == param.name or own & set(words(key))) and _same(param.value, value):
                return index
    for index, call in enumerate(trace.calls):
        if any(
            values_match(param.value, v) or param.value == v for v in argument_values(call.arguments).values()
        ):
            return index
        if any(values_match(param.value, v) or param.value == v for v in call.arguments.values()):
            return index
    return len(trace.calls) - 1


def _argument_key(arguments: dict[str, JsonValue], param: AdvancedParameter) -> str:
    """The argument of a call that holds an advanced parameter's value (its own name first)."""
    own = set(words(param.name))
    keys = sorted(arguments, key=lambda k: not (k == param.name or own & set(words(k))))
    return next((k for k in keys if _same(param.value, arguments[k])), "")


def _landing(flow: _Flow, feeds: dict[int, set[int]], consumer: int, key: str, goal_call: int) -> str:
    """The parameter of the goal's call a value ends up in: the consuming argument itself, or the
    argument an output of its lookup chain fills (a city -> its zip code -> ``to_zipcode``)."""
    if consumer == goal_call:
        return key
    reach = _reachable(consumer, feeds)
    for iv in flow.intermediate:
        if iv.call_index == goal_call and iv.source_call in reach and not iv.from_context:
            return _top(iv.parameter)
    return ""


def _same(a: JsonValue, b: JsonValue) -> bool:
    return values_match(a, b) or (a == b and type(a) is type(b))


def _reachable(start: int, feeds: dict[int, set[int]]) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in feeds.get(todo.pop(), set()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _say(
    goal: _Goal,
    arguments: dict[str, JsonValue],
    spec: ToolSpec,
    names: Sequence[str],
    rng: random.Random,
    derived: dict[str, str] | None = None,
) -> None:
    """How the user asks for this action: the phrase book's ``ask`` with its slots filled by the values
    stated for this very call, or by what an earlier result is ("the mean", ``derived``), else its
    ``goal`` followed by the values; a tool the book does not know is phrased from its name and
    description. "subtract one number from another" with the numbers coming from earlier results never
    says which is taken from which; "subtract the mean from the number saved under K1" does."""
    phrase = phrase_for(goal.tool)
    if phrase is None:
        goal.intent = _intent(spec, names, rng) or _generic_intent(spec, names)
        return
    goal.joiner = phrase.joiner
    derived = derived or {}
    best: tuple[int, str, list[AdvancedParameter | str]] | None = None
    asks = list(phrase.asks)
    if len(asks) > 1:
        rng.shuffle(asks)
    for template in asks:
        specs = phrase.slots(template)
        filled = _fill_ask(specs, goal, arguments, derived)
        if filled is None:
            continue
        text = template
        for slot, param in zip(specs, filled.values(), strict=True):
            text = text.replace(
                "{" + slot + "}", param if isinstance(param, str) else _slot_text(goal, param, slot)
            )
        used = sum(1 for p in filled.values() if not isinstance(p, str))
        if best is None or used > best[0]:
            best = (used, text, list(filled.values()))
    if best is None:
        goal.intent = phrase.goal_in(rng)
        return
    _, goal.intent, used_values = best
    goal.worded = True
    said = " ".join(p for p in used_values if isinstance(p, str))
    goal.values = [
        p
        for p in goal.values
        if p not in used_values and not (said and isinstance(p.value, str) and p.value in said)
    ]


# Parameters whose value names a thing a lookup finds (a city, a person, a company): such a value may
# fill an ``ask`` slot of the identifier it is looked up for ("the drive to {to_zipcode}" -> "the drive
# to Ashford Bay"), where a filter (a priority, a tag) may not.
_NAMING_PARAMS = frozenset(
    {
        "name",
        "city",
        "company_name",
        "gamertag",
        "holder_name",
        "email",
        "zipcode",
        "symbol",
        "title",
        "query",
    }
)


def _fill_ask(
    slots: Sequence[str],
    goal: _Goal,
    arguments: dict[str, JsonValue],
    derived: dict[str, str],
) -> dict[str, AdvancedParameter | str] | None:
    """The values for an ``ask`` wording's slots: a value stated for this very call, a value that names
    what a lookup turns into the slot's argument (the city whose zip code fills ``to_zipcode``), or
    what an earlier result is ("the mean"); None when a slot stays empty."""
    filled: dict[str, AdvancedParameter | str] = {}
    for spec in slots:
        slot, _, how = spec.partition("|")
        value = arguments.get(slot)
        taken = list(filled.values())
        mine = next(
            (p for p in goal.values if value is not None and _same(p.value, value) and p not in taken), None
        )
        if how == "via":  # only a value a lookup turns into the argument ("one of {post_id|via}'s posts")
            mine = None
        if mine is None:
            mine = next(
                (
                    p
                    for p in goal.values
                    if p not in taken
                    and goal.lands.get(p.name) == slot
                    and goal.used_by.get(p.name, ("", ""))[1] in _NAMING_PARAMS
                    and isinstance(p.value, str)
                ),
                None,
            )
        if mine is None and derived.get(slot) and derived[slot] not in taken and how != "via":
            filled[spec] = derived[slot]
            continue
        if mine is None:
            return None
        filled[spec] = mine
    return filled


# How a value is introduced when it is said as the argument itself rather than by what names it: a zip
# code is "zip code 51833" where the city it belongs to is just "Ashford Bay".
_VALUE_NOUNS = {"zipcode": "zip code", "zip": "zip code"}


def _slot_text(goal: _Goal, param: AdvancedParameter, spec: str) -> str:
    """A value in an ``ask`` slot: ``{x|quoted}`` in quotes; an argument that names no thing of its own
    with its noun ("to zip code 51833"), a value a lookup turns into the argument bare ("to Ashford
    Bay")."""
    slot, _, how = spec.partition("|")
    text = _bare_value(param)
    if how == "quoted" and not text.startswith(('"', "'")):
        return f'"{text}"'
    direct = goal.used_by.get(param.name, (goal.tool, ""))[0] == goal.tool
    noun = _VALUE_NOUNS.get(words(slot)[-1] if words(slot) else "", "")
    return f"{noun} {text}" if direct and noun else text


def _result_noun(call: ToolCall) -> str:
    """What a calculation's result is called, from its phrase book answer: "the mean" (``The mean is
    {result}.``), "the number saved under K1" (with the call's own arguments); "" when unknown."""
    phrase = phrase_for(call.name)
    match = re.match(r"^The (.+?) (?:is|are) \{result\}\.$", phrase.tell if phrase else "")
    if match is None:
        return ""

    def fill(slot: re.Match[str]) -> str:
        value = call.arguments.get(slot.group(1))
        plain = isinstance(value, str | int | float) and not isinstance(value, bool)
        return render_value(value) if plain else "{}"

    text = re.sub(r"\{([A-Za-z0-9_]+)\}", fill, match.group(1))
    return "" if "{" in text else f"the {text}"


def _bare(param: AdvancedParameter) -> str:
    value = render_value(param.value)
    return with_unit(value, unit_of(param.name)) if " " not in value else value


def _suite_tools(tools: Sequence[ToolSpec]) -> list[str]:
    """Every tool of the registered suites the given tools belong to (a query must name none)."""
    from hardgen.environment.base import EnvironmentConfigError
    from hardgen.environment.registry import get_suite

    names: list[str] = []
    for suite in dict.fromkeys(t.suite for t in tools if t.suite):
        try:
            names.extend(get_suite(suite).tool_names())
        except EnvironmentConfigError:
            continue
    return names


def _split_credentials(
    parameters: Sequence[AdvancedParameter], trace: Trace, context: Sequence[Trace] = ()
) -> tuple[list[AdvancedParameter], list[tuple[AdvancedParameter | None, AdvancedParameter]]]:
    """Separate the accounts (a secret with the identity given in the same call: username, e-mail or
    name) from the other inputs. A log-in whose identity is an id looked up from a name (this turn or an
    earlier one) is the user's own account: the user says who they are ("I'm Alice Chen, password
    x"), never a bare password that leaves the identity to whoever was last named."""
    secrets = [p for p in parameters if set(words(p.name)) & SECRET_WORDS]
    accounts: list[tuple[AdvancedParameter | None, AdvancedParameter]] = []
    users: list[AdvancedParameter] = []
    for secret in secrets:
        call = next(
            (c for c in trace.calls if any(values_match(v, secret.value) for v in c.arguments.values())), None
        )
        together = [v for v in call.arguments.values()] if call is not None else []
        candidates = [p for p in parameters if p not in secrets and p not in users]
        same_call = [p for p in candidates if any(values_match(p.value, v) for v in together)]
        named = [p for p in candidates if set(words(p.name)) & USER_WORDS]
        suffix = _suffix(secret.name)
        user = next((p for p in same_call if _suffix(p.name) == suffix), None) or next(iter(same_call), None)
        user = user or next((p for p in named if _suffix(p.name) == suffix), None)
        user = user or _looked_up_identity(call, trace, context, candidates)
        if user is not None:
            users.append(user)
        accounts.append((user, secret))
    details = [p for p in parameters if p not in secrets and p not in users]
    return details, accounts


def _looked_up_identity(
    login: ToolCall | None,
    trace: Trace,
    context: Sequence[Trace],
    candidates: Sequence[AdvancedParameter],
) -> AdvancedParameter | None:
    """Who the user is when a log-in takes an id an earlier call found from a name: that name (one of
    the inputs when this turn looked it up, else the name an earlier turn looked up)."""
    if login is None or not is_login_tool(login.name):
        return None
    index = trace.calls.index(login)
    for iv in intermediate_values(trace, context=context):
        if iv.call_index != index or set(words(iv.parameter)) & SECRET_WORDS:
            continue
        if not iv.from_context and 0 <= iv.source_call < len(trace.calls):
            sources = [trace.calls[iv.source_call]]
        else:
            sources = [
                obs.call
                for earlier in context
                for obs in earlier.observations
                if obs.ok and any(values_match(iv.value, v) for v in output_values(obs.output).values())
            ]
        for source in reversed(sources):
            names = [
                v
                for v in source.arguments.values()
                if isinstance(v, str) and not is_trivial(v) and not values_match(v, iv.value)
            ]
            for value in names:
                given = next((p for p in candidates if values_match(p.value, value)), None)
                if given is not None:
                    return given
                if iv.from_context:
                    return AdvancedParameter(
                        name="name", type="string", description="Who the user is.", value=value
                    )
    return None


def _suffix(name: str) -> str:
    tokens = words(name)
    return tokens[-1] if tokens and (len(tokens[-1]) == 1 or tokens[-1].isdigit()) else ""


_QUESTION_WORDS = frozenset({"what", "where", "which", "who", "how", "when", "whether"})
_NOUN_OPENINGS = frozenset(
    {
        "a",
        "an",
        "the",
        "arithmetic",
        "determinant",
        "factorial",
        "greatest",
        "least",
        "logarithm",
        "pearson",
        "standard",
        "summary",
        "square",
        "current",
        "total",
        "number",
        "details",
        "status",
    }
)


def _as_request(sentence: str) -> str:
    """Make a description that opens with a noun phrase or a question word read as a request."""
    first = sentence.split(" ", 1)[0].rstrip(",;:").lower()
    if first in _QUESTION_WORDS:
        return f"tell me {sentence}"
    if first in _NOUN_OPENINGS:
        return f"get me {sentence}" if first in ("a", "an", "the") else f"get me the {sentence}"
    base = getLemma(first, upos="VERB")
    if base and base[0] != first and getInflection(base[0], tag="VBZ") == (first,):
        return base[0] + sentence[len(first) :]  # "Creates a user" (a description) -> "create a user"
    return sentence


_ASK_VERBS = frozenset(
    {"get", "fetch", "read", "view", "show", "check", "lookup", "look", "query", "describe", "retrieve"}
)  # fmt: skip
_FIND_VERBS = frozenset({"list", "search", "find", "browse"})


def _intent(spec: ToolSpec, names: Sequence[str], rng: random.Random | None = None) -> str:
    """The end goal as a user asks for it: from what the tool does (its name's verb and object), or
    now and then from a short, plain first sentence of its description; rephrased where the words spell
    a tool's name."""
    described = lower_first(first_sentence(spec.description))
    plain = len(described.split()) <= 9 and not re.search(r"\b(your|given|its|this)\b|[()]", described)
    own = _user_words(spec)
    if own and not (plain and rng is not None and rng.random() < 0.3):
        sentence = own
    else:
        sentence = _as_request(described)
    for name in names:
        if sentence and mentions_tool(sentence, name):
            sentence = _rephrase(sentence, name)
    if not sentence or any(mentions_tool(sentence, n) for n in names):
        return ""
    return sentence


def _user_words(spec: ToolSpec) -> str:
    """``get_vehicle_status`` -> "tell me the vehicle status", ``book_flight`` -> "book the flight";
    "" for a name too short to say what it does (``cd``) or a log-in."""
    verb, thing = action_of(spec.name)
    if len(words(spec.name)) < 2 or is_login_tool(spec.name) or not thing:
        return ""
    if thing[0] in ("to", "from", "into", "onto", "for", "on", "in", "at", "with"):
        if len(thing) < 2:
            return ""
        obj = f"{thing[0]} the {' '.join(thing[1:])}"  # add_to_cart -> "add to the cart"
    else:
        obj = "the " + " ".join(thing)
    if not verb or verb in _ASK_VERBS:
        return f"tell me {obj}"
    if verb in _FIND_VERBS:
        return f"find {obj}"
    return f"{verb_phrase(verb)} {obj}"


def _rephrase(sentence: str, tool_name: str) -> str:
    """Replace the words of a tool's name in a sentence with a phrase that means the same."""
    phrase = " ".join(words(tool_name))
    for verb, replacement in _PHRASAL.items():
        if phrase.startswith(verb):
            return re.sub(rf"\b{re.escape(verb)}\b", replacement, sentence, count=1, flags=re.IGNORECASE)
    first = phrase.split(" ", 1)[0]
    if first in _SYNONYMS:
        return re.sub(rf"\b{re.escape(first)}\b", _SYNONYMS[first], sentence, count=1, flags=re.IGNORECASE)
    return sentence


def _fallback_intent(tool: AdvancedTool) -> str:
    return _as_request(lower_first(first_sentence(tool.description.split(",")[0]))) or "take care of this"


def _generic_intent(spec: ToolSpec, names: Sequence[str]) -> str:
    """Never an empty goal: the description's first clause as a request, rephrased where it spells a
    tool's name, else the tool's name words after "take care of"."""
    sentence = _as_request(lower_first(first_sentence(spec.description).split(";")[0].split(",")[0]))
    for name in names:
        if sentence and mentions_tool(sentence, name):
            sentence = _rephrase(sentence, name)
    if sentence and not any(mentions_tool(sentence, n) for n in names):
        return sentence
    return "take care of this for me"


def _label(param: AdvancedParameter) -> str:
    """How a user names a value: ``origin_city`` -> "origin city", ``cityB`` -> "second city",
    ``company_name`` -> "company", ``pressure_psi`` -> "pressure" (the unit goes with the value)."""
    tokens = words(param.name)
    suffix = _suffix(param.name)
    if suffix and len(tokens) > 1 and suffix.isalpha():
        index = ord(suffix) - ord("a")
        ordinal = ORDINALS[index] if 0 <= index < len(ORDINALS) else suffix.upper()
        return f"{ordinal} {' '.join(tokens[:-1])}"
    if unit_of(param.name) and len(tokens) > 1:
        tokens = tokens[:-1]
    if (
        len(tokens) > 1
        and tokens[-1] == "name"
        and isinstance(param.value, str)
        and tokens[-2] not in _QUALIFIERS
    ):
        tokens = tokens[:-1]  # company_name -> the company Brightfield Foods; full_name stays
    if len(tokens) > 1 and tokens[0] in ROLE_LABEL:  # to_airport -> destination airport
        return " ".join([ROLE_LABEL[tokens[0]], *tokens[1:]])
    return " ".join(tokens) if tokens else label(param.name)


_SEARCH_WORDS = frozenset({"query", "keyword", "keywords", "search", "search_query", "q", "pattern"})
_QUALIFIERS = frozenset(
    {"full", "first", "last", "display", "user", "nick", "given", "family", "middle", "file"}
)


def _phrase(param: AdvancedParameter, style: int) -> str:
    """A stated value with what it is: "the city Rivermist", "the subject \"Printer jam\"" (a text of
    several words in quotes), "the pressure 34 psi"; in a sentence of its own, "the city is Rivermist"."""
    name = _label(param)
    if isinstance(param.value, bool):
        said = flag_words(param.name, param.value) or flag_words(
            re.sub(r"(?:_\d+|_[a-z]|[A-Z])$", "", param.name), param.value
        )
        return said or f"with {name} {'on' if param.value else 'off'}"
    value = render_value(param.value)
    if len(param.name) == 1:  # a = 9, n = 5: how people write a formula's letters
        return f"{param.name} = {value}"
    if param.name in _SEARCH_WORDS and isinstance(param.value, str):
        return f'"{value}"'  # search words need no label: for "Lumen USB-C Docking Station"
    unit = unit_of(param.name)
    if unit and " " not in value:
        value = with_unit(value, unit)
        if len(words(param.name)) == 1:  # days 5 -> "5 days"
            return value
    elif isinstance(param.value, str) and len(value.split()) > 3 and not param.value.startswith(('"', "'")):
        value = f'"{value}"'
    return f"the {name} is {value}" if style == 2 else f"the {name} {value}"


def _clause(goal: _Goal) -> str:
    """The action and its values: "tell me about the company Atlas Insurance" (a value fills the goal's
    "a company" or "someone" when its name says it is one), else "book a flight for the city ..."."""
    plain = [p for p in goal.values if not isinstance(p.value, bool)]
    flags = [p for p in goal.values if isinstance(p.value, bool)]
    text = goal.intent
    text, plain = _say_worded(goal, text, plain)
    for param in list(plain):
        noun = _label(param)
        value = render_value(param.value)
        placed = re.sub(
            rf"\b(?:a|an) {re.escape(noun)}\b(?!')", _literal(f"the {noun} {value}"), text, count=1
        )
        thing = noun[: -len(" id")] if noun.endswith(" id") else ""
        if placed == text and thing:  # "hand a ticket to an agent" + TCK5007 -> "hand ticket TCK5007 ..."
            placed = re.sub(
                rf"\b(?:a|an|the) {re.escape(thing)}\b(?!')", _literal(f"{thing} {value}"), text, count=1
            )
        if placed == text and noun in ("name", "user", "person") and isinstance(param.value, str):
            placed = re.sub(r"\bsomeone\b(?!')", value, text, count=1)
        if placed != text:
            text = placed
            plain.remove(param)
    if plain and goal.joiner == "as" and len(plain) == 1 and isinstance(plain[0].value, str):
        text += f" as {render_value(plain[0].value)}"  # sign in as Alice Chen
    elif plain:
        text += f" {goal.joiner} " + join_words([_phrase(p, 0) for p in plain])
    if flags:
        text += " " + join_words([_phrase(p, 0) for p in flags])
    return text


# Who a person's name may stand for in a goal ("show me a colleague's details" -> "show me Sarah
# Mitchell's details"), and the parameters that hold such names.
_PERSON_NOUNS = frozenset(
    {
        "colleague",
        "player",
        "customer",
        "person",
        "user",
        "traveller",
        "payee",
        "contact",
        "friend",
        "someone",
    }
)
_NAMED_NOUNS = frozenset({"player", "customer", "traveller", "payee"})  # kept before the name
_PERSON_PARAMS = frozenset({"name", "gamertag", "holder_name", "full_name", "username"})
_POSTMODIFIERS = ("with ", "named ", "tagged ", "assigned ", "in ", "that ", "whose ", "from ", "marked ")


def _say_worded(
    goal: _Goal, text: str, plain: list[AdvancedParameter]
) -> tuple[str, list[AdvancedParameter]]:
    """Values said as a person says them, by the phrase book's ``values`` wordings ("from Ashford Bay
    to zip code 51833", "for 50 shares of Aerolift Aviation"), and a person's name in place of the
    goal's "a colleague's" or "someone"; returns the text and the values still unsaid."""
    rest: list[AdvancedParameter] = []
    appended: list[tuple[int, str]] = []
    own = phrase_for(goal.tool)
    for param in plain:
        tool, key = goal.used_by.get(param.name, ("", ""))
        value = render_value(param.value)
        if key in _PERSON_PARAMS and isinstance(param.value, str):
            nouns = "|".join(sorted(_PERSON_NOUNS - {"someone"}))
            placed = re.sub(
                rf"\b(?:(?:a|an|the) (?:{nouns})|someone)'s\b", _literal(f"{value}'s"), text, count=1
            )
            if placed == text:  # "tell me about the player IronTide", "look up Sarah Mitchell"
                found = re.search(rf"\b(?:a|an) ({nouns})\b(?!')", text)
                if found is not None:
                    noun = found.group(1)
                    said = f"the {noun} {value}" if noun in _NAMED_NOUNS else value
                    placed = text[: found.start()] + said + text[found.end() :]
            if placed == text:
                placed = re.sub(r"\bsomeone\b(?!')", _literal(value), text, count=1)
            if placed != text:
                text = placed
                continue
        landing = goal.lands.get(param.name, "")
        wording, rank = "", 99
        if own is not None and landing and (tool == goal.tool or key in _NAMING_PARAMS):
            wording, rank = own.value_words(landing), own.value_rank(landing)
        lookup = phrase_for(tool) if tool and tool != goal.tool else None
        if not wording and lookup is not None:
            wording = lookup.value_words(key)
            if wording.startswith(_POSTMODIFIERS):  # a filter of the lookup: "a ticket tagged mobile"
                said = wording.replace("{v}", _bare_value(param))
                placed = re.sub(r"\b((?:a|an) [a-z-]+)\b(?!['-])", r"\1 " + _literal(said), text, count=1)
                if placed != text:
                    text = placed
                    continue
        if wording:
            appended.append((rank, wording.replace("{v}", _bare_value(param))))
        else:
            rest.append(param)
    if appended:
        text += " " + " ".join(w for _, w in sorted(appended, key=lambda a: a[0]))
    return text, rest


def _literal(text: str) -> str:
    """A text as a replacement of ``re.sub``, taken literally (a backslash in a value is no escape)."""
    return text.replace("\\", r"\\")


def _bare_value(param: AdvancedParameter) -> str:
    """A value as a wording's ``{v}`` takes it: lists joined with "and", a text of several words quoted,
    a number with the unit its name gives ("5 days")."""
    if isinstance(param.value, list) and all(isinstance(v, str | int | float) for v in param.value):
        return join_words([render_value(v) for v in param.value])
    value = render_value(param.value)
    if isinstance(param.value, str) and len(value.split()) > 3 and not value.startswith(('"', "'")):
        return f'"{value}"'
    return _bare(param)


def _compose(parts: _Parts, history_len: int, rng: random.Random) -> str:
    goals = parts.goals
    if (
        len(goals) == 1
        and len([p for p in goals[0].values if not isinstance(p.value, bool)]) > 2
        and rng.random() < 0.5
    ):
        goal = goals[0]
        plain = [p for p in goal.values if not isinstance(p.value, bool)]
        flags = [p for p in goal.values if isinstance(p.value, bool)]
        sentence = upper_first(join_words([_phrase(p, 2) for p in plain])) + "."
        if flags:
            sentence += f" Do it {join_words([_phrase(p, 0) for p in flags])}."
        text = rng.choice(_SPLIT_OPENERS).format(intent=goal.intent, details=sentence)
    else:
        clauses = [_clause(g) for g in goals]
        intent = (
            clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + rng.choice(_THEN) + clauses[-1]
        )
        family = family_of(intent.split(" ", 1)[0])
        template = rng.choice(_OPENERS.get(family, _OPENERS["other"]))
        text = template.format(intent=intent, details="")
    if parts.cues:
        end = "?" if text.endswith("?") else "."
        text = f"{text.rstrip('.?')}{end} {upper_first(join_words(parts.cues))}."
    # The follow-up opener goes with the request, not with the credentials ("The password is x. Now
    # please sign in ...", never "Now the password is x.").
    if history_len:
        text = rng.choice(_FOLLOW_UPS).format(text=lower_first(text))
    elif parts.domain in _DOMAIN_LEADS and rng.random() < 0.5:
        lead = _DOMAIN_LEADS[parts.domain]
        text = lead + (lower_first(text) if lead.endswith(": ") else text)  # no capital after a colon
    if parts.accounts:
        credentials = []
        for n, (user, secret) in enumerate(parts.accounts):
            values = {"secret": render_value(secret.value)}
            if user is None:
                credentials.append(_SECRET_ONLY.format(**values))
                continue
            values["user"] = render_value(user.value)
            own = _NAMED_CREDENTIALS if not set(words(user.name)) & USER_WORDS else _CREDENTIALS
            template = rng.choice(own) if n == 0 else _MORE_CREDENTIALS
            kind = _label(user)
            if kind != "username":  # "My user id is USR105", "My email is ...", never "My username is USR105"
                template = template.replace("My username is", f"My {kind} is")
            credentials.append(template.format(**values))
        login = " ".join(credentials)
        text = f"{text} {login}" if rng.random() < 0.6 else f"{login} {text}"
    text = re.sub(r"(?<![.])([.?])[.]+(?![.])", r"\1", text)  # a value ending in a period ends the sentence
    return " ".join(text.split())


_THEN = [", then ", " and then ", ", and after that "]


def _selection_cues(
    trace: Trace,
    flow: _Flow,
    specs: dict[str, ToolSpec] | None = None,
    flags: dict[int, list[AdvancedParameter]] | None = None,
) -> list[str]:
    """Phrases that single out the list items the trace used ("use the card whose last4 is 9021"), and
    that say where a value read from the user's own situation comes from ("from where the car is now")."""
    cues: list[str] = []
    observations = trace.observations
    calls = trace.calls
    # Items of one listing taken for different sides (transfer from one account to another): each cue
    # says its side, or the request could not tell which account is which.
    items: dict[tuple[int, str], set[str]] = {}
    for iv in flow.intermediate:
        listed = re.match(r"^(.*?\[\d+\])", iv.source_path)
        if not iv.from_context and listed:
            items.setdefault((iv.source_call, listed.group(1).split("[")[0]), set()).add(listed.group(1))
    for iv in flow.intermediate:
        if iv.from_context or not 0 <= iv.source_call < len(observations):
            continue
        obs = observations[iv.source_call]
        if not obs.ok:
            continue
        if "[" not in iv.source_path:
            phrase = phrase_for(calls[iv.source_call].name)
            cue = _STATE_CUES.get(calls[iv.source_call].name, "") if phrase is not None else ""
        else:
            source = phrase_for(calls[iv.source_call].name)
            listing = source.goal if source else ""
            said = (flags or {}).get(iv.source_call, [])
            if listing and said:
                listing += " " + join_words([_phrase(p, 0) for p in said])
            cue = _cue(obs.output, iv.source_path, flow.hidden, listing)
            role = role_of(iv.parameter)
            if cue and role and len(items.get((iv.source_call, iv.source_path.split("[")[0]), ())) > 1:
                cue = f"{cue} as the {ROLE_LABEL[role]}"
        if cue and cue not in cues:
            cues.append(cue)
    return cues


# Tools that read the user's own situation: a value they give is the user's, and the query says so.
_STATE_CUES = {
    "nav_get_current_location": "start from where the car is now",
    "pwd": "work from the folder I am in",
    "get_trading_account": "go by the cash I have",
}


_NAMING_FIELDS = ("name", "holder", "title", "last4", "type", "nickname", "label", "symbol", "email", "city")


def _cue(output: JsonValue, path: str, hidden: Sequence[IntermediateValue], source: str = "") -> str:
    """A phrase naming the item at ``path`` (``cards[1].card_id``) by a value only that item has, or by
    its position in the list when only the value itself (which the query must not state) tells it apart;
    ``source`` (what the user would do to see that list) says which list."""
    match = re.match(r"^(.*?)\[(\d+)\]", path)
    if match is None or not isinstance(output, dict):
        return ""
    container: JsonValue = output
    for key in match.group(1).split("."):
        if not isinstance(container, dict) or key not in container:
            return ""
        container = container[key]
    index = int(match.group(2))
    if not isinstance(container, list) or len(container) < 2 or index >= len(container):
        return ""
    item = container[index]
    record = item if isinstance(item, dict) else {}
    entity = label(singular(match.group(1).rsplit(".", 1)[-1])) or "item"
    others = [o for i, o in enumerate(container) if i != index and isinstance(o, dict)]
    fields = list(record)
    for name in sorted(fields, key=lambda f: (not any(w in f for w in _NAMING_FIELDS), fields.index(f))):
        value = record[name]
        if not isinstance(value, str | int) or isinstance(value, bool) or is_trivial(value):
            continue
        if any(values_match(value, v) for o in others for v in o.values()):
            continue  # a cue must single the item out: no other item shows that value, in any field
        if any(values_match(value, h.value) for h in hidden):
            continue
        if label(name) == entity:
            return f"use the {entity} {render_value(value)}"
        if name in ("name", "title"):
            return f"use the {entity} {'named' if name == 'name' else 'titled'} {render_value(value)}"
        return f"use the {entity} whose {label(name)} is {render_value(value)}"
    if index < len(ORDINALS):  # nothing but the value itself tells it apart: say where it is listed
        where = f" when you {source}" if source else ""
        return f"take the {ORDINALS[index]} {entity} listed{where}"
    return ""


def _query_cot(tool: AdvancedTool, parts: _Parts, problems: list[str]) -> str:
    lines = [
        f"The advanced tool `{tool.name}` describes the end goal: {parts.intent}.",
        "The query must state every value the user supplies ("
        + (", ".join(p.name for p in tool.parameters) or "none")
        + ") and nothing the tools compute in between.",
        "I frame the request at the level of the goal and mention no intermediate step and no tool; "
        "I ask for the actions in the order they must happen, each with the values it needs.",
    ]
    if parts.cues:
        lines.append("A list result is involved, so I say which item the user means.")
    if problems:
        lines.append("Check: " + "; ".join(problems))
    return "\n".join(lines)
