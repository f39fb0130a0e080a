"""The offline turn summariser (Figure 9) and Phase I's offline model under test.

The summary reports each call's result in plain words, the final ones in full. The target model takes
the request literally: it calls the tool whose name and description best match the request's words,
with values read from the request by the words in front of them, and stops once it has a result. It
never bridges (no lookups first), so it fails wherever a prerequisite or an intermediate value is needed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from pydantic import JsonValue

from hardgen.agents.offline.text import (
    content_words,
    first_sentence,
    humanize_tool,
    label,
    last_key,
    leaves,
    lower_first,
    past_tense,
    schema_types,
    verb_of,
    words,
)
from hardgen.schema import JSONDict, Observation, ToolCall, ToolSpec

# --------------------------------------------------------------------------------------- summary

_OPENINGS = ["Done.", "All set.", "Here is the result.", "Your request is complete."]


def summarize(observations: Sequence[Observation], rng: random.Random) -> tuple[str, str]:
    """A closing message for the user: one sentence per call result, the last two in detail."""
    sentences = [_result(obs, detailed=i >= len(observations) - 2) for i, obs in enumerate(observations)]
    failed = any(not o.ok for o in observations)
    opening = "Part of the request could not be completed." if failed else rng.choice(_OPENINGS)
    text = " ".join([opening, *sentences])
    cot = (
        f"The turn made {len(observations)} call(s). I report each result to the user in plain words, the "
        "final ones in full."
    )
    return text, cot


def _result(obs: Observation, detailed: bool) -> str:
    if not obs.ok:
        return f"I could not {humanize_tool(obs.call.name)}: {obs.error}"
    rest = " ".join(words(obs.call.name)[1:])
    action = f"I {past_tense(verb_of(obs.call.name))} {'the ' + rest if rest else 'it'}"
    fields = [(last_key(p), v) for p, v in leaves(obs.output) if p] or (
        [("result", obs.output)] if obs.output is not None else []
    )
    limit = 6 if detailed else 2
    shown = ", ".join(f"{label(k)} {_text(v)}" for k, v in fields[:limit])
    more = f" and {len(fields) - limit} more value(s)" if len(fields) > limit else ""
    return f"{action}: {shown}{more}." if shown else f"{action}."


def _text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
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
            + len(content_words(first_sentence(t.description)) & asked) / 2.0,
            -list(tools).index(t),
        ),
    )
    call = ToolCall(name=best.name, arguments=_fill(best, _candidates(query)))
    cot = (
        f"The request asks to {lower_first(first_sentence(best.description))}. `{best.name}` does exactly "
        "that, so I call it with the values from the request."
    )
    return call, cot


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
            before = query[: match.start()].rstrip()
            if not before or before.endswith((".", "?", "!", ":")):
                _, _, text = text.partition(" ")  # a capital that only starts a sentence is no name
                if not text:
                    continue
        window = query[max(0, match.start() - 40) : match.start()]
        cue = {w.lower() for w in words(window)[-3:]}
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
