"""Taking a parameter's value out of a tool's output, and the list item a request means.

A producer's output path (``cards[].card_id``) is followed; at a list, the item the request names (it
states a value only that item has) is taken, in order of mention when several consumers read the same
list; otherwise the first item a sibling argument has not taken.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from hardgen.agents.offline.text import (
    ORDINALS,
    ROLE_WORDS,
    content_words,
    label,
    last_key,
    leaves,
    singular,
    type_fits,
)
from hardgen.dataflow import text_contains, values_match
from hardgen.schema import JSONDict

_SEGMENT = re.compile(r"^([^\[\]]*)((?:\[\])*)$")


@dataclass
class Pick:
    """How to pick an item from a list in an output.

    Attributes:
        query: The request; an item it states values of is the one it means.
        slot: Which of the consumers of this list this one is (in plan order): the k-th consumer takes
            the k-th item the request names.
        taken: Values sibling arguments already took (not taken again unless nothing else is left).
        banned: Values the feedback ruled out.
    """

    query: str = ""
    slot: int = 0
    taken: Sequence[JsonValue] = ()
    banned: Callable[[JsonValue], bool] = field(default=lambda value: False)


def extract(
    output: JsonValue, path: str, param: str, pick: Pick, schema: JSONDict | None = None
) -> JsonValue:
    """The value for ``param`` in a tool's output (None when there is none).

    With a ``path`` (``cards[].card_id``) the path is followed, picking list items by ``pick``; without
    one the field is found by name.
    """
    path = path or _infer_path(output, param, schema or {})
    if not path:
        return None
    return _follow(output, path.split("."), pick)


def _follow(node: JsonValue, segments: list[str], pick: Pick, entity: str = "") -> JsonValue:
    if not segments:
        return _choose(node, [], pick, entity) if isinstance(node, list) else node
    match = _SEGMENT.match(segments[0])
    if match is None:
        return None
    key, brackets = match.group(1), match.group(2)
    value: JsonValue = node
    if key:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    for _ in range(len(brackets) // 2):
        if not isinstance(value, list) or not value:
            return None
        value = _choose(value, segments[1:], pick, label(singular(key)) if key else entity)
    return _follow(value, segments[1:], pick) if segments[1:] else value


def _choose(items: list[JsonValue], rest: list[str], pick: Pick, entity: str = "") -> JsonValue:
    """The list item a request means.

    An item is named when the request states one of its values that no other item has, or its place
    ("the third entry listed"). Of the named items the ``slot``-th in order of mention is taken (the
    k-th consumer of a list takes the k-th item named), else the first named one not taken yet; when
    none is named, the first item not taken.
    """
    fallback = Pick(query=pick.query)
    candidates: list[tuple[int, JsonValue, JsonValue]] = []
    for i, item in enumerate(items):
        value = _follow(item, rest, fallback) if rest else item
        if value is not None and not pick.banned(value):
            candidates.append((i, item, value))
    if not candidates:
        return None
    folded = pick.query.casefold()
    named: list[tuple[int, int, JsonValue, bool]] = []
    if entity:  # "the third entry listed": the request names the item by its place
        for place in re.finditer(rf"\b({'|'.join(ORDINALS)})\s+{re.escape(entity.casefold())}\b", folded):
            i = ORDINALS.index(place.group(1))
            value = next((v for j, _, v in candidates if j == i), None)
            if value is not None:
                named.append((place.start(), i, items[i], _taken(value, pick.taken)))
    if not named:  # the request states a value only this item has
        scalars = [[v for _, v in leaves(item)] for item in items]
        for i, item, value in candidates:
            others = [v for j, values in enumerate(scalars) if j != i for v in values]
            own = [
                v
                for v in scalars[i]
                if _stated(pick.query, v) and not any(values_match(v, o) for o in others)
            ]
            if own:
                positions = [folded.find(str(v).casefold()) for v in own]
                first = min((p for p in positions if p >= 0), default=len(folded))
                named.append((first, i, item, _taken(value, pick.taken)))
    if named:
        named.sort(key=lambda n: (n[0], n[1]))
        if pick.slot < len(named) and not named[pick.slot][3]:
            return named[pick.slot][2]
        fresh = [n for n in named if not n[3]]
        return (fresh or named)[0][2]
    fresh_items = [item for _, item, value in candidates if not _taken(value, pick.taken)]
    return (fresh_items or [candidates[0][1]])[0]


def _taken(value: JsonValue, taken: Sequence[JsonValue]) -> bool:
    return any(values_match(value, t) or value == t for t in taken)


def _stated(query: str, value: JsonValue) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        return len(value.strip()) >= 3 and text_contains(query, value)
    if isinstance(value, int | float):
        return abs(value) >= 100 and text_contains(query, value)
    return False


def _infer_path(output: JsonValue, param: str, schema: JSONDict) -> str:
    """The collapsed path of the output field that best fits ``param`` (``""`` when none does)."""
    want = content_words(param)
    core = want - set().union(*ROLE_WORDS.values())
    best: tuple[float, str] | None = None
    for path, value in leaves(output):
        if value is None or (schema and not type_fits(value, schema)):
            continue
        key = last_key(path)
        have = content_words(key)
        if key == param:
            score = 10.0
        elif core and core <= have:
            score = 6.0 - 0.1 * len(have - core)
        elif have and have <= want:
            score = 4.0
        else:
            score = 2.0 * len(have & core)
        if score > 0 and (best is None or score > best[0]):
            best = (score, re.sub(r"\[\d+\]", "[]", path))
    return best[1] if best else ""
