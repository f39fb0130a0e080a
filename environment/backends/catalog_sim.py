"""The simulated executor of a catalog: deterministic results from schemas, records for resources.

A result is generated from the tool's declared result schema (valid against it), seeded by the tool, its
arguments and the run seed, so the same call gives the same result. Tools that create, get, list,
update or delete a resource that some tool creates work on stored records (:class:`CatalogState`), so
what a create returns a get finds. :class:`LLMResultSource` optionally asks a model for the results of
the other tools, with a response cache.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from pydantic import JsonValue

from hardgen.environment.backends.catalog_import import (
    Catalog,
    CatalogTool,
    _json_value,
    _name_words,
    _primary_type,
    _singular,
    id_field,
    result_schema,
)
from hardgen.environment.base import EnvironmentConfigError, ToolError
from hardgen.schema import JSONDict, ToolSpec, canonical_json, content_hash

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------- value synthesis

_FIRST = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Keira", "Lior")
_LAST = ("Moreau", "Okafor", "Lindqvist", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Rossi", "Park")
_CITIES = ("Lisbon", "Osaka", "Denver", "Nairobi", "Toronto", "Krakow", "Valparaiso", "Hobart", "Leeds")
_COUNTRIES = ("Portugal", "Japan", "United States", "Kenya", "Canada", "Poland", "Chile", "Australia")
_WORDS = ("amber", "delta", "harbor", "lumen", "maple", "orbit", "quartz", "summit", "tundra", "willow")
_STATUS = ("active", "pending", "completed", "open", "closed")


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256(canonical_json([str(p) for p in parts]).encode()).hexdigest())


def synthesize(schema: Mapping[str, Any], rng: random.Random, name: str = "", depth: int = 0) -> JsonValue:
    """A value valid against ``schema`` (as far as its keywords allow), shaped by the field's name."""
    if depth > 8:
        return None
    if "const" in schema:
        return _json_value(schema["const"])
    kind = _primary_type(schema)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        fitting = [v for v in enum if _fits_type(v, kind)] or enum
        return _json_value(rng.choice(fitting))
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and kind is None:
            non_null = [o for o in options if isinstance(o, Mapping) and o.get("type") != "null"]
            return synthesize((non_null or options)[0], rng, name, depth + 1)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of and kind is None:
        merged: dict[str, Any] = {}
        for part in all_of:
            if isinstance(part, Mapping):
                for k, v in part.items():
                    if k == "properties" and isinstance(v, Mapping):
                        merged.setdefault("properties", {}).update(v)
                    else:
                        merged.setdefault(k, v)
        return synthesize(merged, rng, name, depth + 1)
    if kind == "object" or (kind is None and "properties" in schema):
        out: JSONDict = {}
        props = schema.get("properties")
        if isinstance(props, Mapping):
            for key, sub in props.items():
                out[str(key)] = synthesize(sub if isinstance(sub, Mapping) else {}, rng, str(key), depth + 1)
        for key in schema.get("required", []) or []:
            if isinstance(key, str) and key not in out:  # required but not described: any value will do
                out[key] = synthesize({}, rng, key, depth + 1)
        return out
    if kind == "array":
        items = schema.get("items")
        low = int(schema.get("minItems", 1))
        high = max(low, min(int(schema.get("maxItems", 3)), low + 2))
        n = rng.randint(low, high)
        item_schema = items if isinstance(items, Mapping) else {"type": "string"}
        values = [synthesize(item_schema, rng, _singular(name), depth + 1) for _ in range(n)]
        if schema.get("uniqueItems"):
            unique: list[JsonValue] = []
            for v in values:
                if v not in unique:
                    unique.append(v)
            values = unique if len(unique) >= low else values
        return values
    if kind == "integer":
        low_i, high_i = _bounds(schema, name, integer=True)
        return rng.randint(int(low_i), int(high_i))
    if kind == "number":
        low_f, high_f = _bounds(schema, name, integer=False)
        return round(rng.uniform(low_f, high_f), 2)
    if kind == "boolean":
        return (
            True
            if _words_in(name, ("success", "ok", "available", "valid", "enabled"))
            else rng.random() < 0.5
        )
    if kind == "null":
        return None
    return _string(schema, rng, name)


def _fits_type(value: object, kind: str | None) -> bool:
    if kind is None:
        return True
    checks: dict[str, Callable[[object], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return checks.get(kind, lambda v: True)(value)


def _words_in(name: str, words: Sequence[str]) -> bool:
    parts = set(_name_words(name))
    return any(w in parts for w in words)


def _bounds(schema: Mapping[str, Any], name: str, integer: bool) -> tuple[float, float]:
    if _words_in(name, ("year",)):
        low, high = 2020.0, 2026.0
    elif _words_in(name, ("age",)):
        low, high = 18.0, 80.0
    elif _words_in(name, ("id",)):
        low, high = 1000.0, 9999.0
    elif _words_in(name, ("count", "total", "quantity", "number", "size", "limit")):
        low, high = 1.0, 20.0
    elif _words_in(name, ("rate", "ratio", "probability", "percent", "percentage")):
        low, high = 0.0, 1.0
    else:
        low, high = 1.0, 100.0
    step = 1 if integer else 0.01
    for key, is_low, shift in (
        ("minimum", True, 0.0),
        ("exclusiveMinimum", True, step),
        ("maximum", False, 0.0),
        ("exclusiveMaximum", False, -step),
    ):
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if is_low:
                low = float(value) + shift
                high = max(high, low)
            else:
                high = float(value) + shift
                low = min(low, high)
    if integer:
        import math

        low, high = float(math.ceil(low)), float(math.floor(high))
        if low > high:
            high = low
    return low, high


def _string(schema: Mapping[str, Any], rng: random.Random, name: str) -> str:
    fmt = str(schema.get("format", ""))
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if fmt == "date" or _words_in(name, ("date", "day")):
        text = day
    elif fmt == "date-time" or _words_in(name, ("timestamp", "datetime")):
        text = f"{day}T{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"
    elif fmt == "time" or _words_in(name, ("time",)):
        text = f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}"
    elif fmt == "email" or _words_in(name, ("email", "mail")):
        text = f"{rng.choice(_FIRST).lower()}.{rng.choice(_LAST).lower()}@example.com"
    elif fmt in ("uri", "url") or _words_in(name, ("url", "uri", "link", "website")):
        text = f"https://example.com/{rng.choice(_WORDS)}/{rng.randint(1, 999)}"
    elif fmt == "uuid" or _words_in(name, ("uuid", "guid")):
        text = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    elif _words_in(name, ("city", "town", "location", "place")):
        text = rng.choice(_CITIES)
    elif _words_in(name, ("country",)):
        text = rng.choice(_COUNTRIES)
    elif _words_in(name, ("name", "author", "user", "username", "owner", "customer")):
        text = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if _words_in(name, ("username", "user")):
            text = text.replace(" ", "_").lower()
    elif _words_in(name, ("phone", "mobile")):
        text = f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    elif _words_in(name, ("status", "state")):
        text = rng.choice(_STATUS)
    elif _words_in(name, ("currency",)):
        text = rng.choice(("USD", "EUR", "JPY", "GBP"))
    elif _words_in(name, ("id", "code", "key", "token", "number", "ref", "reference")):
        text = f"{(_name_words(name) or ['x'])[0][:3].upper()}{rng.randint(10000, 99999)}"
    elif _words_in(name, ("description", "message", "text", "content", "summary", "note", "comment", "body")):
        text = f"The {rng.choice(_WORDS)} {rng.choice(_WORDS)} report is ready for review."
    else:
        text = f"{rng.choice(_WORDS)}-{rng.randint(100, 999)}"
    low = schema.get("minLength")
    high = schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    return text


# ------------------------------------------------------------------------------------ the simulator

_VALIDATORS: dict[str, Draft202012Validator] = {}
_VALIDATOR_LOCK = threading.Lock()


def schema_validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    key = canonical_json(schema)
    with _VALIDATOR_LOCK:
        found = _VALIDATORS.get(key)
        if found is None:
            found = _VALIDATORS[key] = Draft202012Validator(copy.deepcopy(dict(schema)))
    return found


def _valid(value: JsonValue, schema: Mapping[str, Any]) -> bool:
    try:
        return not any(True for _ in schema_validator(schema).iter_errors(value))
    except jsonschema.SchemaError:
        return False


def _fill(
    schema: Mapping[str, Any], rng: random.Random, sources: Sequence[Mapping[str, JsonValue]], name: str = ""
) -> JsonValue:
    """A value of ``schema`` that takes fields from ``sources`` (a record, the arguments) where they fit."""
    props = schema.get("properties")
    if _primary_type(schema) in ("object", None) and isinstance(props, Mapping) and props:
        out: JSONDict = {}
        for key, sub in props.items():
            sub = sub if isinstance(sub, Mapping) else {}
            for src in sources:
                if key in src and _valid(src[key], sub):
                    out[key] = src[key]
                    break
            else:
                out[key] = (
                    _fill(sub, rng, sources, str(key)) if "properties" in sub else synthesize(sub, rng, key)
                )
        return out
    return synthesize(schema, rng, name)


class LLMResultSource:
    """Results written by a model, cached on disk so a replay (resume, verify) gives the same results.

    Args:
        complete: Sends one prompt and returns the model's text.
        cache: A JSON-lines file of ``{"key": ..., "result": ...}``; read at start, appended to.
    """

    def __init__(self, complete: Callable[[str], str], cache: Path | None) -> None:
        self.complete = complete
        self.cache_path = cache
        self._cache: dict[str, JsonValue] = {}
        self._lock = threading.Lock()
        if cache is not None and cache.exists():
            for line in cache.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("key"), str):
                    self._cache[row["key"]] = row.get("result")

    def result(
        self, spec: ToolSpec, arguments: Mapping[str, JsonValue], context: JsonValue
    ) -> JsonValue | None:
        """The model's result for this call, or None when it gave no valid one (the caller falls back)."""
        key = content_hash([spec.name, spec.parameters, spec.returns, dict(arguments), context])
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        prompt = (
            "You simulate a tool of a real API. Reply with the tool's JSON result only, no prose.\n"
            f"Tool: {spec.name}\nDescription: {spec.description}\n"
            f"Result schema: {canonical_json(spec.returns or {'type': 'object'})}\n"
            f"Arguments: {canonical_json(dict(arguments))}\nRelated records: {canonical_json(context)}\n"
        )
        try:
            text = self.complete(prompt)
        except Exception as exc:  # the simulated result is the fallback; the run goes on
            logger.warning("LLM simulator failed for %s (%s); using the simulated result", spec.name, exc)
            return None
        value = _parse_json(text)
        schema = result_schema(spec)
        if value is None or (schema and not _valid(value, schema)):
            logger.info("LLM simulator gave no valid result for %s; using the simulated result", spec.name)
            return None
        with self._lock:
            self._cache[key] = value
            if self.cache_path is not None:
                with self.cache_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "tool": spec.name, "result": value}) + "\n")
        return value


def _parse_json(text: str) -> JsonValue | None:
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.S).strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        value: JsonValue = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value


class Simulator:
    """The deterministic executor of a catalog: results from schemas, records for stored resources."""

    def __init__(self, catalog: Catalog, llm: LLMResultSource | None = None) -> None:
        self.catalog = catalog
        self.stored = catalog.stored_resources
        self.llm = llm

    def initial_records(self, per_resource: int, seed: int) -> dict[str, dict[str, JSONDict]]:
        records: dict[str, dict[str, JSONDict]] = {}
        for resource, creator in sorted(self.stored.items()):
            bucket: dict[str, JSONDict] = {}
            for n in range(per_resource):
                rng = _rng("seed-record", creator.spec.name, seed, n)
                args = {
                    k: synthesize(v, rng, k)
                    for k, v in creator.spec.properties.items()
                    if isinstance(v, dict)
                }
                record = self._new_record(creator, args, rng, n + 1)
                bucket[self._key(record[id_field(creator)])] = record
            records[resource] = bucket
        return records

    def run(self, tool: CatalogTool, args: Mapping[str, JsonValue], state: CatalogState) -> JsonValue:
        op = tool.op
        rng = _rng(tool.spec.name, canonical_json(dict(args)), state.seed, state.counters.get(op.resource, 0))
        schema = result_schema(tool.spec)
        if op.kind == "create":
            n = state.counters.get(op.resource, len(state.bucket(op.resource))) + 1
            state.counters[op.resource] = n
            record = self._new_record(tool, args, rng, n)
            state.writable(op.resource)[self._key(record[id_field(tool)])] = record
            return self._shape(schema, rng, [record, args]) if schema else copy.deepcopy(record)
        if op.kind in ("get", "update", "delete"):
            key = self._key(args.get(op.id_param))
            if key not in state.bucket(op.resource):
                what = op.resource.rsplit(":", 1)[-1].replace("_", " ")
                raise ToolError(f"No {what} with {op.id_param} {args.get(op.id_param)!r}.", "not_found")
            if op.kind == "get":
                record = state.bucket(op.resource)[key]
                return self._shape(schema, rng, [record, args]) if schema else copy.deepcopy(record)
            bucket = state.writable(op.resource)
            record = bucket[key]
            if op.kind == "update":
                for k, v in args.items():
                    if k != op.id_param and k in record:
                        record[k] = copy.deepcopy(v)
                return self._shape(schema, rng, [record, args]) if schema else copy.deepcopy(record)
            del bucket[key]
            done: JSONDict = {"success": True, "deleted": True, "status": "deleted"}
            return self._shape(schema, rng, [record, done, args]) if schema else {"deleted": record}
        if op.kind == "list" and op.resource in state.records:
            stored = state.bucket(op.resource)
            # Records in id order, not storage order: JSON stores may sort keys, replays must agree.
            ordered = sorted(stored, key=lambda k: (len(k), k))
            matches = [stored[k] for k in ordered if _matches(stored[k], args)]
            return copy.deepcopy(self._list(schema, rng, matches, args))
        if self.llm is not None:
            context: JSONDict = {}
            for resource, bucket in state.records.items():
                context[resource] = [dict(r) for r in list(bucket.values())[:5]]
            value = self.llm.result(tool.spec, args, context)
            if value is not None:
                return value
        return _fill(schema, rng, [args]) if schema else {"result": _untyped_result(tool.spec.name, rng)}

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _key(value: JsonValue) -> str:
        return value if isinstance(value, str) else canonical_json(value)

    def _new_record(
        self, creator: CatalogTool, args: Mapping[str, JsonValue], rng: random.Random, n: int
    ) -> JSONDict:
        schema = result_schema(creator.spec)
        key_field = id_field(creator)
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        id_schema = props.get(key_field, {}) if isinstance(props, dict) else {}
        kind = _primary_type(id_schema) if isinstance(id_schema, dict) else None
        noun = creator.op.resource.rsplit(":", 1)[-1]
        prefix = "".join(w[0] for w in noun.split("_") if w)[:3].upper() or "R"
        ident: JsonValue = 1000 + n if kind in ("integer", "number") else f"{prefix}-{1000 + n}"
        base = _fill(schema, rng, [{key_field: ident}, args]) if schema else {}
        record: JSONDict = dict(base) if isinstance(base, dict) else {}
        record[key_field] = ident
        for k, v in args.items():
            record.setdefault(k, v)
        return record

    def _shape(
        self, schema: Mapping[str, Any], rng: random.Random, sources: Sequence[Mapping[str, JsonValue]]
    ) -> JsonValue:
        value = copy.deepcopy(_fill(schema, rng, sources))  # never hand out a stored record itself
        if not _valid(value, schema):
            value = synthesize(schema, rng)
        return value

    def _list(
        self,
        schema: Mapping[str, Any],
        rng: random.Random,
        records: list[JSONDict],
        args: Mapping[str, JsonValue],
    ) -> JsonValue:
        if not schema:
            listed: list[JsonValue] = list(records)
            return {"results": listed, "count": len(records)}
        if _primary_type(schema) == "array":
            items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
            return [self._shape(items, rng, [r]) if items else r for r in records]
        props = schema.get("properties")
        if isinstance(props, Mapping):
            out: JSONDict = {}
            for key, sub in props.items():
                sub = sub if isinstance(sub, Mapping) else {}
                if _primary_type(sub) == "array":
                    items = sub.get("items") if isinstance(sub.get("items"), Mapping) else {}
                    out[key] = [self._shape(items, rng, [r]) if items else r for r in records]
                elif _primary_type(sub) == "integer" and _words_in(key, ("count", "total", "size")):
                    out[key] = len(records)
                else:
                    out[key] = _fill(sub, rng, [args], key)
            if _valid(out, schema):
                return out
        return self._shape(schema, rng, [args])


_NUMERIC_VERBS = frozenset(
    {"calculate", "compute", "convert", "estimate", "count", "sum", "average", "predict"}
)


def _untyped_result(name: str, rng: random.Random) -> JsonValue:
    """The result of a tool that declares none: a number for calculations, else a short text."""
    words = _name_words(name.rsplit(".", 1)[-1])
    if words and (words[0] in _NUMERIC_VERBS or words[-1] in ("count", "total", "score", "rate", "price")):
        return round(rng.uniform(1, 1000), 2)
    noun = " ".join(words[1:] or words) or "result"
    return f"{noun}: {rng.choice(_WORDS)}-{rng.randint(100, 999)}"


def _matches(record: Mapping[str, JsonValue], args: Mapping[str, JsonValue]) -> bool:
    """A list call's arguments that name a record field filter on it (case-insensitive for text)."""
    for k, v in args.items():
        if k in record and v is not None:
            have = record[k]
            if isinstance(v, str) and isinstance(have, str):
                if v.lower() not in have.lower():
                    return False
            elif have != v:
                return False
    return True


class CatalogState:
    """Stored records by resource and id, copied on write.

    Snapshots share the record buckets with the live state; a bucket is copied the first time it is
    changed after a snapshot or restore, so taking a snapshot before every call costs next to nothing
    however many records exist. Snapshots are values: nobody changes one in place.
    """

    def __init__(
        self, records: dict[str, dict[str, JSONDict]], counters: dict[str, int], seed: int, calls: int = 0
    ) -> None:
        self.records = records
        self.counters = counters
        self.seed = seed
        self.calls = calls
        self._owned: set[str] = set()

    def bucket(self, resource: str) -> Mapping[str, JSONDict]:
        return self.records.get(resource, {})

    def writable(self, resource: str) -> dict[str, JSONDict]:
        """The bucket of one resource, ready to change (copied first when it is shared)."""
        if resource not in self._owned:
            self.records[resource] = copy.deepcopy(self.records.get(resource, {}))
            self._owned.add(resource)
        return self.records[resource]

    def to_json(self) -> JSONDict:
        self._owned.clear()  # the snapshot shares every bucket from now on
        return {
            "state": {k: dict(v) for k, v in self.records.items()},
            "counters": dict(self.counters),
            "seed": self.seed,
            "calls": self.calls,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue], where: str) -> CatalogState:
        records, counters = data.get("state"), data.get("counters", {})
        seed, calls = data.get("seed", 0), data.get("calls", 0)
        if not isinstance(records, dict) or not isinstance(counters, dict):
            raise EnvironmentConfigError(f"snapshot does not fit catalog backend {where!r}")
        if not all(isinstance(b, dict) for b in records.values()):
            raise EnvironmentConfigError(f"snapshot does not fit catalog backend {where!r}")
        return cls(
            records=dict(records),  # type: ignore[arg-type]
            counters={str(k): int(v) for k, v in counters.items() if isinstance(v, int)},
            seed=seed if isinstance(seed, int) else 0,
            calls=calls if isinstance(calls, int) else 0,
        )
