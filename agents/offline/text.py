"""Words and values for the offline agents: tokens of names, readable labels, rendered values.

The offline agents understand tools the way a careful reader does: by the words in their names, parameter
names and descriptions. These helpers split identifiers into words, compare word sets, turn names into
labels a user would write, and render JSON values into text.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator

from lemminflect import getAllLemmas, getInflection, getLemma
from pydantic import JsonValue

from hardgen.agents.offline.inflect_engine import inflect_engine
from hardgen.schema import JSONDict, ToolSpec, json_type_of

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z]+|\d+")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset(
    """a an the of to for in on at by with and or is are be as it its this that from into via per your
    you my me i we our their his her which what when where who how all any each every given some one two
    first then than not no if else returns return"""
)

# Words that say which side of a pair a value belongs to (origin/destination, sender/recipient, ...).
ROLE_WORDS: dict[str, frozenset[str]] = {
    "from": _wordset("from origin departure depart source src sender start outbound"),
    "to": _wordset("to destination dest arrival arrive target recipient receiver end"),
}
ROLE_LABEL = {"from": "origin", "to": "destination"}

# Verb families of tool names (the first word of the name), for query templates and summaries.
VERB_FAMILIES: dict[str, frozenset[str]] = {
    "read": _wordset(
        """get fetch read show view check lookup look retrieve query describe display inspect count
        calculate compute estimate quote convert"""
    ),
    "find": _wordset("find search locate list browse filter match discover"),
    "buy": _wordset("book buy purchase order reserve rent subscribe pay checkout"),
    "send": _wordset("send post share message notify email reply forward publish invite submit"),
    "create": _wordset("create add register make open new generate schedule upload save write insert"),
    "cancel": _wordset("cancel delete remove close revoke unsubscribe archive clear drop"),
    "update": _wordset("update set change edit modify rename move adjust toggle enable disable mark"),
    "transfer": _wordset("transfer deposit withdraw refund redeem exchange"),
    "login": _wordset("login authenticate auth signin logon log sign"),
}


def words(text: str) -> list[str]:
    """Lower-case words of an identifier or sentence (``fromAirport``, ``from_airport`` -> from, airport)."""
    return _WORD.findall(_CAMEL.sub(" ", text).lower())


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry meaning (no stopwords), with simple plural folding."""
    return {singular(w) for w in words(text) if w not in STOPWORDS and len(w) > 1}


def singular(word: str) -> str:
    """A cheap singular: ``entries`` -> ``entry``, ``matches`` -> ``match``, ``cards`` -> ``card``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_ORDINAL_TEXT = """first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"""
ORDINALS: tuple[str, ...] = tuple(_ORDINAL_TEXT.split())


def overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard overlap of two word collections (0 when either is empty)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def role_of(name: str) -> str:
    """``from`` or ``to`` when a parameter name says which side it is (``from_airport``), else ``""``."""
    tokens = set(words(name))
    for role, synonyms in ROLE_WORDS.items():
        if tokens & synonyms:
            return role
    return ""


def verb_of(tool_name: str) -> str:
    """The first word of a tool name (its verb), e.g. ``book`` for ``book_flight``."""
    tokens = words(tool_name)
    return tokens[0] if tokens else ""


def family_of(tool_name: str) -> str:
    """The verb family of a tool (``read``, ``find``, ``buy``, ...), ``other`` when unknown."""
    verb = verb_of(tool_name)
    for family, verbs in VERB_FAMILIES.items():
        if verb in verbs:
            return family
    return "other"


def is_login_tool(tool_name: str) -> bool:
    """Whether a tool opens a session (``login``, ``authenticate_travel``, ``sign_in``)."""
    tokens = set(words(tool_name))
    return bool(tokens & {"login", "authenticate", "signin", "logon"}) or (
        ("log" in tokens or "sign" in tokens) and "in" in tokens
    )


def is_logout_tool(tool_name: str) -> bool:
    """Whether a tool closes a session (``logout``, ``bank_logout``, ``sign_out``)."""
    tokens = set(words(tool_name))
    return bool(tokens & {"logout", "signout", "logoff"}) or (
        ("log" in tokens or "sign" in tokens) and "out" in tokens
    )


_ACTION_VERBS = _wordset(
    """join leave follow unfollow block unblock start stop lock unlock press release publish escalate link
    assign resolve reopen like unlike mute unmute pin unpin plan play apply solve track recall store
    logout signout logoff"""
)
_PHRASAL_VERBS = {
    "checkout": "check out", "login": "log in", "logon": "log on", "signin": "sign in", "logout": "log out",
    "signout": "sign out", "logoff": "log off", "lookup": "look up", "setup": "set up", "signup": "sign up",
}  # fmt: skip


def action_of(tool_name: str) -> tuple[str, list[str]]:
    """The verb of a tool's name and the words of its object: ``book_flight`` -> (book, [flight]);
    a namespace in front stays with the object (``game_get_leaderboard`` -> (get, [game, leaderboard]));
    ``("", words)`` when no word of the name is a verb (``vehicle_status``, ``cd``)."""
    tokens = words(tool_name)
    known = _ACTION_VERBS | {v for verbs in VERB_FAMILIES.values() for v in verbs}
    for i, token in enumerate(tokens[:2]):
        if token in known:
            rest = tokens[i + 1 :]
            if i and (not rest or any(noun_singular(w) == tokens[0] for w in rest)):
                return token, rest  # math_recall, game_list_games: the namespace adds nothing
            return token, tokens[:i] + rest
    if tokens and tokens[0] not in ("log", "sign") and is_verb(tokens[0]) and _base_form(tokens[0]):
        return tokens[0], tokens[1:]
    return "", tokens


def is_verb(word: str) -> bool:
    """Whether an English word can be a verb (``book`` yes, ``vehicle`` no), by lemminflect's lexicon."""
    return "VERB" in getAllLemmas(word.lower())


def _base_form(word: str) -> bool:
    lemma = getLemma(word, upos="VERB")
    return bool(lemma) and lemma[0] == word


def verb_phrase(verb: str) -> str:
    """A verb as written in a sentence: ``checkout`` -> "check out", ``book`` -> "book"."""
    return _PHRASAL_VERBS.get(verb, verb)


def past_tense(verb: str) -> str:
    """The simple past of a verb (``send`` -> ``sent``, ``transfer`` -> ``transferred``, ``checkout`` ->
    ``checked out``), by lemminflect."""
    head, _, particle = verb_phrase(verb.lower()).partition(" ")
    forms = getInflection(head, tag="VBD")
    return " ".join([forms[0] if forms else head, *([particle] if particle else [])])


def noun_singular(word: str) -> str:
    """The singular of an English noun (``entries`` -> ``entry``, ``statuses`` -> ``status``)."""
    lemma = getLemma(word.lower(), upos="NOUN")
    return lemma[0] if lemma else word


def noun_plural(word: str) -> str:
    """The plural of an English noun (``entry`` -> ``entries``)."""
    forms = getInflection(word.lower(), tag="NNS")
    return forms[0] if forms else word


def is_plural(word: str) -> bool:
    """Whether a noun is in the plural (``flights`` yes, ``status`` no)."""
    word = word.lower()
    return word.endswith("s") and noun_singular(word) != word


_INFLECT = inflect_engine()
_ARTICLE = re.compile(r"\b([Aa]n?) ([a-z][a-z-]+)\b")
_ONE = re.compile(r"(?<![\d.,])\b1 ([a-z]+)\b")


def agree(text: str) -> str:
    """Articles and numbers made to agree with the word after them, by inflect and lemminflect:
    "a enterprise" -> "an enterprise", "1 followers" -> "1 follower"."""

    def article(match: re.Match[str]) -> str:
        word = match.group(2)
        fixed = _INFLECT.a(word).split(" ", 1)[0]
        return (fixed[0].upper() + fixed[1:] if match.group(1)[0] == "A" else fixed) + " " + word

    def one(match: re.Match[str]) -> str:
        word = match.group(1)
        return "1 " + (noun_singular(word) if is_plural(word) else word)

    return _ONE.sub(one, _ARTICLE.sub(article, text))


def with_article(phrase: str) -> str:
    """A noun phrase with its indefinite article, by inflect: "Marketing Director" -> "a Marketing
    Director", "HR Partner" -> "an HR Partner"."""
    return _INFLECT.a(phrase) if phrase else phrase


def count_noun(count: int, noun: str) -> str:
    """A number with its noun in the right number, by inflect: (1, "unread message") -> "1 unread
    message", (2, "unread message") -> "2 unread messages", (0, ...) -> "no unread messages"."""
    head, _, last = noun.rpartition(" ")
    plural = _INFLECT.plural_noun(last, count) if count != 1 else last
    said = f"{head} {plural}" if head else plural
    return f"{'no' if count == 0 else count} {said}"


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def readable_time(text: str) -> str:
    """An ISO date or timestamp as a person writes it: "2026-02-12T08:30:00" -> "12 February 2026 at
    08:30", "2026-02-25" -> "25 February 2026"; any other text unchanged."""
    match = _ISO.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return text
    year, month, day, hour, minute = match.group(1, 2, 3, 4, 5)
    date = f"{int(day)} {calendar.month_name[int(month)]} {year}"
    return f"{date} at {hour}:{minute}" if hour is not None else date


def readable_number(value: float) -> str:
    """A number as a person writes it: very large or very small ones in powers of ten ("1.0712 × 10^46"),
    the rest with thousands separators and no trailing zeros ("1,276.9")."""
    if value != 0 and not 1e-4 <= abs(value) < 1e12:
        mantissa, exponent = f"{value:.4e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')} × 10^{int(exponent)}"
    return f"{value:,.10f}".rstrip("0").rstrip(".")


def label(name: str) -> str:
    """A readable label of an identifier: ``travel_date`` -> ``travel date``, ``cityA`` -> ``city A``."""
    parts = [p for p in re.split(r"[_\s]+", _CAMEL.sub(" ", name)) if p]
    return " ".join(p if (len(p) == 1 and p.isupper()) else p.lower() for p in parts)


def humanize_tool(name: str) -> str:
    return " ".join(words(name))


def first_sentence(text: str) -> str:
    """The first sentence of a description (up to a period or a semicolon), without its final period."""
    text = text.split(" Returns: ", 1)[0].strip()  # specgen appends the Returns section
    if not text:
        return ""
    match = re.search(r"(?<=[A-Za-z0-9)\"'])([.!?](\s|$)|;)", text)
    sentence = text[: match.start()] if match else text
    return sentence.strip().rstrip(".")


def lower_first(text: str) -> str:
    if text[:1] == "I" and text[1:2] in ("", " ", "'"):  # the pronoun I stays upper case
        return text
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_value(value: JsonValue) -> str:
    """A value as a user writes it in a sentence (strings bare, lists comma-joined, objects as JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return ", ".join(render_value(v) for v in value)
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def join_words(items: list[str], conj: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def schema_types(schema: JSONDict) -> set[str]:
    """The JSON types a parameter schema accepts (empty when it accepts anything)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        found: set[str] = set()
        for member in any_of:
            if isinstance(member, dict):
                found |= schema_types(member)
        return found
    return set()


def type_fits(value: JsonValue, schema: JSONDict) -> bool:
    """Whether ``value`` has a type the schema accepts (an integer fits a number)."""
    accepted = schema_types(schema)
    if not accepted:
        return True
    kind = json_type_of(value)
    return kind in accepted or (kind == "integer" and "number" in accepted)


def param_schema(spec: ToolSpec, name: str) -> JSONDict:
    schema = spec.properties.get(name)
    return schema if isinstance(schema, dict) else {}


def param_description(spec: ToolSpec, name: str) -> str:
    description = param_schema(spec, name).get("description")
    return description if isinstance(description, str) else ""


def returns_description(spec: ToolSpec) -> str:
    description = spec.returns.get("description") if isinstance(spec.returns, dict) else None
    return description if isinstance(description, str) else ""


def leaves(value: JsonValue, path: str = "") -> Iterator[tuple[str, JsonValue]]:
    """Every scalar in a JSON value with its path (``cards[0].card_id``)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from leaves(inner, f"{path}[{i}]")
    else:
        yield path, value


def last_key(path: str) -> str:
    """The field name at the end of a leaf path (``cards[0].card_id`` -> ``card_id``)."""
    tail = path.rsplit(".", 1)[-1]
    return re.sub(r"\[\d+\]$", "", tail) or tail


def estimate_tokens(text: str) -> int:
    """A token count estimated from text length (about four characters a token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


# A unit at the end of a field or parameter name (``distance_km``, ``duration_minutes``) and how it is
# written after a number.
_UNITS = {
    "km": "km", "kmh": "km/h", "mph": "mph", "psi": "psi", "percent": "%", "pct": "%", "c": "°C",
    "celsius": "°C", "minutes": "minutes", "hours": "hours", "days": "days", "months": "months",
    "seconds": "seconds", "liters": "litres", "litres": "litres", "kg": "kg", "cm": "cm", "mb": "MB",
    "gb": "GB", "kb": "KB", "bytes": "bytes",
}  # fmt: skip


def unit_of(name: str) -> str:
    """The unit a field or parameter name ends with (``distance_km`` -> "km", ``speed_kmh`` -> "km/h"),
    "" when it names none. Only names of two words or more count, and a bare ``days`` too."""
    tokens = words(name)
    if not tokens or tokens[-1] not in _UNITS:
        return ""
    if len(tokens) == 1 and tokens[0] not in ("days", "months", "minutes", "hours", "seconds"):
        return ""
    return _UNITS[tokens[-1]]


def with_unit(value: str, unit: str) -> str:
    """``1,276.9`` and ``km`` -> "1,276.9 km"; ``80`` and ``%`` -> "80%"."""
    if not unit:
        return value
    return f"{value}{unit}" if unit == "%" else f"{value} {unit}"


def field_noun(name: str) -> str:
    """A field name as the noun a person uses: ``distance_km`` -> "distance", ``unread_messages`` ->
    "unread messages", ``company_name`` -> "company name"."""
    tokens = words(name)
    if unit_of(name) and len(tokens) > 1:
        tokens = tokens[:-1]
    return " ".join(tokens) if tokens else label(name)
