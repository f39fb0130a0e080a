"""Dependency inference from tool schemas, value matching on outputs, and parameter constraints.

Three things the API graph needs and that only look at data (no environment, no graph):

* **Schema inference** (:func:`infer_dependencies`): which tool's output feeds which tool's parameter,
  and which tool needs a session opened by another. Outputs are rarely typed field by field (a suite's
  result is a ``dict`` described in prose, "The booking id and the amount charged."), so an output field
  is either a property of the ``returns`` schema or a *reference phrase* in its description. Only
  *reference parameters* take part: identifiers and codes a user does not know (``booking_id``,
  ``zipcode``, ``from_airport`` described as "code of the departure airport"), matched by the entity
  they name, their kind of identifier and their type. Free values (amounts, names, dates) are not
  dependencies: a user states them.
* **Value matching** (:func:`leaf_paths`, :func:`values_at`): where a value sits inside an earlier
  output, so an edge and its mapping can be learned from execution (Appendix G).
* **Parameter constraints** (:func:`param_constraints`): type, enum, range and format from the schema,
  with formats that descriptions state in words ("as YYYY-MM-DD", "16-digit").

:func:`evaluate_inference` measures inferred edges against the dependencies suites declare.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import JsonValue

from hardgen.environment.base import Dependency
from hardgen.schema import JSONDict, ToolSpec

EdgeKind = Literal["value", "prerequisite"]

# Words that make a parameter or output field a reference to an entity rather than a free value.
ID_WORDS = frozenset(
    {
        "id", "code", "key", "token", "uuid", "guid", "number", "ref", "reference", "handle", "sku",
        "symbol", "ticker", "slug", "iban", "isbn", "vin", "zipcode", "postcode", "barcode", "hash",
        "path", "url", "plate", "pnr", "locator",
    }
)  # fmt: skip
# Words that qualify which entity a parameter means (from/to, new/old) but not what kind it is.
QUALIFIERS = frozenset(
    {
        "from", "to", "source", "src", "target", "dst", "dest", "destination", "origin", "new", "old",
        "current", "parent", "primary", "secondary", "sender", "recipient", "receiver", "payer", "payee",
        "other", "first", "second", "my", "your", "their", "the", "a", "an", "its", "his", "her", "this",
        "that", "each", "selected", "existing", "original", "related", "linked", "main", "given", "of",
        "departure", "arrival", "input", "output", "left", "right", "lhs", "rhs", "x", "y",
    }
)  # fmt: skip
# Words skipped when walking back from an identifier word in prose ("the airport's three-letter code").
MODIFIERS = QUALIFIERS | frozenset(
    {
        "unique", "numeric", "digit", "letter", "character", "one", "two", "three", "four", "five", "six",
        "eight", "ten", "sixteen", "iso", "internal", "assigned", "generated", "created", "short", "full",
        "long", "matching", "resulting", "and", "or", "with", "as", "all", "every", "some", "any", "such",
        "public", "private", "official", "local", "standard", "valid", "registered", "saved",
    }
)  # fmt: skip
# Phrases saying a tool needs an open session, and words naming the tool that opens one.
SESSION_PHRASES = (
    "logged-in", "logged in", "log in first", "login first", "signed-in", "signed in", "active session",
    "authenticated", "authenticate first", "requires login", "requires authentication", "open session",
)  # fmt: skip
NO_SESSION = ("no account needed", "no login", "without logging in", "no sign-in", "without an account")
OPENER_PHRASES = ("become available", "becomes available", "session", "switch to", "work in")
LOGIN_WORDS = frozenset({"authenticate", "login", "signin", "logon", "auth"})
LOGOUT_WORDS = frozenset({"logout", "signout", "logoff", "deauthenticate"})

_WORD = re.compile(r"[a-z]+|[0-9]+")
SYNONYMS = {
    "dir": "directory",
    "folder": "directory",
    "traveller": "traveler",
    "colour": "color",
    "car": "vehicle",
}
# Tools named <verb>_<thing> put the thing into these states ("start_engine": the engine runs).
STATE_VERBS: dict[str, frozenset[str]] = {
    "start": frozenset({"run", "running", "runs", "on", "started"}),
    "stop": frozenset({"off", "stopped"}),
    "lock": frozenset({"locked"}),
    "unlock": frozenset({"unlocked"}),
    "press": frozenset({"pressed"}),
    "release": frozenset({"released"}),
    "open": frozenset({"open", "opened"}),
    "close": frozenset({"closed"}),
    "enable": frozenset({"enabled", "on"}),
    "disable": frozenset({"disabled", "off"}),
    "engage": frozenset({"engaged"}),
    "connect": frozenset({"connected"}),
    "activate": frozenset({"active", "activated"}),
    "set": frozenset({"set", "engaged", "released"}),
    "shift": frozenset({"be"}),
    "accelerate": frozenset({"driving", "moving"}),
}
REQUIRE_WORDS = frozenset({"must", "need", "needs", "require", "requires", "required", "only"})
SETTER_VERBS = frozenset({"change", "set", "switch", "enter", "select", "open", "choose"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_POSSESSIVE = re.compile(r"['’]s\b")
_DOUBLED = re.compile(r"(.)\1+")


# ------------------------------------------------------------------------------------------ words


def words(text: str) -> list[str]:
    """Lower-case words of a name or a sentence: ``bookingId``, ``booking_id`` and "booking id" agree.

    Possessives are dropped ("the card's id" gives ``card id``) and plurals made singular.
    """
    return list(_words(text))


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(SYNONYMS.get(w, w) for w in (singular(w) for w in _raw_words(text)))


def raw_words(text: str) -> list[str]:
    """Like :func:`words` but keeping plurals (a plural names what a listing returns)."""
    return list(_raw_words(text))


@lru_cache(maxsize=1 << 16)
def _raw_words(text: str) -> tuple[str, ...]:
    text = _POSSESSIVE.sub("", _CAMEL.sub(" ", text)).lower().replace("-", " ")
    return tuple(_WORD.findall(text))


def singular(word: str) -> str:
    """A cheap singular: ``cards`` -> ``card``, ``cities`` -> ``city``, ``addresses`` -> ``address``."""
    if word == "ids":
        return "id"
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def concept_key(tokens: Sequence[str]) -> str:
    """One comparable key per concept: joined, with doubled letters collapsed (traveller ~ traveler)."""
    return _squash("".join(tokens))


@lru_cache(maxsize=1 << 16)
def _squash(text: str) -> str:
    return _DOUBLED.sub(r"\1", text)


def is_id_word(word: str) -> bool:
    """Whether a word names a kind of identifier (``id``, ``code``, ``zipcode``, ``userid``...)."""
    return word in ID_WORDS or (len(word) > 4 and word.endswith(("id", "code")) and word[-3] != "o")


def _logout_tool(name: str) -> bool:
    tokens = words(name)
    return any(w in "".join(tokens) for w in LOGOUT_WORDS) or "out" in tokens or "off" in tokens


def _login_tool(name: str) -> bool:
    tokens = words(name)
    joined = "".join(tokens)
    if _logout_tool(name):
        return False
    return any(w in tokens or joined.startswith(w) for w in LOGIN_WORDS) or (
        "log" in tokens and "in" in tokens
    )


# --------------------------------------------------------------------------------------- concepts


@dataclass(frozen=True)
class ParamRef:
    """A parameter that can take an earlier output: the concept it names and how.

    ``how`` is ``id`` (an identifier or code: ``booking_id``, ``from_airport`` as "code of the departure
    airport"), ``name`` (an entity referred to by name: ``column``, ``file_name``) or ``field`` (a
    specific quantity another tool reports: ``latitude``, ``distance_km``).
    """

    tool: str
    parameter: str
    concept: str
    how: Literal["id", "name", "field"]
    type: str | None
    required: bool
    fallback: str | None = None  # a field concept tried when nothing returns the named entity


@dataclass(frozen=True)
class OutputRef:
    """Something a tool returns: a returns-schema path, or a phrase of its returns description.

    ``fresh`` marks an output that is not merely an echo of an argument (a *new*, *derived* or listed
    identifier), so a tool that takes a dataset id and returns a derived dataset's id is a source.
    """

    tool: str
    path: str
    concept: str
    how: Literal["id", "name", "field"]
    type: str | None
    fresh: bool = False


# Parameters whose values a user states rather than looks up (never inferred as fed by an output).
GENERIC = frozenset(
    {
        "name", "amount", "limit", "reason", "status", "type", "date", "value", "title", "description",
        "message", "content", "text", "mode", "unit", "note", "memo", "summary", "email", "month", "year",
        "count", "quantity", "price", "query", "pattern", "label", "comment", "body", "subject", "start",
        "end", "time", "duration", "size", "category", "level", "page", "offset", "direction", "format",
        "language", "currency", "country", "city", "username", "password", "keyword", "tag", "priority",
        "day", "week", "hour", "minute", "second", "rate", "percent", "months", "term", "side", "url",
        "address", "phone", "color", "channel", "lines", "line", "number", "result", "total", "key",
        "notes", "path", "folder", "source", "destination", "target", "item", "x", "y", "a", "b", "n",
    }
)  # fmt: skip
# Modifiers that make an output something other than an echo of the tool's own argument.
FRESH = frozenset(
    {
        "new", "derived", "destination", "resulting", "created", "generated", "copied", "copy", "each",
        "all", "every", "remaining", "matching", "other", "next", "current", "their",
    }
)  # fmt: skip
_BARE = ("id", "code", "key", "number", "token", "ref", "reference")
_CONTAINERS = frozenset({"entry", "item", "element", "record", "row"})


def _schema_type(schema: Mapping[str, JsonValue]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, list):
        named = [k for k in kind if isinstance(k, str) and k != "null"]
        return named[0] if len(named) == 1 else None
    return None


def _head_from_prose(text: Sequence[str], id_word: str) -> list[str] | None:
    """The first phrase in some prose naming whose ``id_word`` it is ("the booking's id")."""
    for i, w in enumerate(text):
        if w == id_word:
            phrase, _ = _phrase_at(text, i)
            if phrase:
                return phrase
    return None


def _noun_from_description(desc: Sequence[str]) -> str | None:
    """The entity a description starts with: "The column whose values..." -> ``column``."""
    for w in desc[:4]:
        if w not in MODIFIERS and w not in GENERIC and not is_id_word(w) and w.isalpha():
            return w
    return None


def param_refs(spec: ToolSpec) -> list[ParamRef]:
    """The tool's parameters that can take an earlier output, with the concept each names."""
    refs: list[ParamRef] = []
    for name, schema in spec.properties.items():
        if not isinstance(schema, dict):
            continue
        kind = _schema_type(schema)
        if kind in ("boolean", "object") or "enum" in schema:
            continue
        if kind == "array" and not (isinstance(schema.get("items"), dict) or "items" not in schema):
            continue
        tokens = words(name)
        if "new" in tokens:
            continue  # it names something the call creates
        core = [t for t in tokens if t not in QUALIFIERS] or tokens
        desc = words(str(schema.get("description", "")))
        found = _param_concept(core, desc)
        if found:
            concept, how = found
            own_noun = how == "name" and concept[0] == core[-1] and core[-1] != "name"
            fallback = concept_key(concept[:1]) if own_noun else None
            refs.append(
                ParamRef(spec.name, name, concept_key(concept), how, kind, name in spec.required, fallback)
            )
    return refs


def _param_concept(
    core: list[str], desc: list[str]
) -> tuple[list[str], Literal["id", "name", "field"]] | None:
    core = [t for t in core if not t.isdigit()] or core  # file_name1, file_name2
    if (is_id_word(core[-1]) and core[-1] != "number") or (core[-1] == "number" and len(core) > 1):
        if len(core) == 1 and core[0] in _BARE:
            head = _head_from_prose(desc, core[0])  # a bare "id": whose id, says the description
            return (head, "id") if head else None
        return core, "id"
    id_words = [w for w in desc if is_id_word(w) and w not in ("number", "path", "url")]
    if id_words and core[-1] in desc and core[-1] not in GENERIC:
        return [*core, id_words[0]], "id"  # "from_airport: code of the departure airport"
    if core[-1] == "name" and len(core) > 1:
        return ([core[-2], "name"], "name") if core[-2] not in GENERIC else None
    if core[-1] in GENERIC or core[-1] in QUALIFIERS:
        # "source: The name of a file or directory ..." / "folder: The directory to enter"
        head = _name_of(desc) or [n for n in [_noun_from_description(desc)] if n]
        return ([head[-1], "name"], "name") if head and head[-1] not in GENERIC else None
    if core[-1] in desc[:4] and len(core[-1]) > 2:
        return [core[-1], "name"], "name"  # "column: The column to compare." names a column
    if all(t.isalpha() for t in core) and len("".join(core)) >= 4:
        return core, "field"
    return None


def _name_of(desc: Sequence[str]) -> list[str] | None:
    """``The name of a file in ...`` -> ``[file]``."""
    for i, w in enumerate(desc):
        if w == "name" and i + 1 < len(desc) and desc[i + 1] == "of":
            k = i + 2
            while k < len(desc) and desc[k] in MODIFIERS:
                k += 1
            if k < len(desc):
                return [desc[k]]
    return None


def output_refs(spec: ToolSpec) -> list[OutputRef]:
    """What the tool returns that can feed a parameter: typed ``returns`` properties and prose phrases."""
    refs: dict[tuple[str, str], OutputRef] = {}
    for path, schema in _schema_leaves(spec.returns, ""):
        tokens = [t for t in words(path.replace("[]", "")) if t not in QUALIFIERS]
        last = [t for t in words(path.rsplit(".", 1)[-1].replace("[]", "")) if t not in QUALIFIERS]
        if not last:
            continue
        fresh = "[]" in path or any(t in FRESH for t in words(path))
        if is_id_word(last[-1]) or last[-1] == "name":
            # a bare "id" (or "name") inside "cards[]" is the card's: the entity is the enclosing key
            concept = last if len(last) > 1 else [*tokens[-2:-1], last[0]]
            how: Literal["id", "name", "field"] = "id" if is_id_word(last[-1]) else "name"
        else:
            concept, how = last, "field"
        key = concept_key(concept)
        refs.setdefault((key, how), OutputRef(spec.name, path, key, how, _schema_type(schema), fresh))
    prose = str(spec.returns.get("description", ""))
    text, raw = words(prose), raw_words(prose)
    for i, w in enumerate(text):
        if is_id_word(w) or w == "name":
            phrase, fresh = _phrase_at(text, i, raw)
            if phrase:
                how = "id" if is_id_word(w) else "name"
                key = concept_key(phrase)
                refs.setdefault((key, how), OutputRef(spec.name, "_".join(phrase), key, how, None, fresh))
    for i in range(len(text)):
        for n in (1, 2, 3):
            gram = [t for t in text[i : i + n] if t not in ("in", "of")]
            if len(text[i : i + n]) == n and gram and text[i] not in ("in", "of"):
                key = concept_key(gram)
                fresh = any(t in FRESH for t in text[max(0, i - 3) : i])
                refs.setdefault(
                    (key, "field"), OutputRef(spec.name, "_".join(gram), key, "field", None, fresh)
                )
    return list(refs.values())


def _phrase_at(text: Sequence[str], i: int, raw: Sequence[str] = ()) -> tuple[list[str] | None, bool]:
    """The phrase whose identifier (or ``name``) word sits at ``text[i]``, and whether it is fresh.

    "Events in start order with id, title..." lists events: an identifier introduced by "with"
    belongs to the first plural noun of the sentence (in ``raw``, the words before singularising).
    """
    w = text[i]
    if w not in (*_BARE, "name"):
        return [w], any(t in FRESH for t in text[max(0, i - 3) : i])  # "zipcode", "paths" name themselves
    j = i - 1
    while j >= 0 and text[j] in MODIFIERS:
        j -= 1
    if "with" in text[j + 1 : i] and raw:
        plural = next((k for k, r in enumerate(raw[:j]) if r.endswith("s") and r not in MODIFIERS), None)
        if plural is not None:
            return [text[plural], w], True
    if j >= 0 and not is_id_word(text[j]) and not text[j].isdigit() and text[j] != "name":
        return [text[j], w], any(t in FRESH for t in text[max(0, j - 3) : i])
    k = i + 1
    if k < len(text) and text[k] == "of":
        k += 1
        while k < len(text) and text[k] in MODIFIERS:
            k += 1
        if k < len(text) and not is_id_word(text[k]):
            return [text[k], w], any(t in FRESH for t in text[i:k])
    return None, False


def _schema_leaves(schema: JsonValue, path: str) -> Iterator[tuple[str, Mapping[str, JsonValue]]]:
    """Paths (``cards[].card_id``) of the scalar leaves a returns schema describes."""
    if not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            yield from _schema_leaves(sub, f"{path}.{key}" if path else key)
        return
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict):
        yield from _schema_leaves(items, f"{path}[]")
        return
    if path:
        yield path, schema


# ---------------------------------------------------------------------------------------- inference


@dataclass(frozen=True)
class InferredDependency:
    """An edge inferred from schemas: ``after`` needs ``before`` first."""

    before: str
    after: str
    kind: EdgeKind
    mappings: tuple[tuple[str, str], ...] = ()
    reason: str = ""


def infer_dependencies(
    specs: Sequence[ToolSpec], *, cross_suite: bool = False, sessions: Literal["suite", "phrases"] = "suite"
) -> list[InferredDependency]:
    """Infer dependency edges from tool schemas alone.

    Value edges: a tool that returns something (a property of its returns schema, or a phrase of its
    returns description) feeds the parameters that name the same thing with a compatible type: an
    identifier of the same entity ("The new booking's id" -> ``booking_id``; "the airport's code" ->
    ``from_airport``, "code of the departure airport"), an entity by name ("each column's name" ->
    ``column``), or a specific quantity (``latitude``, ``distance_km``). A tool that takes the same
    thing only echoes it and is no source, unless its output is marked as new ("derived", "new",
    "each").

    Prerequisite edges: a suite's session tool (a log-in, or a tool that opens a workspace) is needed
    by every other tool of the suite (``sessions="suite"``; but not by its log-out, by the tools that
    supply its arguments, or by tools that say they need no account), or only by the tools whose text
    says so (``sessions="phrases"``: "the logged-in account"). Execution refutes the surplus (see
    :func:`hardgen.environment.apigraph.sampler.probe_graph`). A tool whose description names another tool
    needs that tool.

    Args:
        specs: The tools, each with its ``suite``.
        cross_suite: Also match outputs and parameters of different suites (off: suites rarely share
            identifiers, and matching within suites keeps inference linear in the number of tools).

    Returns:
        The edges, sorted, one per (before, after, kind) with all its parameter mappings.
    """
    by_suite: dict[str, list[ToolSpec]] = defaultdict(list)
    for spec in specs:
        by_suite["" if cross_suite else spec.suite].append(spec)
    found: dict[tuple[str, str, EdgeKind], set[tuple[str, str]]] = defaultdict(set)
    reasons: dict[tuple[str, str, EdgeKind], str] = {}
    for group in by_suite.values():
        producers: dict[tuple[str, str], list[OutputRef]] = defaultdict(list)
        params = {spec.name: param_refs(spec) for spec in group}
        consumed = {name: {(r.concept, r.how) for r in refs} for name, refs in params.items()}
        entities: set[str] = set()  # nouns the suite names things by (a "column name", a "card id")
        prose = {
            spec.name: {concept_key([w]) for w in words(str(spec.returns.get("description", "")))}
            for spec in group
        }
        for spec in group:
            for out in output_refs(spec):
                if out.fresh or (out.concept, out.how) not in consumed[spec.name]:  # not an echo
                    producers[(out.concept, out.how)].append(out)
                if out.how != "field" and "_" in out.path:
                    entities.add(concept_key(words(out.path.replace("[]", ""))[-2:-1]))
        for spec in group:
            for ref in params[spec.name]:
                sources = list(producers.get((ref.concept, ref.how), ()))
                if not sources and ref.fallback and ref.fallback not in entities:
                    sources = list(producers.get((ref.fallback, "field"), ()))
                if ref.how == "name":
                    # "its entries (name and type: file or directory)" name files and directories
                    noun = ref.concept[: -len("name")]
                    sources += [
                        o
                        for c in _CONTAINERS
                        for o in producers.get((concept_key([c, "name"]), "name"), ())
                        if noun in prose[o.tool]
                    ]
                for out in sources:
                    if out.tool == spec.name or not _types_fit(out.type, ref.type):
                        continue
                    key: tuple[str, str, EdgeKind] = (out.tool, spec.name, "value")
                    found[key].add((out.path, ref.parameter))
                    reasons[key] = f"{out.tool} returns {out.path!r}, {spec.name} takes {ref.parameter!r}"
        _infer_prerequisites(group, found, reasons, sessions)
    return [
        InferredDependency(b, a, k, tuple(sorted(found[(b, a, k)])), reasons[(b, a, k)])
        for (b, a, k) in sorted(found)
    ]


def _infer_prerequisites(
    group: Sequence[ToolSpec],
    found: dict[tuple[str, str, EdgeKind], set[tuple[str, str]]],
    reasons: dict[tuple[str, str, EdgeKind], str],
    sessions: Literal["suite", "phrases"],
) -> None:
    names = {spec.name for spec in group}
    openers: dict[str, list[str]] = defaultdict(list)
    for spec in group:
        if _login_tool(spec.name) or _opener(spec):
            openers[spec.suite].append(spec.name)
    mention = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b"
    )
    for spec in group:
        texts = [spec.description] + [
            str(s.get("description", "")) for s in spec.properties.values() if isinstance(s, dict)
        ]
        text = " ".join(texts).lower()
        mine = openers[spec.suite]
        if spec.name not in mine and not _logout_tool(spec.name) and not any(p in text for p in NO_SESSION):
            says = any(p in text for p in SESSION_PHRASES)
            for opener in mine:
                feeds_it = (spec.name, opener, "value") in found
                if (says or sessions == "suite") and not feeds_it:
                    key: tuple[str, str, EdgeKind] = (opener, spec.name, "prerequisite")
                    found.setdefault(key, set())
                    why = "says it needs" if says else "belongs to a suite with"
                    reasons[key] = f"{spec.name} {why} a session, opened by {opener}"
        for setter, why in _state_setters(spec, group):
            key = (setter, spec.name, "prerequisite")
            found.setdefault(key, set())
            reasons[key] = f"{spec.name} {why}"
        for other in mention.findall(" ".join(texts)):
            if other != spec.name:
                key = (other, spec.name, "prerequisite")
                found.setdefault(key, set())
                reasons[key] = f"{spec.name}'s description names {other}"


def _state_setters(spec: ToolSpec, group: Sequence[ToolSpec]) -> list[tuple[str, str]]:
    """Tools that put something into a state this tool's description requires.

    "The engine must run" needs ``start_engine``; "both the brake pedal and the parking brake must be
    released" needs ``release_brake_pedal`` and ``set_parking_brake``; "a file in the current
    directory" needs the tool that changes the current directory (``cd``).
    """
    own = spec.description.split(" Returns:")[0]
    clauses = [words(c) for c in re.split(r"[.;]", own) if c.strip()]
    texts = " ".join(
        [own] + [str(s.get("description", "")) for s in spec.properties.values() if isinstance(s, dict)]
    )
    all_words = words(texts)
    out: list[tuple[str, str]] = []
    for other in group:
        if other.name == spec.name:
            continue
        name = [t for t in words(other.name) if t not in QUALIFIERS]
        verb, thing = (name[0], name[1:]) if name else ("", [])
        states = STATE_VERBS.get(verb)
        if states and thing:
            for clause in clauses:
                if REQUIRE_WORDS & set(clause) and set(thing) <= set(clause) and states & set(clause):
                    out.append((other.name, f"requires the state {other.name} brings about"))
                    break
        current = _sets_current(other)
        if current and any(
            all_words[i] == "current" and current in all_words[i + 1 : i + 3]
            for i in range(len(all_words) - 1)
        ):
            out.append((other.name, f"works in the current {current}, which {other.name} changes"))
    return out


def _sets_current(spec: ToolSpec) -> str | None:
    """``cd``: "Change the current working directory." sets the current ``directory``."""
    text = words(spec.description.split(" Returns:")[0])
    for i, w in enumerate(text[:3]):
        if w in SETTER_VERBS and "current" in text[i + 1 : i + 3]:
            rest = [t for t in text[text.index("current", i) + 1 :] if t not in MODIFIERS]
            nouns = [t for t in rest[:2] if t != "working"]
            return nouns[0] if nouns else None
    return None


def _opener(spec: ToolSpec) -> bool:
    """A tool that opens a context other tools work in ("Open a workspace; its datasets become available")."""
    tokens = words(spec.name)
    text = spec.description.lower()
    return bool({"open", "connect"} & set(tokens)) and any(p in text for p in OPENER_PHRASES)


def _types_fit(output_type: str | None, param_type: str | None) -> bool:
    if output_type is None or param_type is None or output_type == param_type:
        return True
    return {output_type, param_type} <= {"integer", "number"} or param_type == "string"


# ---------------------------------------------------------------------------------------- evaluation


@dataclass
class InferenceScore:
    """Precision and recall of inferred edges against declared ones, on (before, after) pairs."""

    true_positives: list[tuple[str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    false_negatives: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / found if found else 1.0

    @property
    def recall(self) -> float:
        declared = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / declared if declared else 1.0

    def as_dict(self) -> dict[str, JsonValue]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true_positives": len(self.true_positives),
            "false_positives": [f"{b} -> {a}" for b, a in self.false_positives],
            "false_negatives": [f"{b} -> {a}" for b, a in self.false_negatives],
        }


def evaluate_inference(
    inferred: Iterable[InferredDependency], declared: Iterable[Dependency]
) -> InferenceScore:
    """Compare inferred and declared edges as (before, after) pairs, whatever their kind."""
    got = {(d.before, d.after) for d in inferred}
    want = {(d.before, d.after) for d in declared}
    return InferenceScore(sorted(got & want), sorted(got - want), sorted(want - got))


# ------------------------------------------------------------------------------------ value matching


def leaf_paths(value: JsonValue, path: str = "") -> Iterator[tuple[str, JsonValue]]:
    """Every scalar in a JSON value with its path: ``cards[].card_id``, ``airport_code``, ``[]``."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from leaf_paths(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for sub in value:
            yield from leaf_paths(sub, f"{path}[]")
    elif value is not None:
        yield path, value


def values_at(value: JsonValue, path: str) -> list[JsonValue]:
    """The scalars found at ``path`` inside an output (all list items for ``[]``), in order.

    A path that does not resolve falls back to leaves whose last key names the same concept, so an
    inferred mapping (``booking_id`` from the prose "the booking id") finds ``{"booking_id": ...}``.
    """
    exact = [v for p, v in leaf_paths(value) if p == path]
    if exact or not path:
        return exact
    want = concept_key([t for t in words(path.rsplit(".", 1)[-1].replace("[]", "")) if t not in QUALIFIERS])
    out: list[JsonValue] = []
    for p, v in leaf_paths(value):
        last = p.rsplit(".", 1)[-1].replace("[]", "")
        if concept_key([t for t in words(last) if t not in QUALIFIERS]) == want and v not in out:
            out.append(v)
    return out


def distinctive(value: JsonValue) -> bool:
    """Whether a value is specific enough that finding it in an earlier output is evidence of flow."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return (abs(value) >= 100 and value != int(value)) or abs(value) >= 1000
    if isinstance(value, str):
        return (len(value) >= 3 and any(c.isdigit() for c in value)) or (len(value) >= 6 and " " not in value)
    return False


# --------------------------------------------------------------------------------- constraints (P)

_DATE = re.compile(r"yyyy-mm-dd", re.I)
_TIME = re.compile(r"\bhh:mm\b", re.I)
_NDIGIT = re.compile(r"\b(\d+|one|two|three|four|five|six|eight|ten|sixteen)[- ]digit", re.I)
_NLETTER = re.compile(r"\b(two|three|four|\d+)[- ]letter", re.I)
_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "ten": 10,
    "sixteen": 16,
}


def param_constraints(spec: ToolSpec) -> dict[str, JSONDict]:
    """P for one tool: each parameter's type, enum, range and format, from its schema and description."""
    out: dict[str, JSONDict] = {}
    for name, schema in spec.properties.items():
        if not isinstance(schema, dict):
            continue
        c: JSONDict = {"required": name in spec.required}
        kind = _schema_type(schema)
        if kind:
            c["type"] = kind
        for key in ("enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                    "maxLength", "pattern", "format", "default", "items"):  # fmt: skip
            if key in schema:
                c[key] = schema[key]
        desc = str(schema.get("description", ""))
        if "format" not in c and "pattern" not in c:
            fmt = description_format(desc)
            if fmt:
                c["format"] = fmt
        low = desc.lower()
        if kind in ("integer", "number") and "minimum" not in c and "exclusiveMinimum" not in c:
            if "positive" in low:
                c["exclusiveMinimum"] = 0
            elif "non-negative" in low or "at least 0" in low:
                c["minimum"] = 0
        out[name] = c
    return out


def description_format(description: str) -> str | None:
    """A format a description states in words: ``date``, ``time``, ``mm/yy``, ``digits:16``, ``upper:3``."""
    if _DATE.search(description):
        return "date"
    if _TIME.search(description):
        return "time"
    if "MM/YY" in description:
        return "mm/yy"
    m = _NDIGIT.search(description)
    if m:
        n = m.group(1).lower()
        return f"digits:{_NUMBERS.get(n, n)}"
    m = _NLETTER.search(description)
    if m:
        n = m.group(1).lower()
        return f"upper:{_NUMBERS.get(n, n)}"
    if "email" in description.lower():
        return "email"
    return None
