"""Importing tool schemas into a catalog: OpenAI tools, BFCL function docs, OpenAPI 3 (``kind: catalog``).

BFCL's schema dialect (``dict``, ``float``, ``tuple``, ``any`` and Java/JavaScript type names) and
OpenAPI 3.0's (``nullable``, ``$ref``) are normalised to JSON Schema 2020-12; names are made valid for
models; identical docs count once and different docs sharing a name are all kept under suffixed names.
Each tool is also read as an *operation* (create, get, list, update, delete, or a plain action on a
resource) for the simulator of :mod:`hardgen.environment.backends.catalog_sim`. The backend is
:mod:`hardgen.environment.backends.catalog`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import JsonValue

from hardgen.environment.base import Dependency, EnvironmentConfigError
from hardgen.schema import JSONDict, ToolSpec, canonical_json

CatalogFormat = Literal["openai", "bfcl", "openapi"]
OpKind = Literal["create", "get", "list", "update", "delete", "action"]
FORMATS: tuple[CatalogFormat, ...] = ("openai", "bfcl", "openapi")
MAX_NAME = 64

# ----------------------------------------------------------------------------------- schema dialects

# BFCL writes Python type names ("dict", "float", "tuple", "any") and, in its Java and JavaScript
# categories, those languages' names. ``None`` means "any JSON value" (no type keyword).
_TYPE_NAMES: dict[str, str | None] = {
    "dict": "object", "object": "object", "hashmap": "object", "map": "object",
    "float": "number", "double": "number", "number": "number", "decimal": "number",
    "integer": "integer", "int": "integer", "long": "integer", "short": "integer",
    "string": "string", "str": "string", "char": "string", "character": "string",
    "boolean": "boolean", "bool": "boolean",
    "array": "array", "list": "array", "tuple": "array", "arraylist": "array", "set": "array",
    "null": "null", "none": "null",
    "any": None, "": None,
}  # fmt: skip
_SCALAR_KEYS = (
    "description", "format", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "default", "const",
)  # fmt: skip
_NUMERIC_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_COUNT_KEYS = frozenset({"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"})


def to_json_schema(schema: object, *, depth: int = 0) -> JSONDict:
    """Normalise one schema of any supported dialect (BFCL, OpenAI, OpenAPI 3.0) to JSON Schema 2020-12.

    Unknown type names become "any value"; keywords that would make the schema invalid (a ``required``
    that is not a list of names, a ``pattern`` that is not a regex, ``items`` given as a list) are fixed
    or dropped, so that every imported tool has a schema a validator accepts.
    """
    if not isinstance(schema, Mapping) or depth > 24:
        return {}
    out: JSONDict = {}
    raw_type = schema.get("type")
    types: list[str] = []
    for name in raw_type if isinstance(raw_type, list) else [raw_type]:
        if isinstance(name, str):
            mapped = _TYPE_NAMES.get(name.strip().lower())
            if mapped and mapped not in types:
                types.append(mapped)
    if schema.get("nullable") is True and types and "null" not in types:
        types.append("null")
    if len(types) == 1:
        out["type"] = types[0]
    elif types:
        out["type"] = list(types)
    for key in _SCALAR_KEYS:
        if key not in schema:
            continue
        value = schema[key]
        if key in _NUMERIC_KEYS and (isinstance(value, bool) or not isinstance(value, int | float)):
            continue
        if key in _COUNT_KEYS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            continue
        if key in ("description", "format") and not isinstance(value, str):
            continue
        if key == "pattern" and not _valid_regex(value):
            continue
        if key == "uniqueItems" and not isinstance(value, bool):
            continue
        out[key] = _json_value(value)
    if "default" in out:
        out["default"] = _fit_default(out["default"], out.get("type"))
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        values = [_json_value(v) for v in enum]
        if out.get("type") == "array" and not all(isinstance(v, list) for v in values):
            item_type = _json_type(values[0])
            items_of = schema.get("items")
            enum_items: JSONDict = (
                to_json_schema(items_of, depth=depth + 1) if isinstance(items_of, Mapping) else {}
            )
            if "type" not in enum_items and item_type:
                enum_items["type"] = item_type
            fitted = _fit_enum(values, enum_items.get("type"))
            if fitted:
                enum_items["enum"] = fitted  # BFCL puts an array's allowed item values on the array
            out["items"] = enum_items
        else:
            fitted = _fit_enum(values, out.get("type"))
            if fitted:
                out["enum"] = fitted
    props = schema.get("properties")
    if isinstance(props, Mapping):
        out["properties"] = {str(k): to_json_schema(v, depth=depth + 1) for k, v in props.items()}
        if "type" not in out:
            out["type"] = "object"
    required = schema.get("required")
    if isinstance(required, list):
        known = out.get("properties")
        names = [r for r in required if isinstance(r, str) and (not isinstance(known, dict) or r in known)]
        if names:
            out["required"] = list(dict.fromkeys(names))
    items = schema.get("items")
    if "items" in out:
        items = None
    if isinstance(items, list):
        items = items[0] if items else None  # tuple-style items: JSON Schema 2020-12 wants one schema
    if isinstance(items, Mapping):
        out["items"] = to_json_schema(items, depth=depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, bool):
        out["additionalProperties"] = extra
    elif isinstance(extra, Mapping):
        out["additionalProperties"] = to_json_schema(extra, depth=depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            out[key] = [to_json_schema(o, depth=depth + 1) for o in options]
    return out


def schema_problems(schema: object, *, strict: bool = False, at: str = "parameters") -> list[str]:
    """What makes an imported schema invalid, each as ``field: problem`` (empty when it is fine).

    Every dialect must name known types (JSON Schema's, or BFCL's Python/Java/JavaScript names) and
    use ``properties`` (a mapping of schemas), ``items`` (a schema or a list of them) and ``required``
    (a list of names) as JSON Schema does; ``strict`` (OpenAI tools, which are JSON Schema proper)
    also checks the schema against JSON Schema 2020-12's meta-schema.
    """
    problems: list[str] = []
    if not isinstance(schema, Mapping):
        return [f"{at}: a schema must be an object, not {type(schema).__name__}"]
    raw_type = schema.get("type")
    for name in raw_type if isinstance(raw_type, list) else [] if raw_type is None else [raw_type]:
        if not isinstance(name, str) or name.strip().lower() not in _TYPE_NAMES:
            problems.append(f"{at}.type: unknown type {name!r}")
    props = schema.get("properties")
    if props is not None:
        if not isinstance(props, Mapping):
            problems.append(f"{at}.properties: must be a mapping of parameter schemas, not {props!r}")
        else:
            for key, sub in props.items():
                problems += schema_problems(sub, at=f"{at}.properties.{key}")
    required = schema.get("required")
    if (
        required is not None
        and not isinstance(required, bool)
        and (not isinstance(required, list) or not all(isinstance(r, str) for r in required))
    ):
        problems.append(f"{at}.required: must be a list of parameter names, not {required!r}")
    items = schema.get("items")
    if items is not None:
        for i, sub in enumerate(items if isinstance(items, list) else [items]):
            problems += schema_problems(sub, at=f"{at}.items" + (f"[{i}]" if isinstance(items, list) else ""))
    if strict and not problems:
        from jsonschema import Draft202012Validator

        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        for err in sorted(meta.iter_errors(dict(schema)), key=lambda e: list(e.absolute_path))[:3]:
            where = ".".join(str(p) for p in err.absolute_path)
            problems.append(f"{at}{'.' + where if where else ''}: {err.message}")
    return problems


def _refuse(problems: list[str], source: str, tool: str) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise EnvironmentConfigError(f"{source}: tool {tool!r}: invalid schema: {problems[0]}{more}")


def parameters_schema(schema: object) -> JSONDict:
    """The argument schema of a tool: an object whose unknown arguments are rejected."""
    converted = to_json_schema(schema)
    params: JSONDict = {
        "type": "object",
        "properties": converted.get("properties", {}),
        "required": converted.get("required", []),
    }
    extra = converted.get("additionalProperties")
    params["additionalProperties"] = extra if isinstance(extra, bool) else False
    return params


def _json_type(value: JsonValue) -> str | None:
    for kind, check in (("boolean", bool), ("integer", int), ("number", float), ("string", str)):
        if isinstance(value, check):
            return kind
    return None


def _fit_enum(values: list[JsonValue], kind: JsonValue) -> list[JsonValue]:
    """Enum values converted to the declared type ("1" for an integer becomes 1); [] when some cannot be."""
    if not isinstance(kind, str):
        return values
    fitted: list[JsonValue] = []
    for v in values:
        if kind == "string":
            fitted.append(v if isinstance(v, str) else canonical_json(v))
        elif kind in ("integer", "number") and not isinstance(v, bool):
            if isinstance(v, int | float):
                fitted.append(v)
            elif isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v.strip()):
                number = float(v)
                fitted.append(int(number) if number.is_integer() and kind == "integer" else number)
            else:
                return []
        elif kind == "boolean":
            if isinstance(v, bool):
                fitted.append(v)
            elif isinstance(v, str) and v.lower() in ("true", "false"):
                fitted.append(v.lower() == "true")
            else:
                return []
        else:
            fitted.append(v)
    if kind == "integer" and any(isinstance(v, float) and not v.is_integer() for v in fitted):
        return []
    return _unique(fitted)


def _fit_default(value: JsonValue, kind: JsonValue) -> JsonValue:
    """A default converted to the declared type (BFCL writes ``"default": "false"`` on booleans);
    ``"None"``/``"null"`` on a non-string type is null; a default that does not convert is kept as written."""
    if not isinstance(kind, str) or kind == "string" or not isinstance(value, str):
        return value
    if value.strip() in ("None", "null"):
        return None
    fitted = _fit_enum([value], kind)
    return fitted[0] if fitted else value


def _unique(values: list[JsonValue]) -> list[JsonValue]:
    seen: set[str] = set()
    out = []
    for v in values:
        key = canonical_json(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _valid_regex(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _json_value(value: object) -> JsonValue:
    """Plain JSON data (tuples become lists, other objects their text), for defaults and enums."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def tool_name(raw: str, taken: set[str] | None = None) -> str:
    """A name models accept (``[A-Za-z0-9_-]{1,64}``): dots and other characters become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", raw.strip()) or "tool"
    if len(name) > MAX_NAME:
        name = f"{name[: MAX_NAME - 9]}_{hashlib.sha1(raw.encode()).hexdigest()[:8]}"
    if taken is not None and name in taken:
        n = 2
        while f"{name[: MAX_NAME - 4]}_{n}" in taken:
            n += 1
        name = f"{name[: MAX_NAME - 4]}_{n}"
    return name


# ------------------------------------------------------------------------------------------ loaders


@dataclass(frozen=True)
class RawTool:
    """One tool as read from a source, before names are made unique."""

    name: str
    description: str
    parameters: JSONDict
    returns: JSONDict
    source: str
    domain: str = ""
    http: tuple[str, str] | None = None  # (method, path template) for OpenAPI operations
    group: str = ""  # the API it belongs to: its dotted namespace, BFCL entry, or source file


def read_structured(path: Path) -> object:
    """JSON, JSON lines or YAML, by extension and content; a clear error otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvironmentConfigError(f"cannot read tool catalog {path}: {exc.strerror or exc}") from exc
    if path.suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise EnvironmentConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise EnvironmentConfigError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return rows


def detect_format(data: object) -> CatalogFormat:
    """Which dialect a loaded file is written in."""
    if isinstance(data, Mapping) and ("openapi" in data or "swagger" in data or "paths" in data):
        return "openapi"
    rows = data if isinstance(data, list) else [data]
    for row in rows[:20]:
        if not isinstance(row, Mapping):
            continue
        if "function" in row and isinstance(row["function"], list):
            return "bfcl"
        if row.get("type") == "function" or "function" in row:
            return "openai"
        params = row.get("parameters")
        if isinstance(params, Mapping) and params.get("type") == "dict":
            return "bfcl"
        if "response" in row:
            return "bfcl"
    return "openai"


def load_openai_tools(data: object, source: str) -> list[RawTool]:
    rows = data.get("tools", data) if isinstance(data, Mapping) else data
    if not isinstance(rows, list):
        rows = [rows]
    tools = []
    for i, row in enumerate(rows):
        fn = row.get("function", row) if isinstance(row, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise EnvironmentConfigError(f"{source}: entry {i} is not an OpenAI tool (no function name)")
        tools.append(_raw_tool(fn, source, Path(source).stem, strict=True))
    return tools


def load_bfcl_docs(data: object, source: str) -> list[RawTool]:
    """BFCL function docs: one doc per row, or test entries listing their docs under ``function``."""
    rows = data if isinstance(data, list) else [data]
    tools = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise EnvironmentConfigError(f"{source}: entry {i} is not a JSON object")
        entry = isinstance(row.get("function"), list)
        docs = row["function"] if entry else [row]
        group = str(row.get("id", f"{Path(source).stem}_{i}")) if entry else Path(source).stem
        for doc in docs:
            if not isinstance(doc, Mapping) or not isinstance(doc.get("name"), str):
                raise EnvironmentConfigError(f"{source}: entry {i} has a function doc without a name")
            tools.append(_raw_tool(doc, source, group))
    return tools


def _raw_tool(doc: Mapping[str, Any], source: str, group: str, *, strict: bool = False) -> RawTool:
    name = str(doc["name"])
    _refuse(schema_problems(doc.get("parameters") or {}, strict=strict), source, name)
    returns = doc.get("returns", doc.get("response"))
    domain = name.split(".", 1)[0] if "." in name else ""
    return RawTool(
        group=name.rsplit(".", 1)[0] if "." in name else group,
        name=name,
        description=str(doc.get("description") or "").strip(),
        parameters=parameters_schema(doc.get("parameters") or {}),
        returns=to_json_schema(returns) if isinstance(returns, Mapping) else {},
        source=source,
        domain=domain,
    )


_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def load_openapi(doc: object, source: str) -> list[RawTool]:
    """One tool per operation of an OpenAPI 3 document."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("paths"), Mapping):
        raise EnvironmentConfigError(f"{source}: not an OpenAPI document (no 'paths')")
    resolve = _RefResolver(doc, source)
    tools = []
    for path, item in doc["paths"].items():
        item = resolve(item)
        if not isinstance(item, Mapping):
            continue
        shared = [resolve(p) for p in item.get("parameters", []) or []]
        for method in _HTTP_METHODS:
            op = resolve(item.get(method))
            if not isinstance(op, Mapping):
                continue
            tools.append(_operation_tool(str(path), method, op, shared, resolve, source))
    if not tools:
        raise EnvironmentConfigError(f"{source}: the OpenAPI document has no operations")
    return tools


def _operation_tool(
    path: str,
    method: str,
    op: Mapping[str, Any],
    shared: list[Any],
    resolve: _RefResolver,
    source: str,
) -> RawTool:
    props: JSONDict = {}
    required: list[JsonValue] = []
    params: dict[tuple[str, str], Mapping[str, Any]] = {}
    for p in [*shared, *[resolve(p) for p in op.get("parameters", []) or []]]:
        if isinstance(p, Mapping) and isinstance(p.get("name"), str):
            params[(p["name"], str(p.get("in", "query")))] = p
    tool = str(op.get("operationId") or f"{method.upper()} {path}")
    for (pname, where), p in params.items():
        if where == "cookie":
            continue
        raw_schema = resolve.deep(p.get("schema", {}))
        _refuse(schema_problems(raw_schema, at=f"parameters.{pname}"), source, tool)
        schema = to_json_schema(raw_schema)
        if p.get("description") and "description" not in schema:
            schema["description"] = str(p["description"])
        key = pname if pname not in props else f"{where}_{pname}"
        props[key] = schema
        if p.get("required") or where == "path":
            required.append(key)
    body = resolve(op.get("requestBody"))
    if isinstance(body, Mapping):
        raw_body = resolve.deep(_json_content(body))
        if raw_body:
            _refuse(schema_problems(raw_body, at="requestBody"), source, tool)
        schema = to_json_schema(raw_body)
        body_required = bool(body.get("required"))
        inner = schema.get("properties")
        if schema.get("type") == "object" and isinstance(inner, dict) and inner:
            wanted = schema.get("required", []) if body_required else []
            for key, sub in inner.items():
                name = key if key not in props else f"body_{key}"
                props[name] = sub
                if isinstance(wanted, list) and key in wanted:
                    required.append(name)
        elif schema:
            props["body"] = schema
            if body_required:
                required.append("body")
    returns: JSONDict = {}
    responses = op.get("responses")
    if isinstance(responses, Mapping):
        for code in sorted(responses, key=lambda c: (not str(c).startswith("2"), str(c))):
            if str(code).startswith("2") or str(code) == "default":
                response = resolve(responses[code])
                if isinstance(response, Mapping):
                    returns = to_json_schema(resolve.deep(_json_content(response)))
                    if returns and response.get("description") and "description" not in returns:
                        returns["description"] = str(response["description"])
                break
    words = [w for w in re.split(r"[/{}_\-.]+", path) if w]
    name = op.get("operationId") or "_".join([method, *words])
    summary = " ".join(str(op.get(k) or "").strip() for k in ("summary", "description")).strip()
    return RawTool(
        name=str(name),
        description=summary or f"{method.upper()} {path}",
        parameters={
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        },
        returns=returns,
        source=source,
        domain=str((op.get("tags") or [""])[0] or ""),
        http=(method, path),
        group=Path(source).stem,
    )


def _json_content(holder: Mapping[str, Any]) -> object:
    content = holder.get("content")
    if not isinstance(content, Mapping):
        return {}
    for mime, media in content.items():
        if "json" in str(mime) and isinstance(media, Mapping):
            return media.get("schema", {})
    return {}


class _RefResolver:
    """Local ``$ref`` resolution (``#/components/...``); a reference cycle is cut to "any value"."""

    def __init__(self, doc: Mapping[str, Any], source: str) -> None:
        self.doc = doc
        self.source = source

    def __call__(self, node: object) -> object:
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 16:
            node = self._target(node["$ref"])
            seen += 1
        return node

    def deep(self, node: object, stack: tuple[str, ...] = ()) -> object:
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref in stack or len(stack) > 12:
                    return {"description": f"(recursive {ref.rsplit('/', 1)[-1]})"}
                return self.deep(self._target(ref), (*stack, ref))
            return {k: self.deep(v, stack) for k, v in node.items()}
        if isinstance(node, list):
            return [self.deep(v, stack) for v in node]
        return node

    def _target(self, ref: str) -> object:
        if not ref.startswith("#/"):
            raise EnvironmentConfigError(f"{self.source}: only local $ref are supported, got {ref!r}")
        node: object = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise EnvironmentConfigError(f"{self.source}: $ref {ref!r} points nowhere")
            node = node[part]
        return node


# ------------------------------------------------------------------------------- BFCL's shipped docs

# The single-turn and live categories (their test entries list the function docs they offer).
BFCL_CATEGORIES = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "irrelevance", "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
    "live_irrelevance", "live_relevance",
)  # fmt: skip


def bfcl_data_dir() -> Path:
    """The ``data`` folder of the installed ``bfcl-eval`` (a clear error when it is missing)."""
    import importlib.util

    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise EnvironmentConfigError(
            "bfcl-eval is not installed; install it with: hardgen bfcl install "
            "(that is: pip install --no-deps bfcl-eval mpmath)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bfcl_category_files(categories: Sequence[str] | None = None) -> list[Path]:
    data = bfcl_data_dir()
    wanted = list(categories or BFCL_CATEGORIES)
    unknown = [c for c in wanted if c not in BFCL_CATEGORIES]
    if unknown:
        raise EnvironmentConfigError(
            f"unknown BFCL categories {unknown}; the single-turn and live ones are: "
            + ", ".join(BFCL_CATEGORIES)
        )
    files = []
    for category in wanted:
        pattern = re.compile(rf"BFCL_v\d+_{re.escape(category)}\.json")
        found = sorted(p for p in data.glob("BFCL_v*.json") if pattern.fullmatch(p.name))
        if not found:
            raise EnvironmentConfigError(f"bfcl-eval has no data file for category {category!r} in {data}")
        files.append(found[-1])
    return files


# ---------------------------------------------------------------------------------------- catalogs


@dataclass(frozen=True)
class Operation:
    """How the simulator reads a tool: an operation on a resource (or a plain action)."""

    kind: OpKind
    resource: str = ""
    id_param: str = ""


@dataclass(frozen=True)
class CatalogTool:
    spec: ToolSpec
    op: Operation
    source: str


@dataclass
class Catalog:
    """The tools of one catalog backend, with import figures."""

    tools: list[CatalogTool]
    read: int = 0
    duplicates: int = 0
    renamed: int = 0
    distinct_names: int = 0
    sources: list[str] = field(default_factory=list)
    _by_name: dict[str, CatalogTool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {t.spec.name: t for t in self.tools}

    @functools.cached_property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools]

    def tool(self, name: str) -> CatalogTool:
        return self._by_name[name]

    @functools.cached_property
    def stored_resources(self) -> dict[str, CatalogTool]:
        """Resources some tool creates, each with its (first) create tool."""
        found: dict[str, CatalogTool] = {}
        for t in self.tools:
            if t.op.kind == "create" and t.op.resource and t.op.resource not in found:
                found[t.op.resource] = t
        return found

    @functools.cached_property
    def dependencies(self) -> tuple[Dependency, ...]:
        """What the simulator makes true: the id a create returns (or a list shows) feeds the get,
        update and delete of that resource."""
        creators: dict[str, list[CatalogTool]] = {}
        listers: dict[str, list[CatalogTool]] = {}
        for t in self.tools:
            if t.op.kind == "create":
                creators.setdefault(t.op.resource, []).append(t)
            elif t.op.kind == "list":
                listers.setdefault(t.op.resource, []).append(t)
        found: list[Dependency] = []
        for t in self.tools:
            if t.op.kind not in ("get", "update", "delete") or not t.op.id_param:
                continue
            for creator in creators.get(t.op.resource, []):
                field_name = id_field(creator)
                path = field_name if _returns_field(creator.spec, field_name) else ""
                found.append(
                    Dependency(creator.spec.name, t.spec.name, "value", path or field_name, t.op.id_param)
                )
            id_name = id_field(creators[t.op.resource][0]) if t.op.resource in creators else "id"
            for lister in listers.get(t.op.resource, []):
                path = _list_path(lister.spec, id_name)
                if path:
                    found.append(Dependency(lister.spec.name, t.spec.name, "value", path, t.op.id_param))
        return tuple(found)

    def write_openai_jsonl(self, path: Path) -> None:
        """Write every tool as one OpenAI-tools JSON line (with its result schema, when declared)."""
        with path.open("w", encoding="utf-8") as fh:
            for tool in self.tools:
                row = tool.spec.to_openai()
                if tool.spec.returns:
                    row["returns"] = tool.spec.returns
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def figures(self) -> dict[str, JsonValue]:
        kinds = Counter(t.op.kind for t in self.tools)
        return {
            "tools": len(self.tools),
            "docs_read": self.read,
            "identical_duplicates": self.duplicates,
            "distinct_names": self.distinct_names,
            "renamed_variants": self.renamed,
            "stored_resources": len(self.stored_resources),
            "declared_dependencies": len(self.dependencies),
            "operations": dict(sorted(kinds.items())),
            "sources": list(self.sources),
        }


def build_catalog(raw: Iterable[RawTool], *, domain: str = "catalog", suite: str = "catalog") -> Catalog:
    """Deduplicate and name the tools, and read each as an operation.

    Identical docs (same name, description and schemas) count once. Different docs that share a name
    are all kept: the most frequent keeps the name, the others get ``_2``, ``_3``, ... suffixes.
    """
    groups: dict[str, dict[str, tuple[RawTool, int, int]]] = {}
    read = 0
    for order, tool in enumerate(raw):
        read += 1
        key = canonical_json([tool.description, tool.parameters, tool.returns, tool.http])
        variants = groups.setdefault(tool.name, {})
        if key in variants:
            first, count, pos = variants[key]
            variants[key] = (first, count + 1, pos)
        else:
            variants[key] = (tool, 1, order)
    taken: set[str] = set()
    picked: list[tuple[int, str, RawTool]] = []
    renamed = 0
    for raw_name, variants in groups.items():
        ranked = sorted(variants.values(), key=lambda v: (-v[1], v[2]))
        for i, (tool, _count, pos) in enumerate(ranked):
            name = tool_name(raw_name, taken)
            taken.add(name)
            renamed += i > 0 or name != tool_name(raw_name)
            picked.append((pos, name, tool))
    picked.sort(key=lambda p: p[0])
    groups_used = {t.group for _, _, t in picked}

    def suite_of(tool: RawTool) -> str:
        # One suite per API, so that dependency inference stays inside each API.
        return suite if len(groups_used) <= 1 or not tool.group else f"{suite}/{tool.group}"

    specs = [
        ToolSpec(
            name=name,
            description=tool.description or name.replace("_", " "),
            parameters=tool.parameters,
            returns=tool.returns,
            suite=suite_of(tool),
            domain=tool.domain or domain,
        )
        for _, name, tool in picked
    ]
    resources = _created_resources([t for _, _, t in picked])
    tools = [
        CatalogTool(spec=spec, op=classify_raw(tool, resources), source=tool.source)
        for spec, (_, _, tool) in zip(specs, picked, strict=True)
    ]
    distinct_names = len(groups)
    return Catalog(
        tools=tools,
        read=read,
        duplicates=read - len(tools),
        renamed=renamed,
        distinct_names=distinct_names,
        sources=sorted({t.source for t in tools}),
    )


# ----------------------------------------------------------------------------------- operations

_CREATE = frozenset({"create", "add", "new", "register", "insert", "post", "book", "submit", "place", "open"})
_GET = frozenset({"get", "fetch", "retrieve", "read", "show", "describe", "view", "lookup", "load"})
_LIST = frozenset({"list", "search", "find", "query", "browse", "all"})
_UPDATE = frozenset({"update", "edit", "modify", "change", "patch", "rename", "put", "set"})
_DELETE = frozenset({"delete", "remove", "cancel", "destroy", "drop", "erase"})
_NOISE = frozenset(
    {"by", "for", "of", "details", "detail", "info", "information", "data", "record", "records", "all",
     "a", "an", "the", "new", "my", "existing", "single", "one", "item", "entry", "with", "from", "to"}
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _noun_words(words: Sequence[str]) -> list[str]:
    kept: list[str] = []
    for w in words:
        if w in ("by", "for", "with", "from"):
            break  # get_user_by_id: the resource ends before "by"
        if w not in _NOISE:
            kept.append(w)
    return kept


def _verb_and_noun(name: str) -> tuple[str, str, bool]:
    """The leading verb, the resource (singular) and whether the name used the plural."""
    words = _name_words(name.rsplit(".", 1)[-1])
    if not words:
        return "", "", False
    kept = _noun_words(words[1:])
    if not kept:
        return words[0], "", False
    last = _singular(kept[-1])
    return words[0], "_".join([*kept[:-1], last]), last != kept[-1]


def _created_resources(tools: Sequence[RawTool]) -> set[str]:
    found = set()
    for tool in tools:
        op = classify_raw(tool)
        if op.kind == "create" and op.resource:
            found.add(op.resource)
    return found


def classify_raw(tool: RawTool, created: set[str] | None = None) -> Operation:
    """The operation a raw tool performs, its resource scoped by its API (``concert.book_ticket`` and
    ``festival.book_ticket`` book different tickets)."""
    spec = ToolSpec(
        name=tool_name(tool.name), description="", parameters=tool.parameters, returns=tool.returns
    )
    return classify(spec, tool.http, created, raw_name=tool.name, namespace=tool.group)


def _ends_in_param(path: str) -> bool:
    return path.rstrip("/").endswith("}")


def _path_resource(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if p and not p.startswith("{")]
    return _singular(re.sub(r"[^a-z0-9]+", "_", parts[-1].lower()).strip("_")) if parts else ""


def classify(
    spec: ToolSpec,
    http: tuple[str, str] | None = None,
    created: set[str] | None = None,
    *,
    raw_name: str | None = None,
    namespace: str = "",
) -> Operation:
    """Read a tool as an operation on a resource, from its HTTP method and path or its (original) name.

    The resource is ``namespace:noun`` (or the noun alone without a namespace); with ``created`` given,
    only resources in it are stored, and operations on other resources are plain actions.
    """
    if http is not None:
        method, path = http
        resource = _path_resource(path)
        item = _ends_in_param(path)
        kind: OpKind = {
            ("post", False): "create",
            ("get", True): "get",
            ("get", False): "list",
            ("put", True): "update",
            ("patch", True): "update",
            ("delete", True): "delete",
        }.get((method, item), "action")  # type: ignore[assignment]
    else:
        verb, resource, plural = _verb_and_noun(raw_name or spec.name)
        if verb in _CREATE:
            kind = "create"
        elif verb in _LIST or (verb in _GET and plural):
            kind = "list"
        elif verb in _GET:
            kind = "get"
        elif verb in _UPDATE:
            kind = "update"
        elif verb in _DELETE:
            kind = "delete"
        else:
            kind = "action"
    noun = resource
    if resource and namespace:
        resource = f"{namespace}:{resource}"
    if not resource or (kind != "create" and created is not None and resource not in created):
        return Operation("action", resource)  # nothing creates it: a pure function of the arguments
    id_param = _id_param(spec, noun) if kind in ("get", "update", "delete") else ""
    if kind in ("get", "update", "delete") and not id_param:
        kind = "list" if kind == "get" else "action"
    return Operation(kind, resource, id_param)


def _id_param(spec: ToolSpec, resource: str) -> str:
    names = list(spec.properties)
    flat = resource.replace("_", "")
    for want in ("id", f"{resource}_id", f"{flat}id", "key", "uuid"):
        for n in names:
            if n.lower().replace("_", "") == want.replace("_", ""):
                return n
    for n in spec.required:
        if n.lower().endswith("id"):
            return n
    return ""


# ---------------------------------------------------------------------------------------- schema helpers


def _primary_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return str(non_null[0]) if non_null else "null"
    return str(kind) if isinstance(kind, str) else None


def result_schema(spec: ToolSpec) -> JSONDict:
    """The schema results are made from: the declared one, or a generic object when none is declared."""
    returns = {k: v for k, v in spec.returns.items() if k != "description"}
    return returns or {}


def id_field(creator: CatalogTool) -> str:
    """The field of a created record that holds its id (``id``, ``order_id``, ...; ``id`` when none)."""
    props = result_schema(creator.spec).get("properties")
    names = list(props) if isinstance(props, dict) else []
    resource = creator.op.resource.rsplit(":", 1)[-1]
    for want in ("id", f"{resource}_id", f"{resource.replace('_', '')}id"):
        for n in names:
            if n.lower().replace("_", "") == want.replace("_", ""):
                return n
    for n in names:
        if n.lower().endswith("id"):
            return n
    return "id"


def _returns_field(spec: ToolSpec, name: str) -> bool:
    props = result_schema(spec).get("properties")
    return not result_schema(spec) or (isinstance(props, dict) and name in props)


def _list_path(spec: ToolSpec, id_name: str) -> str:
    """Where a list tool's result holds the ids of the records it lists (``[].id``, ``orders[].id``)."""
    schema = result_schema(spec)
    if not schema:
        return f"results[].{id_name}"
    if _primary_type(schema) == "array":
        return f"[].{id_name}"
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            if isinstance(sub, dict) and _primary_type(sub) == "array":
                return f"{key}[].{id_name}"
    return ""


def load_source(path: Path, fmt: CatalogFormat | None = None) -> list[RawTool]:
    """The tools of one file in a given (or detected) format."""
    data = read_structured(path)
    fmt = fmt or detect_format(data)
    source = path.name
    if fmt == "openapi":
        return load_openapi(data, source)
    if fmt == "bfcl":
        return load_bfcl_docs(data, source)
    return load_openai_tools(data, source)
