"""The offline turn summariser (Figure 9) and Phase I's offline model under test.

The summary answers the request: what was done and the values asked for, in plain sentences. The
target model takes the request literally: it calls the tool whose name and description best match
the request's words, with values read from the request by the words in front of them, and stops once
it has a result. It never bridges (no lookups first), so it fails wherever a prerequisite or an
intermediate value is needed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from lemminflect import getInflection, getLemma
from pydantic import JsonValue

from hardgen.agents.offline.book import phrase_for
from hardgen.agents.offline.text import (
    action_of,
    agree,
    content_words,
    count_noun,
    field_noun,
    first_sentence,
    is_login_tool,
    is_logout_tool,
    is_plural,
    join_words,
    label,
    lower_first,
    noun_singular,
    past_tense,
    readable_number,
    readable_time,
    schema_types,
    unit_of,
    upper_first,
    verb_phrase,
    with_article,
    with_unit,
    words,
)
from hardgen.dataflow import text_contains, values_match
from hardgen.schema import JSONDict, Observation, ToolCall, ToolSpec

# --------------------------------------------------------------------------------------- summary

_READ_VERBS = frozenset(
    {"get", "list", "search", "find", "check", "show", "view", "lookup", "look", "fetch", "read", "query",
     "estimate", "compute", "calculate", "convert", "count", "describe", "browse", "preview", "quote"}
)  # fmt: skip
_NAMING = ("name", "title", "symbol", "label", "code", "city", "email", "username", "id")
_SKIPPED = frozenset({"ok", "success", "message"})
_MAX_FIELDS = 4
_MAX_ITEMS = 5


def summarize(steps: Sequence[Sequence[Observation]], rng: random.Random, query: str = "") -> tuple[str, str]:
    """A closing message that answers the request: what was done, and the values the user asked for.

    Only the turn's results are reported: the last step's calls and every earlier call that changed
    something (a booking on the way). Lookups that only fed a later call stay unsaid, as a person
    helping would leave them, and a log-in is no news. Each result is told by its tool's phrase book
    entry (``tell``), else by the fields that answer it: first those the call did not merely echo back
    (an estimate's net cost rather than the symbol it was asked about), units written with the value
    ("1,276.9 km"); values the request already states are not repeated as news.
    """
    flat = [o for step in steps for o in step]
    failed = [o for o in flat if not o.ok]
    last = list(steps[-1]) if steps else []
    earlier = [o for step in steps[:-1] for o in step]
    goals = [o for o in earlier if o.ok and o.changed_state and not is_login_tool(o.call.name)]
    goals += [o for o in last if o.ok]
    sentences = [_report(o, query, rng) for o in goals]
    sentences += [
        f"I could not {_phrase_text(o.call.name)}: {(o.error or 'it failed').rstrip('.')}." for o in failed
    ]
    writes = any(o.changed_state for o in goals)
    opening = "" if not writes or failed else rng.choice(["Done.", "All set.", "It's done."])
    text = agree(" ".join(x for x in [opening, *sentences] if x) or "There was nothing to report.")
    cot = (
        f"The request is answered by {len(goals)} result(s). I lead with the values the user asked for, "
        "in plain sentences; the lookups in between need no mention."
    )
    return text, cot


# Fields whose values are options written as identifiers ("in_progress", "front_right").
_ENUM_FIELDS = frozenset(
    {"status", "tire", "mode", "type", "category", "priority", "reason", "door", "side", "tier", "plan"}
)
_PREPOSITIONS = frozenset({"to", "from", "into", "onto", "for", "on", "in", "at", "with"})


def _verb_phrase(tool: str) -> tuple[str, str]:
    """The verb and the rest of a phrase saying what a tool does: ``book_flight`` -> (book, "the
    flight"), ``add_to_cart`` -> (add, "it to the cart"), ``vehicle_status`` -> (get, "the vehicle
    status")."""
    verb, thing = action_of(tool)
    if thing and thing[0] in _PREPOSITIONS:
        rest = " ".join(thing[1:])
        return verb or "do", f"it {thing[0]} the {rest}" if rest else "it"
    obj = f"the {' '.join(thing)}" if thing else ""
    if not verb:
        return "get", obj or "the result"
    return verb, obj


def _phrase_text(tool: str) -> str:
    phrase = phrase_for(tool)
    if phrase is not None:
        return phrase.goal
    verb, rest = _verb_phrase(tool)
    return " ".join(x for x in (verb_phrase(verb), rest) if x)


def _report(obs: Observation, query: str = "", rng: random.Random | None = None) -> str:
    told = _told(obs, rng)
    if is_login_tool(obs.call.name):
        return told or " ".join(["You are signed in.", *_facts(obs.output, obs.call, query)])
    if is_logout_tool(obs.call.name):
        return "You are signed out."
    facts = [told] if told else _facts(obs.output, obs.call, query)
    verb, _ = action_of(obs.call.name)
    measured = obs.changed_state
    reads = measured is False or (measured is None and (not verb or verb in _READ_VERBS))
    if reads:
        return " ".join(facts) if facts else "I found nothing that matches."
    if told:
        return told
    if not verb:  # a command named by no verb (rmdir): its result says what it did
        return " ".join(facts) if facts else "It is done."
    head, rest = _verb_phrase(obs.call.name)
    action = f"I {past_tense(head)}{' ' + rest if rest else ''}."
    return " ".join([action, *facts])


# ------------------------------------------------------------------------------- told by the book

_SLOT = re.compile(r"\{([A-Za-z0-9_.]+)(?:\|([^{}]+))?\}")
# Filters that only say whether a wording fits the result ({breached|yes}: "it was missed"); they
# render nothing themselves.
_CONDITIONS = frozenset({"none", "yes", "no"})


def _told(obs: Observation, rng: random.Random | None = None) -> str:
    """The phrase book's ``tell`` sentence of a result, or "" when the tool has none or no wording has
    all its slots filled by this output. The wording drawn with ``rng`` comes first; a wording whose
    field is missing or empty gives way to the next one rather than reading "the company is and"."""
    phrase = phrase_for(obs.call.name)
    if phrase is None or not phrase.tell or not isinstance(obs.output, dict):
        return ""
    drawn = phrase.tell_in(rng)
    for template in [drawn, *[t for t in phrase.tells if t != drawn]]:
        text = _fill_tell(template, obs.output)
        if text:
            return upper_first(text)
    return ""


def _fill_tell(template: str, output: dict[str, JsonValue]) -> str:
    """A ``tell`` wording with its slots filled from ``output``; "" when a slot has no value to show."""
    values: list[str] = []

    fits = True

    def fill(match: re.Match[str]) -> str:
        nonlocal fits
        value = _field(output, match.group(1))
        how = match.group(2) or ""
        if how in _CONDITIONS:
            fits = fits and _holds(value, how)
            return ""
        text = _render_slot(value, match.group(1), how)
        values.append(text)
        return text

    text = _SLOT.sub(fill, template)
    return "" if not fits or any(not v.strip() for v in values) else text


def _holds(value: JsonValue, how: str) -> bool:
    """Whether a result fits a wording's condition: ``none`` an empty list (or no value), ``yes`` a
    true flag, ``no`` a false one."""
    if how == "none":
        return value is None or value == [] or value == 0
    return isinstance(value, bool) and value is (how == "yes")


def _field(output: JsonValue, path: str) -> JsonValue:
    node = output
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _render_slot(value: JsonValue, path: str, how: str) -> str:
    """A value as the sentence needs it; "" when it is missing or cannot be rendered so."""
    if value is None:
        return ""
    if how == "count":
        return str(len(value)) if isinstance(value, list) else ""
    if how.startswith("n:"):  # {unread_messages|n:unread message} -> "1 unread message"
        count = len(value) if isinstance(value, list) else value
        return count_noun(count, how[2:]) if isinstance(count, int) and not isinstance(count, bool) else ""
    if isinstance(value, list):
        if how == "names":  # an empty list reads badly in a wording made for names ("followed by none")
            return _listing(value) if value else ""
        if how.startswith("each:"):  # {tickets|each:ticket_id:subject} -> "TCK5003 (Bulk export ...)"
            return _listing([_each(v, how.split(":")[1:]) for v in value]) if value else ""
        if how == "leader":
            return _item_text(value[0]) if value else ""
        if how == "dates":
            days = [str(v.get("date")) for v in value if isinstance(v, dict) and v.get("date")]
            return _date_range(days[0], days[-1]) if days else ""
        if how == "slots":
            spans = [
                _span(str(v.get("start")), str(v.get("end")))
                for v in value
                if isinstance(v, dict) and v.get("start")
            ]
            return join_words(spans) if spans else ""
        return _listing(value)
    if isinstance(value, dict):
        return ""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if how == "duration" and number:
        return _duration(float(value))
    if how == "left" and number:  # hours_remaining: "2.25 hours left", "11 hours overdue"
        hours = _text(abs(value))  # type: ignore[arg-type]
        unit = "hour" if abs(value) == 1 else "hours"  # type: ignore[arg-type]
        return f"{hours} {unit} {'left' if value >= 0 else 'overdue'}"  # type: ignore[operator]
    if how == "words" and isinstance(value, str):
        return value.replace("_", " ")
    if how == "a" and isinstance(value, str):
        return with_article(value)
    return _text(value)


def _each(item: JsonValue, fields: list[str]) -> JsonValue:
    """An item of a list told by the fields a wording names: the first, then the others in brackets."""
    if not isinstance(item, dict) or not fields:
        return item
    shown = [_quoted(item.get(f)) for f in fields if item.get(f) not in (None, "")]
    if not shown:
        return _item_text(item)
    return shown[0] + (f" ({', '.join(shown[1:])})" if len(shown) > 1 else "")


def _quoted(value: JsonValue) -> str:
    text = _text(value)
    return f'"{text}"' if isinstance(value, str) and len(text.split()) > 3 else text


def _date_range(first: str, last: str) -> str:
    """ "2026-02-23" to "2026-02-27" -> "23 to 27 February 2026"; other spans with both dates in full."""
    a, b = readable_time(first), readable_time(last)
    if a == b:
        return a
    head, _, rest = a.partition(" ")
    if rest and rest == b.partition(" ")[2]:
        return f"{head} to {b}"
    return f"{a} to {b}"


def _span(start: str, end: str) -> str:
    """A free slot as a person says it: "00:00 to 01:00" on the same day, else both times in full."""
    a, b = start.partition("T"), end.partition("T")
    if a[1] and b[1] and a[0] == b[0]:
        return f"{a[2]} to {b[2]}"
    if a[1] and b[1]:
        return f"{a[2]} to midnight" if b[2] == "00:00" else f"{readable_time(start)} to {readable_time(end)}"
    return f"{start} to {end}"


def _duration(minutes: float) -> str:
    """958 minutes -> "about 16 hours"; 45 -> "45 minutes"; 90 -> "1 hour 30 minutes"."""
    if minutes < 60:
        return f"{round(minutes)} minutes"
    hours, rest = divmod(round(minutes), 60)
    if hours >= 5:
        hours += 1 if rest >= 30 else 0
        return f"about {hours} hours"
    unit = "hour" if hours == 1 else "hours"
    return f"{hours} {unit} {rest} minutes" if rest else f"{hours} {unit}"


# ---------------------------------------------------------------------------- told from the fields


def _facts(output: JsonValue, call: ToolCall | None = None, query: str = "") -> list[str]:
    """The values of a result as sentences, the answer first: "The distance is 1,276.9 km and the
    duration is 958 minutes." Fields that only echo the call's arguments come after the others (and are
    left out when the others say enough)."""
    if output is None:
        return []
    if not isinstance(output, dict):
        return [f"The result is {_listing(output) if isinstance(output, list) else _text(output)}."]
    echoed = _echoes(output, call, query)
    sizes = {len(v) for v in output.values() if isinstance(v, list)}
    echoed |= {k for k in ("count", "total") if isinstance(output.get(k), int) and output.get(k) in sizes}
    keys = [k for k in output if k not in _SKIPPED and label(k) and output[k] not in ("", None)]
    fresh = [k for k in keys if k not in echoed]
    ordered = fresh + [k for k in keys if k in echoed and (not fresh or isinstance(output[k], list))]
    clauses: list[str] = []
    sentences: list[str] = []
    for key in ordered:
        value = output[key]
        name = field_noun(key)
        if isinstance(value, list):
            sentences.append(_list_sentence(name, value))
        elif isinstance(value, dict):
            inner = _facts(value)
            sentences.extend(inner[:1])
        elif isinstance(value, bool):
            if " " not in name and name.endswith("ed"):  # locked, escalated: "it is (not) locked"
                clauses.append(f"it is {'' if value else 'not '}{name}")
        elif len(clauses) < _MAX_FIELDS:
            clauses.append(_clause(name, key, value))
    if clauses:
        text = upper_first(join_words(clauses))
        sentences.insert(0, text if text.endswith((".", "!", "?")) else text + ".")
    return sentences


def _echoes(output: dict[str, JsonValue], call: ToolCall | None, query: str) -> set[str]:
    """Output fields whose value the call's arguments or the request already hold."""
    given = list(call.arguments.values()) if call is not None else []
    echoed = set()
    for key, value in output.items():
        if isinstance(value, list | dict) or value is None:
            continue
        if any(values_match(value, g) for g in given) or (query and text_contains(query, value)):
            echoed.add(key)
    return echoed


def _clause(name: str, key: str, value: JsonValue) -> str:
    """ "the distance is 1,276.9 km", "there are no unread messages", "303.43 was charged"."""
    unit = unit_of(key)
    text = with_unit(_text(value), unit) if unit and isinstance(value, int | float) else _text(value)
    if isinstance(value, str) and words(key)[-1:] and words(key)[-1] in _ENUM_FIELDS:
        text = text.replace("_", " ")  # "the status is in progress", not "in_progress"
    head = name.rsplit(" ", 1)[-1]
    if (
        " " not in name
        and getInflection(getLemma(name, upos="VERB")[0], tag="VBN") == (name,)
        and (name != noun_singular(name) or name.endswith("ed"))
    ):
        return f"{text} was {name}"  # charged, refunded
    if isinstance(value, int) and not isinstance(value, bool) and is_plural(head) and not unit:
        return f"there {'is' if value == 1 else 'are'} {'no' if value == 0 else value} {name}"
    verb = "are" if is_plural(head) else "is"
    if isinstance(value, str) and len(value.split()) > 3:
        text = f'"{value}"'  # a sentence inside a sentence
    return f"the {name} {verb} {text}"


def _list_sentence(name: str, items: list[JsonValue]) -> str:
    """ "There are 3 flights: ...", or for a label that is no plural noun ("free", "busy") "The free list
    has 2 entries: ..."."""
    head, _, last = name.rpartition(" ")
    if last == "list" and head:
        name, last = head, ""
    if not last or not is_plural(last):
        if not items:
            return f"The {name} list is empty."
        entries = "one entry" if len(items) == 1 else f"{len(items)} entries"
        return f"The {name} list has {entries}: {_listing(items)}."
    if not items:
        return f"There are no {name}."
    if len(items) == 1:
        return f"There is one {' '.join(w for w in (head, noun_singular(last)) if w)}: {_listing(items)}."
    return f"There are {len(items)} {name}: {_listing(items)}."


def _listing(items: list[JsonValue]) -> str:
    """Items by what names them (``FL12 (Rivermist to Lakeside)``), the first few when there are many."""
    shown = [_item_text(v) for v in items[:_MAX_ITEMS]]
    text = join_words(shown) if len(items) <= _MAX_ITEMS else ", ".join(shown)
    if len(items) > _MAX_ITEMS:
        text = f"{text}, among others"
    return text


def _item_text(item: JsonValue) -> str:
    if not isinstance(item, dict):
        return _text(item)
    scalars = [
        (k, v) for k, v in item.items() if isinstance(v, str | int | float) and not isinstance(v, bool)
    ]
    if not scalars:
        return "an entry"
    # A naming field first; among fields that name nothing, text before numbers (a route's "to_airport",
    # not its "distance_km", whichever order the keys come in).
    ranked = sorted(scalars, key=lambda kv: (_naming_rank(kv[0]), not isinstance(kv[1], str)))
    return _text(ranked[0][1])


def _naming_rank(key: str) -> int:
    return next((i for i, n in enumerate(_NAMING) if n in key), len(_NAMING))


def _text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return readable_number(value)
    if isinstance(value, str):
        return readable_time(value)
    return "none" if value is None else str(value)


# ---------------------------------------------------------------------------------- target model

_VALUE = re.compile(
    r"\"([^\"]+)\"|“([^”]+)”"  # quoted
    r"|(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"  # dates and times
    r"|([\w.+-]+@[\w-]+\.[\w.]+)"  # e-mail addresses
    r"|((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*)"  # capitalised names
    r"|([^\s,;:()?]*\d[^\s,;:()?]*|[\w-]*_[\w-]*|[^\s,;:()?]*[#!@$%&*][^\s,;:()?]*)"  # ids, numbers, secrets
    r"|([a-z][a-z-]{2,})"  # plain words (options such as 'window' or 'business')
)
_NAME_GROUP = 5
_PLAIN_GROUP = 7
_SECRET_PARAMS = {"password", "passcode", "pin"}
_USER_PARAMS = {"username", "user", "email"}
_USER_CUES = {"i'm", "im", "username", "as", "account", "user"}


def direct_call(query: str, tools: Sequence[ToolSpec]) -> tuple[ToolCall | None, str]:
    """The call a model makes when it takes the request literally, and the reasoning behind it."""
    if not tools:
        return None, "There is no tool to call."
    asked = content_words(query)
    best = max(
        tools,
        key=lambda t: (
            2.0 * len(content_words(t.name) & asked)
            + len(content_words(first_sentence(t.description)) & asked) / 2.0
            + len(_asked_with(t.name) & asked),
            -list(tools).index(t),
        ),
    )
    call = ToolCall(name=best.name, arguments=_fill(best, _candidates(query)))
    cot = (
        f"The request asks to {lower_first(first_sentence(best.description))}. `{best.name}` does exactly "
        "that, so I call it with the values from the request."
    )
    return call, cot


def _asked_with(tool: str) -> set[str]:
    """The words users ask for a built-in tool with (its phrase book wordings): a model knows that
    "get me a seat on a flight" is booking one."""
    phrase = phrase_for(tool)
    return content_words(" ".join(phrase.goals)) if phrase is not None else set()


def _fill(spec: ToolSpec, candidates: list[tuple[str, set[str], bool]]) -> dict[str, JsonValue]:
    """Arguments from the request's values: each parameter takes the value whose cue words fit it."""
    args: dict[str, JsonValue] = {}
    used: set[int] = set()
    for param in [*spec.required, *[p for p in spec.properties if p not in spec.required]]:
        raw = spec.properties.get(param)
        schema: JSONDict = raw if isinstance(raw, dict) else {}
        name_words = set(words(param))
        want = name_words | content_words(str(schema.get("description", "")))
        enum = schema.get("enum")
        scored: list[tuple[float, int, JsonValue]] = []
        for i, (text, cue, plain) in enumerate(candidates):
            value = None if i in used or (plain and not isinstance(enum, list)) else _as_type(text, schema)
            if value is None:
                continue
            score = 2.0 * len(name_words & cue) + 0.5 * len(want & cue)
            score += 1.5 * len({"@" + w for w in name_words} & cue)
            score += 3.0 if name_words & _SECRET_PARAMS and "password" in cue else 0.0
            score += 2.0 if name_words & _USER_PARAMS and cue & _USER_CUES else 0.0
            if isinstance(enum, list):
                score += 3.0 if value in enum else -10.0
            scored.append((score, -i, value))
        if not scored:
            continue
        score, neg_index, value = max(scored, key=lambda s: (s[0], s[1]))
        if param in spec.required or score >= 2.0:
            args[param] = value
            used.add(-neg_index)
    return args


def _candidates(query: str) -> list[tuple[str, set[str], bool]]:
    """Values written in the request, each with the words just before it (its cue) and whether it is a
    plain word (which only an option, an enum value, can be)."""
    found: list[tuple[str, set[str], bool]] = []
    for match in _VALUE.finditer(query):
        text = next(g for g in match.groups() if g).rstrip(".")
        if match.group(_NAME_GROUP) is not None:
            text = re.sub(r"'s$", "", text)  # "Rivermist's zip code": the name is Rivermist
            before = query[: match.start()].rstrip()
            if not before or before.endswith((".", "?", "!", ":")):
                _, _, text = text.partition(" ")  # a capital that only starts a sentence is no name
                if not text:
                    continue
        window = query[max(0, match.start() - 40) : match.start()]
        cue = {w.lower() for w in words(window)[-3:]}
        cue |= {"@" + w.lower() for w in words(window)[-1:]}  # the word right before the value weighs more
        if window.lower().rstrip().endswith("i'm"):
            cue.add("i'm")
        found.append((text, cue, match.group(_PLAIN_GROUP) is not None))
    return found


def _as_type(text: str, schema: JSONDict) -> JsonValue:
    """The text as a value of the schema's type, or None when it cannot be one."""
    kinds = schema_types(schema)
    if not kinds or "string" in kinds:
        return text
    number = text.replace(",", "")
    if "integer" in kinds and re.fullmatch(r"-?\d+", number):
        return int(number)
    if "number" in kinds and re.fullmatch(r"-?\d+(?:\.\d+)?", number):
        return float(number) if "." in number else int(number)
    if "boolean" in kinds and text.lower() in ("yes", "no", "true", "false", "on", "off"):
        return text.lower() in ("yes", "true", "on")
    if "array" in kinds:
        return [part.strip() for part in text.split(",") if part.strip()]
    return None
