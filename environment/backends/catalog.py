"""Schema-only tool catalogs: tools known only by their schemas, executed by a simulator.

A *catalog* is a list of tool schemas imported from files users already have:

* **OpenAI tools** (``.json`` holding a list, or ``.jsonl`` with one tool a line), in the
  ``{"type": "function", "function": {...}}`` form or the bare ``{"name", "description", "parameters"}``
  form; an optional ``returns``/``response`` schema is kept.
* **BFCL function docs**: one doc a line (``multi_turn_func_doc``), or BFCL test entries whose
  ``function`` field lists docs (the single-turn and live categories). BFCL's schema dialect (``dict``,
  ``float``, ``tuple``, ``any``, and Java/JavaScript type names) is mapped to JSON Schema.
* **OpenAPI 3** documents (JSON or YAML): one tool per operation, parameters and JSON request body merged
  into one argument object, the first 2xx JSON response as the result schema, local ``$ref``\\s resolved.

``bfcl_data: true`` imports every function doc shipped in ``bfcl-eval``'s single-turn and live data as
one catalog (the paper's "real-world" tools).

The tools run on a deterministic **simulated executor**: a result is generated from the declared
result schema (valid against it), seeded by the tool, its arguments and the run seed, so the same call
gives the same result. It is stateful where the API is: tools are read as operations on resources
(``create_order`` / ``POST /orders`` creates an order, ``get_order`` / ``GET /orders/{id}`` finds it,
``list_orders``, ``update_order``, ``delete_order``), and a resource that some tool creates is kept in
the state, so what a create returns a get finds, an unknown id is ``tool:not_found``, and a deleted record
is gone. A few records of every such resource exist from the start, so queries can name real ones.
``executor: llm`` asks a model for the results of the other tools instead (with a response cache, so a
replay gives the same results); see :class:`LLMResultSource`.

Options of a ``kind: catalog`` backend (all optional except a source)::

    sources: [tools.jsonl, {path: api.yaml, format: openapi}]   # format: openai | bfcl | openapi
    bfcl_data: true              # or a list of BFCL categories (simple_python, live_multiple, ...)
    include: ["math_*"]          # fnmatch patterns on tool names; exclude: [...]
    limit: 500                   # at most this many tools (after include/exclude), in catalog order
    domain: catalog              # the domain of tools that do not name one
    seed_records: 3              # records per stored resource in the initial state
    executor: simulated          # or llm, with llm: {model, base_url, api_key_env, cache: FILE}
    decontaminate: true          # default: on when bfcl_data is used (see hardgen.decontam)
"""

from __future__ import annotations

import copy
import fnmatch
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import JsonValue

from hardgen.config import BackendConfig
from hardgen.environment.backends import register_backend
from hardgen.environment.backends.catalog_import import (
    BFCL_CATEGORIES,
    FORMATS,
    Catalog,
    CatalogFormat,
    RawTool,
    bfcl_category_files,
    bfcl_data_dir,
    build_catalog,
    load_source,
    parameters_schema,
    to_json_schema,
    tool_name,
)
from hardgen.environment.backends.catalog_sim import CatalogState, LLMResultSource, Simulator, synthesize
from hardgen.environment.base import Backend, Dependency, EnvironmentConfigError, collect_entities
from hardgen.schema import JSONDict, ToolSpec, canonical_json, content_hash

__all__ = [
    "BFCL_CATEGORIES",
    "Catalog",
    "CatalogBackend",
    "LLMResultSource",
    "bfcl_category_files",
    "bfcl_data_dir",
    "build_catalog",
    "catalog_from_options",
    "load_source",
    "parameters_schema",
    "synthesize",
    "to_json_schema",
]

# ---------------------------------------------------------------------------------------- backend


class CatalogBackend(Backend):
    """A schema-only catalog run by the :class:`Simulator`."""

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        *,
        seed: int = 0,
        seed_records: int = 3,
        domain: str = "catalog",
        llm: LLMResultSource | None = None,
        decontaminate: bool = False,
        _initial: CatalogState | None = None,
    ) -> None:
        self.name = name
        self.domain = domain
        self.catalog = catalog
        self.simulator = Simulator(catalog, llm)
        self.decontaminate = decontaminate
        self.seed_records = seed_records
        if _initial is None:
            records = _initial_records(self.simulator, catalog, seed_records, seed)
            _initial = CatalogState(records, {r: len(b) for r, b in records.items()}, seed)
        self.state = _initial

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return self.catalog.dependencies

    def tool_specs(self) -> list[ToolSpec]:
        return self.catalog.specs

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        self.state.calls += 1
        return self.simulator.run(self.catalog.tool(tool), arguments, self.state)

    def snapshot(self) -> JSONDict:
        return self.state.to_json()

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        self.state = CatalogState.from_json(snapshot, self.name)

    def entities(self) -> dict[str, list[JsonValue]]:
        return collect_entities({k: dict(v) for k, v in self.state.records.items()})

    def fork(self) -> CatalogBackend:
        twin = CatalogBackend(
            self.name,
            self.catalog,
            seed=self.state.seed,
            seed_records=self.seed_records,
            domain=self.domain,
            llm=self.simulator.llm,
            decontaminate=self.decontaminate,
            _initial=CatalogState.from_json(self.state.to_json(), self.name),
        )
        return twin


_INITIAL_CACHE: dict[tuple[int, int, int], dict[str, dict[str, JSONDict]]] = {}


def _initial_records(
    sim: Simulator, catalog: Catalog, per_resource: int, seed: int
) -> dict[str, dict[str, JSONDict]]:
    """The initial records (shared: :class:`CatalogState` copies a bucket before changing it)."""
    key = (id(catalog), per_resource, seed)
    if key not in _INITIAL_CACHE:
        _INITIAL_CACHE[key] = sim.initial_records(per_resource, seed)
    return dict(_INITIAL_CACHE[key])


# ---------------------------------------------------------------------------------------- factory

_CATALOG_CACHE: dict[str, Catalog] = {}  # by sources (paths, sizes, times) and options
_BY_OPTIONS: dict[str, Catalog] = {}  # by the options as written, the fast path
_CACHE_LOCK = threading.Lock()


def catalog_from_options(options: Mapping[str, JsonValue], name: str = "catalog") -> Catalog:
    """The catalog a backend's options describe (cached per process: large catalogs load once)."""
    fast_key = canonical_json([name, dict(options)])
    with _CACHE_LOCK:
        known = _BY_OPTIONS.get(fast_key)
    if known is not None:
        return known  # environments are rebuilt at nearly every node: no file system work then
    domain = str(options.get("domain") or "catalog")
    sources = _sources(options)
    fingerprint = [name, domain, options.get("include"), options.get("exclude"), options.get("limit")]
    for path, fmt in sources:
        stat = path.stat() if path.exists() else None
        fingerprint.append(
            [str(path.resolve()), fmt, stat.st_mtime_ns if stat else None, stat.st_size if stat else None]
        )
    key = content_hash(fingerprint)
    with _CACHE_LOCK:
        cached = _CATALOG_CACHE.get(key)
        if cached is not None:
            _BY_OPTIONS[fast_key] = cached
    if cached is not None:
        return cached
    raw: list[RawTool] = []
    for path, fmt in sources:
        raw.extend(load_source(path, fmt))
    include = _patterns(options.get("include"), "include")
    exclude = _patterns(options.get("exclude"), "exclude")
    if include:
        raw = [t for t in raw if any(fnmatch.fnmatchcase(tool_name(t.name), p) for p in include)]
    if exclude:
        raw = [t for t in raw if not any(fnmatch.fnmatchcase(tool_name(t.name), p) for p in exclude)]
    catalog = build_catalog(raw, domain=domain, suite=name)
    limit = options.get("limit")
    if isinstance(limit, int) and limit > 0 and len(catalog.tools) > limit:
        kept = catalog.tools[:limit]
        catalog = Catalog(
            tools=kept,
            read=catalog.read,
            duplicates=catalog.duplicates,
            renamed=catalog.renamed,
            distinct_names=catalog.distinct_names,
            sources=catalog.sources,
        )
    if not catalog.tools:
        raise EnvironmentConfigError(f"catalog backend {name!r} has no tools (check sources/include/exclude)")
    check_schemas(catalog)
    with _CACHE_LOCK:
        _CATALOG_CACHE[key] = catalog
        _BY_OPTIONS[fast_key] = catalog
    return catalog


_META = Draft7Validator(Draft7Validator.META_SCHEMA)


def check_schemas(catalog: Catalog) -> None:
    """Check every schema, and hand the Environment ready validators for the argument schemas.

    Checking a schema against the 2020-12 meta-schema (what ``Environment`` does for a schema it has not
    seen) costs about 14 ms, 45 s for BFCL's 3,000 tools. :func:`to_json_schema` only writes keywords
    that mean the same in drafts 7 and 2020-12, so the draft-7 meta-schema (under 1 ms) checks them, and
    the Environment's validator cache is filled with the checked schemas.
    """
    from hardgen.environment import base

    for t in catalog.tools:
        for schema in (t.spec.parameters, t.spec.returns):
            error = jsonschema.exceptions.best_match(_META.iter_errors(schema))
            if error is not None:
                where = ".".join(str(p) for p in error.absolute_path) or "schema"
                raise EnvironmentConfigError(
                    f"tool {t.spec.name!r} ({t.source}): invalid schema at {where}: {error.message}"
                )
        key = canonical_json(t.spec.parameters)
        if key not in base._VALIDATORS:
            base._VALIDATORS[key] = Draft202012Validator(copy.deepcopy(t.spec.parameters))


def _sources(options: Mapping[str, JsonValue]) -> list[tuple[Path, CatalogFormat | None]]:
    found: list[tuple[Path, CatalogFormat | None]] = []
    raw = options.get("sources", [])
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise EnvironmentConfigError("catalog option 'sources' must be a list of paths or {path, format}")
    for entry in raw:
        if isinstance(entry, str):
            found.append((Path(entry), None))
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            fmt = entry.get("format")
            if fmt is not None and fmt not in FORMATS:
                raise EnvironmentConfigError(
                    f"catalog source format {fmt!r}: use one of {', '.join(FORMATS)}"
                )
            found.append((Path(str(entry["path"])), fmt))
        else:
            raise EnvironmentConfigError(f"catalog source {entry!r}: give a path or {{path, format}}")
    for path, _ in found:
        if not path.exists():
            raise EnvironmentConfigError(f"catalog source {path} does not exist")
    bfcl = options.get("bfcl_data")
    if bfcl:
        categories = [str(c) for c in bfcl] if isinstance(bfcl, list) else None
        found.extend((p, "bfcl") for p in bfcl_category_files(categories))
    if not found:
        raise EnvironmentConfigError("a catalog backend needs 'sources' or 'bfcl_data: true'")
    return found


def _patterns(value: JsonValue, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise EnvironmentConfigError(f"catalog option {what!r} must be a pattern or a list of patterns")


def _llm_source(options: Mapping[str, JsonValue]) -> LLMResultSource | None:
    executor = options.get("executor", "simulated")
    if executor == "simulated":
        return None
    if executor != "llm":
        raise EnvironmentConfigError(f"catalog executor {executor!r}: use 'simulated' or 'llm'")
    settings = options.get("llm")
    if not isinstance(settings, dict):
        raise EnvironmentConfigError("executor: llm needs an 'llm' mapping (model, base_url, cache)")
    from hardgen.config import AgentConfig

    cache = settings.get("cache")
    agent = AgentConfig.model_validate({k: v for k, v in settings.items() if k != "cache"} | {"impl": "llm"})

    def complete(prompt: str) -> str:
        from hardgen.agents.llm.client import make_chat_model, message_text

        return message_text(make_chat_model(agent).invoke(prompt))

    return LLMResultSource(complete, Path(str(cache)) if cache else None)


_LLM_SOURCES: dict[str, LLMResultSource | None] = {}


@register_backend("catalog")
def build_catalog_backend(config: BackendConfig, seed: int) -> CatalogBackend:
    """The ``kind: catalog`` factory (see the module docstring for the options)."""
    options = config.options
    name = config.name or "catalog"
    catalog = catalog_from_options(options, name)
    key = canonical_json([options.get("executor"), options.get("llm")])
    if key not in _LLM_SOURCES:
        _LLM_SOURCES[key] = _llm_source(options)
    per_resource = options.get("seed_records", 3)
    if not isinstance(per_resource, int) or per_resource < 0:
        raise EnvironmentConfigError("catalog option 'seed_records' must be a non-negative integer")
    decontaminate = options.get("decontaminate", bool(options.get("bfcl_data")))
    return CatalogBackend(
        name,
        catalog,
        seed=seed,
        seed_records=per_resource,
        domain=str(options.get("domain") or "catalog"),
        llm=_LLM_SOURCES[key],
        decontaminate=bool(decontaminate),
    )


def iter_tools(options: Mapping[str, JsonValue], name: str = "catalog") -> Iterator[ToolSpec]:
    """Every tool spec a catalog's options give (for ``hardgen catalog import``)."""
    yield from catalog_from_options(options, name).specs
