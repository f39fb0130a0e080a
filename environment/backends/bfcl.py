"""BFCL's executable API classes as an environment backend (``kind: bfcl``).

The Berkeley Function Calling Leaderboard's multi-turn categories run on eight Python classes shipped in
the ``bfcl-eval`` package (Apache-2.0): a file system, maths, messaging, posting, tickets, trading,
travel and vehicle control, 128 functions in all. This backend wraps them behind the
:class:`~hardgen.environment.base.Backend` interface:

* **specs** come from BFCL's own function docs (``multi_turn_func_doc``), their schema dialect mapped to
  JSON Schema by :func:`hardgen.environment.backends.catalog.parameters_schema`;
* **calls** are dispatched by name to the instance's method with the validated arguments (never through
  BFCL's ``eval``-based executor); a returned ``{"error": ...}`` becomes a tool error, so the call is
  rolled back like any failed call;
* **state** is every instance attribute except the RNG and the API description: the public attributes
  (what BFCL's checker compares) and the few private ones that hold state too (the file system's current
  directory, the vehicle's brake forces, the travel API's fare cache). It is stored as plain JSON, with a
  side table of the Python types JSON lacks (integer dict keys, sets, tuples);
* **randomness**: an instance's ``_random`` is a ``random.Random(seed)`` as BFCL's ``_load_scenario``
  makes it, and its state is part of the snapshot (the seed while it is untouched, the generator's state
  once it has drawn), so a restored snapshot draws the same ids next. ``random_seed: run`` (the default)
  mixes the run seed into each class's seed, so items draw different ids; ``random_seed: bfcl`` keeps
  BFCL's own seeds (the scenario's ``random_seed`` or the class default), so BFCL's test entries replay
  exactly as BFCL's executor runs them;
* **positional calls** (BFCL's ground truth writes ``sort('final_report.pdf')``) are read by the method's
  signature order: :func:`positional_order` gives :func:`hardgen.calls.parse_calls` the names;
* **results** are what BFCL's executor shows: mpmath numbers come back with the digits BFCL prints
  (``mpf('1.28516')`` is ``1.28516``), not as the binary float behind them;
* **scenarios**: ``hardgen`` (default: our own initial states, ``data/bfcl_scenarios.json``), ``default``
  (the classes' built-in defaults), an inline mapping or JSON file of ``{ClassName: config}`` in BFCL's
  ``initial_config`` format, or ``{bfcl_test: "multi_turn_base_12"}`` to start from a BFCL test entry's
  initial config, which ``decontaminate: true`` (the default) refuses: BFCL is what users evaluate on.

Install: ``pip install --no-deps bfcl-eval mpmath`` (``hardgen bfcl install``); its full dependency tree
is not needed. ``BFCL_PROJECT_ROOT`` is pointed at a temporary folder before import, because the package
creates folders there. The web-search and memory classes are left out (network, model downloads).

Options of a ``kind: bfcl`` backend::

    classes: [TravelAPI, TicketAPI]   # default: all eight; short names work too (travel, ticket, ...)
    scenario: hardgen                 # or default, {ClassName: {...}}, a JSON file, {bfcl_test: ID}
    descriptions: bfcl                # BFCL's text as models see it there; short: the tool's own part
    random_seed: run                  # or bfcl: BFCL's own seeds (exact replay of BFCL's test entries)
    decontaminate: true
"""

from __future__ import annotations

import base64
import contextlib
import copy
import decimal
import functools
import hashlib
import importlib
import inspect
import json
import logging
import math
import os
import random
import re
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from hardgen.config import BackendConfig
from hardgen.environment.backends import register_backend
from hardgen.environment.backends.catalog import parameters_schema, to_json_schema
from hardgen.environment.base import DATA_DIR, Backend, EnvironmentConfigError, ToolError, collect_entities
from hardgen.schema import JSONDict, ToolSpec, canonical_json

logger = logging.getLogger(__name__)

INSTALL_HINT = "install it with: hardgen bfcl install (that is: pip install --no-deps bfcl-eval mpmath)"
_SOURCE_PACKAGE = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
SCENARIO_FILE = DATA_DIR / "bfcl_scenarios.json"


@dataclass(frozen=True)
class BFCLClass:
    """One executable BFCL class: its module and doc file stem, a short name and a domain."""

    name: str
    module: str
    short: str
    domain: str


CLASSES: dict[str, BFCLClass] = {
    c.name: c
    for c in (
        BFCLClass("GorillaFileSystem", "gorilla_file_system", "filesystem", "filesystem"),
        BFCLClass("MathAPI", "math_api", "math", "maths"),
        BFCLClass("MessageAPI", "message_api", "message", "messaging"),
        BFCLClass("TwitterAPI", "posting_api", "posting", "social"),
        BFCLClass("TicketAPI", "ticket_api", "ticket", "support"),
        BFCLClass("TradingBot", "trading_bot", "trading", "finance"),
        BFCLClass("TravelAPI", "travel_booking", "travel", "travel"),
        BFCLClass("VehicleControlAPI", "vehicle_control", "vehicle", "vehicle"),
    )
}
# Attributes kept apart from the plain state: the RNG (its own snapshot entry) and the constant API
# description.
_NOT_STATE = frozenset({"_random", "_api_description"})

_IMPORT_LOCK = threading.Lock()


def resolve_class(name: str) -> BFCLClass:
    """A class by its BFCL name, module name or short name (case-insensitive)."""
    wanted = name.strip().lower()
    for cls in CLASSES.values():
        if wanted in (cls.name.lower(), cls.module, cls.short, cls.domain):
            return cls
    raise EnvironmentConfigError(
        f"unknown BFCL class {name!r}; the executable classes are: {', '.join(CLASSES)}"
    )


def ensure_project_root() -> None:
    """Point ``BFCL_PROJECT_ROOT`` at a temporary folder (bfcl-eval creates folders there on import)."""
    if not os.environ.get("BFCL_PROJECT_ROOT"):
        os.environ["BFCL_PROJECT_ROOT"] = tempfile.mkdtemp(prefix="hardgen-bfcl-")


def load_class(cls: BFCLClass) -> type:
    """The Python class, imported on first use; a clear error when bfcl-eval (or mpmath) is missing."""
    with _IMPORT_LOCK:
        ensure_project_root()
        try:
            module = importlib.import_module(f"{_SOURCE_PACKAGE}.{cls.module}")
        except ModuleNotFoundError as exc:
            missing = exc.name or "bfcl_eval"
            raise EnvironmentConfigError(
                f"BFCL class {cls.name} needs {missing!r}, which is not installed; {INSTALL_HINT}"
            ) from exc
    found = getattr(module, cls.name, None)
    if not isinstance(found, type):
        raise EnvironmentConfigError(
            f"bfcl-eval's {cls.module} has no class {cls.name}; is bfcl-eval too old?"
        )
    return found


def bfcl_data_dir() -> Path:
    from hardgen.environment.backends.catalog import bfcl_data_dir as data_dir

    return data_dir()


_API_PREFIX = re.compile(r"^This tool belongs to .*?Tool description:\s*", re.S)


@functools.cache
def class_specs(cls_name: str, suite: str, short: bool = False) -> tuple[ToolSpec, ...]:
    """The tool specs of one class, from BFCL's function docs (cached).

    BFCL's descriptions start with the API's description ("This tool belongs to the travel system, ...
    Tool description: ..."); ``short`` keeps only the tool's own part.
    """
    cls = CLASSES[cls_name]
    path = bfcl_data_dir() / "multi_turn_func_doc" / f"{cls.module}.json"
    if not path.exists():
        raise EnvironmentConfigError(
            f"bfcl-eval has no function docs for {cls.name} ({path.name}); {INSTALL_HINT}"
        )
    python_class = load_class(cls)
    specs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        name = str(doc["name"])
        if not callable(getattr(python_class, name, None)):
            raise EnvironmentConfigError(
                f"BFCL doc {name!r} has no method on {cls.name}; is bfcl-eval consistent?"
            )
        returns = to_json_schema(doc["response"]) if isinstance(doc.get("response"), dict) else {}
        description = str(doc.get("description", "")).strip()
        if short:
            description = _API_PREFIX.sub("", description) or description
        specs.append(
            ToolSpec(
                name=name,
                description=description,
                parameters=parameters_schema(doc.get("parameters") or {}),
                returns=returns,
                suite=suite,
                domain=cls.domain,
            )
        )
    return tuple(specs)


# ------------------------------------------------------------------------------------ JSON encoding


class _Encoder:
    """Python state -> plain JSON, recording where JSON lost a type (``types``: path -> tag)."""

    def __init__(self) -> None:
        self.types: dict[str, JsonValue] = {}

    def encode(self, value: object, path: str = "") -> JsonValue:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self.types[path] = "float"
            return repr(value)
        if isinstance(value, dict):
            out: JSONDict = {}
            int_keys: list[str] = []
            tag: JSONDict = {}
            for k, v in value.items():
                if isinstance(k, bool) or not isinstance(k, int | str):
                    raise EnvironmentConfigError(
                        f"cannot snapshot a dict key of type {type(k).__name__} at {path}"
                    )
                key = str(k)
                if isinstance(k, int):
                    int_keys.append(key)
                if key in out:
                    raise EnvironmentConfigError(
                        f"cannot snapshot keys {k!r} and {key!r} side by side at {path}"
                    )
                out[key] = self.encode(v, _join(path, key))
            if int_keys:
                tag["int_keys"] = int_keys  # type: ignore[assignment]
            order = list(out)
            if order != sorted(order) and path.count("/") > 1:  # not the attributes themselves
                # Key order is state too (list_users lists a dict's keys), and JSON stores may sort keys.
                tag["order"] = order  # type: ignore[assignment]
            if tag:
                self.types[path] = tag
            return out
        if isinstance(value, list | tuple):
            if isinstance(value, tuple):
                self.types[path] = "tuple"
            return [self.encode(v, _join(path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, set | frozenset):
            self.types[path] = "set"
            items = [self.encode(v, _join(path, str(i))) for i, v in enumerate(value)]
            return sorted(items, key=canonical_json)
        if hasattr(value, "__float__"):  # numpy/mpmath/Decimal numbers in a result
            number = float(value)
            return number if math.isfinite(number) else repr(number)
        raise EnvironmentConfigError(f"cannot snapshot a {type(value).__name__} at {path or 'the top level'}")


def _join(path: str, key: str) -> str:
    return f"{path}/{key.replace('~', '~0').replace('/', '~1')}"


def decode(plain: JsonValue, types: Mapping[str, JsonValue]) -> Any:
    """The inverse of :class:`_Encoder`: a fresh Python value (sharing nothing with ``plain``)."""
    value: Any = json.loads(json.dumps(plain))
    # Deepest paths first: turning a parent's keys into integers would hide its children's paths.
    for path in sorted(types, key=lambda p: p.count("/"), reverse=True):
        value = _convert_at(value, path.split("/")[1:] if path else [], types[path])
    return value


def _convert_at(value: Any, parts: list[str], tag: JsonValue) -> Any:
    if parts:
        key = parts[0].replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            value[int(key)] = _convert_at(value[int(key)], parts[1:], tag)
        elif isinstance(value, dict) and key in value:
            value[key] = _convert_at(value[key], parts[1:], tag)
        return value
    if tag == "tuple" and isinstance(value, list):
        return tuple(value)
    if tag == "set" and isinstance(value, list):
        return {v if not isinstance(v, list) else tuple(v) for v in value}
    if tag == "float" and isinstance(value, str):
        return float(value)
    if isinstance(tag, dict) and isinstance(value, dict):
        int_keys = tag.get("int_keys")
        ints = {str(k) for k in int_keys} if isinstance(int_keys, list) else set()
        order = tag.get("order")
        keys = [str(k) for k in order if k in value] if isinstance(order, list) else sorted(value)
        keys += [k for k in value if k not in keys]
        return {(int(k) if k in ints else k): value[k] for k in keys}
    return value


def to_json_result(value: object) -> JsonValue:
    """A tool's return value as fresh JSON data (integer keys become text, sets and tuples lists)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): to_json_result(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json_result(v) for v in value]
        return sorted(items, key=canonical_json) if isinstance(value, set | frozenset) else items
    shown = _mpmath_shown(value)
    if shown is not None:
        return shown
    if hasattr(value, "__float__"):
        return to_json_result(float(value))  # numpy / Decimal numbers
    return str(value)


_MPF_REPR = re.compile(r"mpf\('([^']*)'\)")


def _mpmath_shown(value: object) -> JsonValue | None:
    """An mpmath number as BFCL shows it: the digits of its ``repr`` at the working precision.

    BFCL's executor cannot ``json.dumps`` a result holding an ``mpf`` and prints ``str(result)`` instead,
    so a model there reads ``{'result': mpf('1.28516')}``: the value is ``1.28516``, not the binary float
    ``1.28515625`` behind it.
    """
    if type(value).__module__.split(".")[0] != "mpmath":
        return None
    match = _MPF_REPR.fullmatch(repr(value))
    if match is None:
        return str(value)
    number = float(match.group(1))
    return number if math.isfinite(number) else match.group(1)


# ----------------------------------------------------------------------------------------- file system


def _fs_tree(directory: Any) -> JSONDict:
    contents: JSONDict = {}
    for name, item in directory.contents.items():
        if hasattr(item, "contents"):
            contents[name] = _fs_tree(item)
        else:
            contents[name] = {"type": "file", "content": item.content}
    node: JSONDict = {"type": "directory", "contents": contents}
    if list(contents) != sorted(contents):
        node["order"] = list(contents)  # ls lists in this order; JSON stores may sort the keys
    return node


def _fs_reorder(directory: Any, node: Mapping[str, Any]) -> None:
    order = node.get("order")
    if isinstance(order, list):
        keys = [k for k in order if k in directory.contents]
        keys += [k for k in directory.contents if k not in keys]
    else:
        keys = sorted(directory.contents)
    directory.contents = {k: directory.contents[k] for k in keys}
    children = node.get("contents", {})
    for name, item in directory.contents.items():
        if hasattr(item, "contents") and isinstance(children.get(name), Mapping):
            _fs_reorder(item, children[name])


def _fs_state(instance: Any) -> tuple[JSONDict, JSONDict]:
    root = instance.root
    cwd: list[str] = []
    node = instance._current_dir
    while node is not None and node is not root:
        cwd.append(node.name)
        node = node.parent
    public: JSONDict = {
        "root": {root.name: _fs_tree(root)},
        "long_context": bool(getattr(instance, "long_context", False)),
    }
    path: list[JsonValue] = list(reversed(cwd))
    return public, {"cwd": path}


def _fs_restore(instance: Any, public: Mapping[str, Any], private: Mapping[str, Any]) -> None:
    instance._load_scenario({"root": copy.deepcopy(public["root"])}, long_context=False)
    (tree,) = public["root"].values()
    _fs_reorder(instance.root, tree)
    node = instance.root
    for name in private.get("cwd", []):
        child = node.contents.get(name)
        if child is None or not hasattr(child, "contents"):
            raise EnvironmentConfigError(
                f"snapshot's current directory {private.get('cwd')} is not in its tree"
            )
        node = child
    instance._current_dir = node


# --------------------------------------------------------------------------------------------- backend


class BFCLBackend(Backend):
    """One or more BFCL classes in one session (like a BFCL test's ``involved_classes``).

    Args:
        name: The backend's name (the pool entry a run draws).
        classes: The BFCL classes it holds.
        scenario: ``{ClassName: initial config}`` in BFCL's format (missing classes use their defaults).
        seed: The run seed (mixed into every class's RNG seed unless ``bfcl_seeds``).
        decontaminate: Recorded for :mod:`hardgen.decontam` (queries are checked against BFCL's).
        bfcl_seeds: Seed every RNG as BFCL does (the scenario's ``random_seed`` or the class default).
    """

    def __init__(
        self,
        name: str,
        classes: Sequence[BFCLClass],
        scenario: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        seed: int = 0,
        decontaminate: bool = True,
        short_descriptions: bool = False,
        bfcl_seeds: bool = False,
    ) -> None:
        if not classes:
            raise EnvironmentConfigError(f"BFCL backend {name!r} has no classes")
        self.name = name
        self.classes = list(classes)
        self.domain = self.classes[0].domain if len(self.classes) == 1 else "bfcl"
        self.decontaminate = decontaminate
        self.short_descriptions = short_descriptions
        self.bfcl_seeds = bfcl_seeds
        self.scenario = {k: dict(v) for k, v in (scenario or {}).items()}
        self._seed = seed
        self._instances: dict[str, Any] = {}
        self._tool_class: dict[str, str] = {}
        # Each RNG's seed: an int, or None for the class's own default (BFCL's, when the scenario names none).
        self._rng_seeds: dict[str, int | None] = {}
        for cls in self.classes:
            self._instances[cls.name] = self._load(cls, self.scenario.get(cls.name, {}))
            for spec in class_specs(cls.name, self._suite(cls), self.short_descriptions):
                self._tool_class[spec.name] = cls.name

    def _suite(self, cls: BFCLClass) -> str:
        return self.name if len(self.classes) == 1 else f"{self.name}/{cls.name}"

    def _load(self, cls: BFCLClass, config: Mapping[str, Any]) -> Any:
        python_class = load_class(cls)
        instance = python_class()
        if hasattr(instance, "_load_scenario"):
            try:
                instance._load_scenario(copy.deepcopy(dict(config)), long_context=False)
            except Exception as exc:
                raise EnvironmentConfigError(f"BFCL scenario for {cls.name} cannot be loaded: {exc}") from exc
        if isinstance(getattr(instance, "_random", None), random.Random):
            given = config.get("random_seed")
            seed = given if isinstance(given, int) and not isinstance(given, bool) else None
            if not self.bfcl_seeds:
                seed = mixed_seed(cls.name, seed, self._seed)
            self._rng_seeds[cls.name] = seed
            instance._random.setstate(fresh_rng_state(cls.name, seed))
        return instance

    def rng_seeds(self) -> dict[str, int | None]:
        """The seed each class's RNG started from (None: the class's BFCL default)."""
        return dict(self._rng_seeds)

    # ------------------------------------------------------------------ tools

    def tool_specs(self) -> list[ToolSpec]:
        return [
            spec
            for cls in self.classes
            for spec in class_specs(cls.name, self._suite(cls), self.short_descriptions)
        ]

    def positional_order(self) -> dict[str, list[str]]:
        """Each tool's parameter names in its method's signature order (for positional calls)."""
        orders = {cls.name: positional_order(cls.name) for cls in self.classes}
        return {tool: list(orders[cls_name].get(tool, ())) for tool, cls_name in self._tool_class.items()}

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        cls_name = self._tool_class[tool]
        instance = self._instances[cls_name]
        method = getattr(instance, tool)
        kwargs = copy.deepcopy(dict(arguments))
        for param, default in _mutable_defaults(cls_name, tool):
            # BFCL's post_tweet(tags=[]) would store the shared default list in the state, where a later
            # mention() extends it for every future call of the process: give each call its own.
            kwargs.setdefault(param, copy.deepcopy(default))
        with isolated_numerics() if cls_name == "MathAPI" else contextlib.nullcontext():
            result = to_json_result(method(**kwargs))
        if isinstance(result, dict) and "error" in result and len(result) <= 2:
            message = str(result["error"])
            raise ToolError(message, error_kind(message))
        return result

    # ------------------------------------------------------------------ state

    def snapshot(self) -> JSONDict:
        public: JSONDict = {}
        private: JSONDict = {}
        types: JSONDict = {}
        rngs: JSONDict = {}
        for cls_name, instance in self._instances.items():
            if cls_name in self._rng_seeds:
                rngs[cls_name] = _rng_snapshot(cls_name, self._rng_seeds[cls_name], instance._random)
            if cls_name == "GorillaFileSystem":
                pub, priv = _fs_state(instance)
                public[cls_name], private[cls_name] = pub, priv
                continue
            encoder = _Encoder()
            attrs = {k: v for k, v in vars(instance).items() if k not in _NOT_STATE}
            pub_attrs = {k: v for k, v in attrs.items() if not k.startswith("_")}
            priv_attrs = {k: v for k, v in attrs.items() if k.startswith("_")}
            public[cls_name] = encoder.encode(pub_attrs, "/public")
            private[cls_name] = encoder.encode(priv_attrs, "/private")
            if encoder.types:
                types[cls_name] = dict(encoder.types)
        out: JSONDict = {"state": public, "private": private, "seed": self._seed}
        if rngs:
            out["random"] = rngs
        if types:
            out["types"] = types
        return out

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        public, private = snapshot.get("state"), snapshot.get("private", {})
        types, rngs = snapshot.get("types", {}), snapshot.get("random", {})
        if not isinstance(public, dict) or set(public) != set(self._instances):
            raise EnvironmentConfigError(f"snapshot does not fit BFCL backend {self.name!r}")
        if not isinstance(private, dict) or not isinstance(types, dict) or not isinstance(rngs, dict):
            raise EnvironmentConfigError(f"snapshot does not fit BFCL backend {self.name!r}")
        for cls_name, instance in self._instances.items():
            pub, priv = public[cls_name], private.get(cls_name, {})
            if not isinstance(pub, dict) or not isinstance(priv, dict):
                raise EnvironmentConfigError(f"snapshot of BFCL class {cls_name} is not an object")
            if cls_name in self._rng_seeds:
                rng = rngs.get(cls_name)
                if not isinstance(rng, dict):
                    raise EnvironmentConfigError(f"snapshot of BFCL class {cls_name} has no random state")
                self._rng_seeds[cls_name] = _restore_rng(cls_name, rng, instance._random)
            if cls_name == "GorillaFileSystem":
                _fs_restore(instance, pub, priv)
                continue
            tags = types.get(cls_name, {})
            tags = tags if isinstance(tags, dict) else {}
            both = decode({"public": pub, "private": priv}, tags)
            for key, value in [*both["public"].items(), *both["private"].items()]:
                setattr(instance, key, value)
        run_seed = snapshot.get("seed", 0)
        self._seed = run_seed if isinstance(run_seed, int) else 0

    def entities(self) -> dict[str, list[JsonValue]]:
        state = self.snapshot()["state"]
        return collect_entities(state)

    def fork(self) -> BFCLBackend:
        twin = BFCLBackend(
            self.name,
            self.classes,
            self.scenario,
            seed=self._seed,
            decontaminate=self.decontaminate,
            short_descriptions=self.short_descriptions,
            bfcl_seeds=self.bfcl_seeds,
        )
        twin.restore(self.snapshot())
        return twin


@functools.cache
def default_state(cls_name: str) -> tuple[JSONDict, JSONDict]:
    """The public and private state (as in a snapshot) of a class loaded with an empty scenario."""
    backend = BFCLBackend("default", [CLASSES[cls_name]], {}, decontaminate=False, bfcl_seeds=True)
    snapshot = backend.snapshot()
    parts = []
    for part in ("state", "private"):
        found = snapshot.get(part)
        value = found.get(cls_name) if isinstance(found, dict) else None
        parts.append(dict(value) if isinstance(value, dict) else {})
    return parts[0], parts[1]


# ------------------------------------------------------------------------------------------- randomness


def mixed_seed(cls_name: str, seed: int | None, run_seed: int) -> int:
    """A class's RNG seed with the run seed mixed in (an int BFCL's ``random_seed`` accepts)."""
    text = f"{cls_name}:{'default' if seed is None else seed}:{run_seed}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


@functools.lru_cache(maxsize=256)
def fresh_rng_state(cls_name: str, seed: int | None) -> tuple[Any, ...]:
    """The state of an untouched RNG: ``random.Random(seed)``, or the class's BFCL default for None."""
    if seed is not None:
        return random.Random(seed).getstate()
    instance = load_class(CLASSES[cls_name])()
    instance._load_scenario({}, long_context=False)
    state: tuple[Any, ...] = instance._random.getstate()
    return state


_WORDS = 625  # the Mersenne Twister's 624 state words and its position


def _rng_snapshot(cls_name: str, seed: int | None, rng: random.Random) -> JSONDict:
    state = rng.getstate()
    out: JSONDict = {"seed": seed}
    if state != fresh_rng_state(cls_name, seed):
        version, words, gauss = state
        if version != 3 or len(words) != _WORDS:
            raise EnvironmentConfigError(f"cannot snapshot the random generator of {cls_name}")
        out["state"] = base64.b64encode(struct.pack(f"<{_WORDS}I", *words)).decode("ascii")
        if gauss is not None:
            out["gauss"] = gauss
    return out


def _restore_rng(cls_name: str, snap: Mapping[str, JsonValue], rng: random.Random) -> int | None:
    seed = snap.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise EnvironmentConfigError(f"snapshot of BFCL class {cls_name} has a bad random seed")
    packed = snap.get("state")
    if packed is None:
        rng.setstate(fresh_rng_state(cls_name, seed))
        return seed
    try:
        words = struct.unpack(f"<{_WORDS}I", base64.b64decode(str(packed), validate=True))
    except (ValueError, struct.error) as exc:
        raise EnvironmentConfigError(f"snapshot of BFCL class {cls_name} has a corrupt random state") from exc
    gauss = snap.get("gauss")
    rng.setstate((3, words, float(gauss) if isinstance(gauss, int | float) else None))
    return seed


@functools.cache
def positional_order(cls_name: str) -> dict[str, tuple[str, ...]]:
    """Every public method's parameter names in signature order (``self`` left out)."""
    python_class = load_class(CLASSES[cls_name])
    out: dict[str, tuple[str, ...]] = {}
    for name, method in inspect.getmembers(python_class, predicate=inspect.isfunction):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(method).parameters.values())[1:]
        out[name] = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY))
    return out


_NUMERICS_LOCK = threading.RLock()


@contextlib.contextmanager
def isolated_numerics() -> Iterator[None]:
    """Run BFCL code without leaking its numeric settings into the process.

    BFCL's maths API sets the thread's ``decimal`` precision (``square_root``) and mpmath's global
    ``mp.dps`` (``logarithm``) and leaves them set: the built-in maths suite's rounding would then fail.
    A local decimal context and a saved-and-restored ``mp.dps`` (under a lock: it is process-wide) keep
    them inside the call; every BFCL call sets the precision it uses first, so results do not change.
    """
    mpmath = sys.modules.get("mpmath")
    with _NUMERICS_LOCK, decimal.localcontext():
        dps = mpmath.mp.dps if mpmath is not None else None
        try:
            yield
        finally:
            if mpmath is not None and dps is not None:
                mpmath.mp.dps = dps


@functools.cache
def _mutable_defaults(cls_name: str, method: str) -> tuple[tuple[str, Any], ...]:
    signature = inspect.signature(getattr(load_class(CLASSES[cls_name]), method))
    return tuple(
        (name, p.default)
        for name, p in signature.parameters.items()
        if isinstance(p.default, list | dict | set)
    )


def error_kind(message: str) -> str:
    """The ToolError kind a BFCL error message suggests."""
    text = message.lower()
    if re.search(
        r"not (logged in|authenticated|authorized)|log ?in first|authenticate|no active|login", text
    ):
        return "precondition"
    if re.search(r"not found|no such|does not exist|doesn't exist|not exist|unknown", text):
        return "not_found"
    if "already" in text:
        return "conflict"
    if re.search(r"invalid|must be|should be|not (a )?valid|unsupported|not allowed", text):
        return "invalid"
    if re.search(r"insufficient|not enough|exceed", text):
        return "failed"
    return "failed"


# ------------------------------------------------------------------------------------------ scenarios


@functools.cache
def hardgen_scenarios() -> dict[str, dict[str, Any]]:
    """Our own initial states for the BFCL classes (written for hardgen, not taken from BFCL's tests)."""
    data = json.loads(SCENARIO_FILE.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def bfcl_test_config(entry_id: str) -> dict[str, dict[str, Any]]:
    """The ``initial_config`` of one BFCL multi-turn test entry."""
    data = bfcl_data_dir()
    for path in sorted(data.glob("BFCL_v*_multi_turn_*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if f'"{entry_id}"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("id") == entry_id:
                config = entry.get("initial_config", {})
                return config if isinstance(config, dict) else {}
    raise EnvironmentConfigError(f"no BFCL multi-turn test entry {entry_id!r}")


def resolve_scenario(value: JsonValue, decontaminate: bool, where: str) -> dict[str, dict[str, Any]]:
    """The ``{ClassName: config}`` a ``scenario`` option names (see the module docstring)."""
    if value is None or value == "hardgen":
        return copy.deepcopy(hardgen_scenarios())
    if value == "default":
        return {}
    if isinstance(value, str):
        path = Path(value)
        if not path.exists():
            raise EnvironmentConfigError(
                f"{where}: scenario file {value} does not exist (or use hardgen/default)"
            )
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise EnvironmentConfigError(f"{where}: scenario file {value} is not JSON: {exc.msg}") from exc
        value = loaded
    if isinstance(value, dict) and "bfcl_test" in value:
        if decontaminate:
            raise EnvironmentConfigError(
                f"{where}: scenario bfcl_test uses a BFCL test's initial config, which decontamination keeps "
                "out of generated data; set decontaminate: false to allow it (and do not evaluate on BFCL)"
            )
        return bfcl_test_config(str(value["bfcl_test"]))
    if not isinstance(value, dict):
        raise EnvironmentConfigError(f"{where}: scenario must be hardgen, default, a JSON file or a mapping")
    out: dict[str, dict[str, Any]] = {}
    for cls_name, config in value.items():
        cls = resolve_class(str(cls_name))
        if not isinstance(config, dict):
            raise EnvironmentConfigError(f"{where}: scenario for {cls.name} must be a mapping of state keys")
        out[cls.name] = dict(config)
    return out


@register_backend("bfcl")
def build_bfcl_backend(config: BackendConfig, seed: int) -> BFCLBackend:
    """The ``kind: bfcl`` factory (see the module docstring for the options)."""
    options = config.options
    name = config.name or "bfcl"
    wanted = options.get("classes", "all")
    if wanted == "all" or wanted is None:
        classes = list(CLASSES.values())
    elif isinstance(wanted, str):
        classes = [resolve_class(wanted)]
    elif isinstance(wanted, list):
        classes = [resolve_class(str(c)) for c in wanted]
    else:
        raise EnvironmentConfigError(f"backend {name!r}: classes must be 'all' or a list of BFCL class names")
    descriptions = options.get("descriptions", "bfcl")
    if descriptions not in ("bfcl", "short"):
        raise EnvironmentConfigError(f"backend {name!r}: descriptions must be 'bfcl' or 'short'")
    decontaminate = options.get("decontaminate", True)
    if not isinstance(decontaminate, bool):
        raise EnvironmentConfigError(f"backend {name!r}: decontaminate must be true or false")
    seeds = options.get("random_seed", "run")
    if seeds not in ("run", "bfcl"):
        raise EnvironmentConfigError(f"backend {name!r}: random_seed must be 'run' or 'bfcl'")
    scenario = _scenario_cache(canonical_json(options.get("scenario")), decontaminate, name)
    if decontaminate:
        problems = _contamination_cache(canonical_json({c.name: scenario.get(c.name, {}) for c in classes}))
        if problems:
            raise EnvironmentConfigError(f"backend {name!r}: {problems[0]}")
    return BFCLBackend(
        name,
        classes,
        scenario,
        seed=seed,
        decontaminate=decontaminate,
        short_descriptions=descriptions == "short",
        bfcl_seeds=seeds == "bfcl",
    )


@functools.lru_cache(maxsize=64)
def _scenario_cache(key: str, decontaminate: bool, name: str) -> dict[str, dict[str, Any]]:
    return resolve_scenario(json.loads(key), decontaminate, f"backend {name!r}")


@functools.lru_cache(maxsize=64)
def _contamination_cache(key: str) -> tuple[str, ...]:
    from hardgen.decontam import initial_config_problems

    return tuple(initial_config_problems(json.loads(key)))
