"""Executable tool environments.

A *backend* provides tools and holds state. The built-in kind is a :class:`Suite`: one class whose public
attributes are its state and whose public methods are its tools (the BFCL multi-turn style). Other
backends (BFCL classes, schema-only catalogs, MCP servers) implement the same :class:`Backend` interface.

An :class:`Environment` composes backends and is the only thing the pipeline talks to:

* ``specs`` lists every tool as a :class:`~hardgen.schema.ToolSpec`;
* ``execute(call)`` validates the arguments against the spec, dispatches by name and *always* returns an
  :class:`~hardgen.schema.Observation`; nothing escapes it;
* ``snapshot()`` / ``restore()`` / ``state_hash()`` make the state plain JSON data, so a resumed LangGraph
  thread rebuilds the exact environment.

A failed call changes nothing: the called backend's state is rolled back when a call fails in any way.
"""

from __future__ import annotations

import copy
import ctypes
import inspect
import json
import pickle
import random
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import jsonschema
from jsonschema import Draft202012Validator
from pydantic import JsonValue

from hardgen.environment.specgen import SpecError, tool_spec
from hardgen.schema import JSONDict, Observation, ToolCall, ToolSpec, canonical_json, content_hash

DATA_DIR = Path(__file__).parent / "data"


class ToolError(Exception):
    """Raised by a tool for a failure the caller can understand (the observation carries it).

    Args:
        message: What went wrong, phrased for the model ("Log in first: no active session.").
        kind: ``precondition`` (another tool must run first), ``not_found``, ``invalid``, ``conflict``,
            ``permission`` or ``failed``. It becomes the observation's ``tool:<kind>`` error type.
    """

    KINDS = ("precondition", "not_found", "invalid", "conflict", "permission", "failed")

    def __init__(self, message: str, kind: str = "failed") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown ToolError kind {kind!r}; use one of {self.KINDS}")
        super().__init__(message)
        self.kind = kind


class EnvironmentConfigError(ValueError):
    """An environment cannot be built (unknown suite, clashing tool names, a bad scenario)."""


@dataclass(frozen=True)
class Dependency:
    """A true dependency between two tools, declared by a suite as data.

    ``(before, after)`` means ``after`` needs ``before`` first. ``kind="prerequisite"``: ``after`` fails
    (``tool:precondition``) until ``before`` ran. ``kind="value"``: the output field ``output`` of
    ``before`` (a dotted path into the result, ``[]`` for list items) feeds the parameter ``parameter``
    of ``after``.
    """

    before: str
    after: str
    kind: Literal["prerequisite", "value"] = "value"
    output: str = ""
    parameter: str = ""


class _ToolTimeout(BaseException):
    """Raised inside a tool that ran past the time limit (BaseException so tools cannot swallow it)."""


class Backend:
    """The interface every kind of tool provider implements."""

    name: str = ""
    domain: str = ""

    def tool_specs(self) -> list[ToolSpec]:
        raise NotImplementedError

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        """Run one tool; raise :class:`ToolError` for a failure the tool reports."""
        raise NotImplementedError

    def snapshot(self) -> JSONDict:
        """This backend's whole state as JSON data."""
        raise NotImplementedError

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        raise NotImplementedError

    def state_view(self) -> JSONDict:
        """The data :meth:`snapshot` gives, which may share objects with the live state: to read (hash,
        compare, index) at once, never to keep or change. Backends whose snapshot copies override it."""
        return self.snapshot()

    def entities(self) -> dict[str, list[JsonValue]]:
        """Values that exist in the current state, by kind (``city``, ``user_id``, ...).

        The sampler draws arguments from them, so that queries name real things. The default collects
        every string and number found under each public attribute, keyed by the attribute's name and,
        for records, by each field name.
        """
        return collect_entities(self.state_view().get("state", {}))

    def fork(self) -> Backend:
        """A new, independent backend in the same state (for executing calls on a copy)."""
        raise NotImplementedError

    def changed_since(self, before: Mapping[str, JsonValue]) -> bool | None:
        """Whether the state differs from the snapshot ``before`` (None when a backend cannot tell)."""
        return None

    def close(self) -> None:
        """Release external resources (processes, files)."""


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data. A pickle round trip gives the same result as ``copy.deepcopy`` several
    times faster, which matters because every call snapshots its suite's state for the rollback."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def collect_entities(state: JsonValue, limit: int = 200) -> dict[str, list[JsonValue]]:
    """Scalar values in JSON state, grouped by the key they appear under (dict keys count too)."""
    found: dict[str, list[JsonValue]] = {}

    def add(key: str, value: JsonValue) -> None:
        bucket = found.setdefault(key, [])
        if len(bucket) < limit and value not in bucket:
            bucket.append(value)

    def walk(node: JsonValue, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, dict | list):
                    if not isinstance(v, list):
                        add(_singular(key), k)
                    walk(v, k)
                elif v is not None and not isinstance(v, bool):
                    add(k, v)
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, dict | list):
                    walk(v, key)
                elif v is not None and not isinstance(v, bool):
                    add(_singular(key), v)

    walk(state, "")
    found.pop("", None)
    return found


def _singular(key: str) -> str:
    return key[:-1] if key.endswith("s") and len(key) > 3 else key


class Suite(Backend):
    """A built-in suite: public attributes are the state, public methods are the tools.

    Subclasses set ``name``, ``domain``, ``description``, ``dependencies`` and either
    ``default_state`` (a dict) or a JSON file ``environment/data/<name>.json``. The default state is
    deep-copied on every construction; a scenario (a dict, or a JSON file) overrides its keys.

    Tools read and write ``self.<attribute>`` (in place too: they run through :meth:`call`, which gives
    them their own copy of a state that a snapshot shares), raise :class:`ToolError` for failures and
    must not use the wall clock. Randomness comes from ``self.rng``, which is seeded per instance and
    advances with the suite's call counter, so a restored snapshot replays exactly.
    """

    description: ClassVar[str] = ""
    dependencies: ClassVar[tuple[Dependency, ...]] = ()
    default_state: ClassVar[dict[str, Any] | None] = None
    _spec_cache: ClassVar[dict[type, list[ToolSpec]]] = {}
    _names_cache: ClassVar[dict[type, list[str]]] = {}
    _default_cache: ClassVar[dict[type, dict[str, Any]]] = {}

    def __init__(self, scenario: Mapping[str, Any] | None = None, seed: int = 0) -> None:
        state = copy_json(self.load_default_state())
        if scenario:
            unknown = set(scenario) - set(state)
            if unknown:
                raise EnvironmentConfigError(
                    f"scenario for suite {self.name!r} sets unknown state keys {sorted(unknown)}; "
                    f"known keys: {sorted(state)}"
                )
            state.update(copy_json(dict(scenario)))
        self._state_keys = tuple(sorted(state))
        self._seed = seed
        self._calls = 0
        self._shared = False  # the state's objects are also a snapshot's: copied before the next call
        for key, value in state.items():
            setattr(self, key, value)

    # ------------------------------------------------------------------ state

    @classmethod
    def load_default_state(cls) -> dict[str, Any]:
        if cls not in Suite._default_cache:
            if cls.default_state is not None:
                state = cls.default_state
            else:
                path = DATA_DIR / f"{cls.name}.json"
                if not path.exists():
                    raise EnvironmentConfigError(
                        f"suite {cls.name!r} has no default_state and no {path.name}"
                    )
                state = json.loads(path.read_text(encoding="utf-8"))
            canonical_json(state)  # raises on non-JSON data
            Suite._default_cache[cls] = state
        return Suite._default_cache[cls]

    @classmethod
    def scenario_from_file(cls, path: str | Path) -> dict[str, Any]:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise EnvironmentConfigError(f"{path}: a scenario must be a JSON object of state keys")
        return data

    @property
    def rng(self) -> random.Random:
        """A RNG seeded by (suite, seed, calls so far): deterministic and restored with the snapshot."""
        return random.Random(f"{self.name}:{self._seed}:{self._calls}")

    def snapshot(self) -> JSONDict:
        """The state, copy-on-write: the snapshot shares its objects with the suite until the suite's
        next :meth:`call`, which first copies them. Taking a snapshot (every call takes one for its
        rollback; the sampler and the nodes take more) or restoring one costs no copy; the first call
        after either costs one. Snapshots are values: never change one."""
        self._shared = True
        return self.state_view()

    def state_view(self) -> JSONDict:
        state = {key: getattr(self, key) for key in self._state_keys}
        return {"state": state, "seed": self._seed, "calls": self._calls}

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        state = snapshot.get("state")
        if not isinstance(state, dict) or set(state) != set(self._state_keys):
            raise EnvironmentConfigError(f"snapshot does not fit suite {self.name!r}")
        for key, value in state.items():
            setattr(self, key, value)
        self._shared = True  # copied by the next call, so the snapshot stays as it is
        seed, calls = snapshot.get("seed", 0), snapshot.get("calls", 0)
        self._seed = seed if isinstance(seed, int) else 0
        self._calls = calls if isinstance(calls, int) else 0

    def changed_since(self, before: Mapping[str, JsonValue]) -> bool | None:
        state = before.get("state")
        if not isinstance(state, dict):
            return None
        return any(state.get(key) != getattr(self, key) for key in self._state_keys)

    def fork(self) -> Suite:
        twin = type(self)(seed=self._seed)
        twin.restore(self.snapshot())
        return twin

    # ------------------------------------------------------------------ tools

    @classmethod
    def tool_names(cls) -> list[str]:
        cached = Suite._names_cache.get(cls)
        if cached is None:
            cached = Suite._names_cache[cls] = cls._find_tool_names()
        return list(cached)

    @classmethod
    def _find_tool_names(cls) -> list[str]:
        own = []
        for attr, member in inspect.getmembers(cls, predicate=inspect.isfunction):
            if attr.startswith("_") or hasattr(Suite, attr):
                continue
            own.append(member.__name__)
        return sorted(own)

    @classmethod
    def specs(cls) -> list[ToolSpec]:
        if cls not in Suite._spec_cache:
            try:
                Suite._spec_cache[cls] = [
                    tool_spec(getattr(cls, n), suite=cls.name, domain=cls.domain) for n in cls.tool_names()
                ]
            except SpecError as exc:
                raise EnvironmentConfigError(f"suite {cls.name!r}: {exc}") from exc
        return Suite._spec_cache[cls]

    def tool_specs(self) -> list[ToolSpec]:
        return self.specs()

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        if self._shared:  # the tool may change the state in place: it works on a copy of its own
            state = copy_json({key: getattr(self, key) for key in self._state_keys})
            for key, value in state.items():
                setattr(self, key, value)
            self._shared = False
        method: Callable[..., JsonValue] = getattr(self, tool)
        self._calls += 1
        return method(**arguments)


# ------------------------------------------------------------------------------------- environment

DEFAULT_TIME_LIMIT_S = 5.0
DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024


@dataclass
class _Tool:
    spec: ToolSpec
    backend: Backend
    validator: Draft202012Validator


class Environment:
    """Composes backends; validates, dispatches and observes tool calls.

    Args:
        backends: The backends (suites) to compose. Tool names must be unique across them.
        time_limit_s: A call that runs longer gives an ``env:timeout`` observation.
        max_output_bytes: A result whose JSON is larger gives an ``env:output_too_large`` observation.
    """

    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        if not backends:
            raise EnvironmentConfigError("an environment needs at least one suite")
        names = [b.name for b in backends]
        if len(set(names)) != len(names):
            raise EnvironmentConfigError(f"suite names repeat: {names}")
        self.backends: dict[str, Backend] = {b.name: b for b in backends}
        self.time_limit_s = time_limit_s
        self.max_output_bytes = max_output_bytes
        self._tools: dict[str, _Tool] = {}
        for backend in backends:
            for spec in backend.tool_specs():
                if spec.name in self._tools:
                    other = self._tools[spec.name].backend.name
                    raise EnvironmentConfigError(
                        f"tool {spec.name!r} is defined by both {other!r} and {backend.name!r}"
                    )
                self._tools[spec.name] = _Tool(spec, backend, _validator(spec.parameters))

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_suites(
        cls,
        names: Iterable[str],
        *,
        scenarios: Mapping[str, Mapping[str, Any]] | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> Environment:
        """Build an environment from registered built-in suite names."""
        from hardgen.environment.registry import get_suite

        scenarios = scenarios or {}
        return cls([get_suite(n)(scenarios.get(n), seed=seed) for n in names], **kwargs)

    # ------------------------------------------------------------------ tools

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values()]

    @property
    def tool_names(self) -> list[str]:
        return list(self._tools)

    def spec(self, name: str) -> ToolSpec:
        return self._tools[name].spec

    def has_tool(self, name: str) -> bool:
        return name in self._tools

    def backend_of(self, tool: str) -> Backend:
        return self._tools[tool].backend

    # ------------------------------------------------------------------ execution

    def execute(self, call: ToolCall) -> Observation:
        """Run one call and observe it. Never raises for anything the call or the tool does."""
        tool = self._tools.get(call.name)
        if tool is None:
            return _error(
                call, "env:unknown_tool", f"No tool named {call.name!r}.{_suggest(call.name, self)}"
            )
        problem = _argument_problem(tool, call.arguments)
        if problem is not None:
            return _error(call, *problem)
        before = tool.backend.snapshot()
        try:
            output = self._run(tool.backend, _with_integers(tool.spec, call))
        except ToolError as exc:
            tool.backend.restore(before)
            return _error(call, f"tool:{exc.kind}", str(exc))
        except _ToolTimeout:
            tool.backend.restore(before)
            return _error(call, "env:timeout", f"{call.name} ran longer than {self.time_limit_s:g} s.")
        except Exception as exc:
            tool.backend.restore(before)
            return _error(call, "env:tool_exception", f"{call.name} failed: {type(exc).__name__}: {exc}")
        try:
            size = len(canonical_json(output).encode("utf-8"))
        except (TypeError, ValueError) as exc:
            tool.backend.restore(before)
            return _error(call, "env:bad_output", f"{call.name} returned data that is not JSON: {exc}")
        if size > self.max_output_bytes:
            tool.backend.restore(before)
            return _error(
                call,
                "env:output_too_large",
                f"{call.name} returned {size} bytes, more than the limit of {self.max_output_bytes}.",
            )
        changed = tool.backend.changed_since(before)
        return Observation(call=call, ok=True, output=output, changed_state=changed)

    def _run(self, backend: Backend, call: ToolCall) -> JsonValue:
        limit = self.time_limit_s
        if limit <= 0:
            return backend.call(call.name, call.arguments)
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            return _run_with_alarm(backend, call, limit)
        return _run_with_watchdog(backend, call, limit)

    # ------------------------------------------------------------------ state

    def snapshot(self) -> JSONDict:
        return {name: b.snapshot() for name, b in self.backends.items()}

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        if set(snapshot) != set(self.backends):
            raise EnvironmentConfigError(
                f"snapshot holds suites {sorted(snapshot)}, environment has {sorted(self.backends)}"
            )
        for name, backend in self.backends.items():
            part = snapshot[name]
            if not isinstance(part, dict):
                raise EnvironmentConfigError(f"snapshot of {name!r} is not an object")
            backend.restore(part)

    def state_view(self) -> JSONDict:
        """:meth:`snapshot`'s data without the copies (see :meth:`Backend.state_view`)."""
        return {name: b.state_view() for name, b in self.backends.items()}

    def state_hash(self) -> str:
        """A canonical hash of the whole state (suite states, seeds and call counters)."""
        return content_hash(self.state_view())

    def entities(self) -> dict[str, list[JsonValue]]:
        merged: dict[str, list[JsonValue]] = {}
        for backend in self.backends.values():
            for key, values in backend.entities().items():
                bucket = merged.setdefault(key, [])
                bucket.extend(v for v in values if v not in bucket)
        return merged

    def fork(self) -> Environment:
        """An independent environment in the same state: calls on it leave this one untouched."""
        return Environment(
            [b.fork() for b in self.backends.values()],
            time_limit_s=self.time_limit_s,
            max_output_bytes=self.max_output_bytes,
        )

    def close(self) -> None:
        for backend in self.backends.values():
            backend.close()


_VALIDATORS: dict[str, Draft202012Validator] = {}


_VALIDATORS_BY_ID: dict[int, tuple[JSONDict, Draft202012Validator]] = {}


def _validator(schema: JSONDict) -> Draft202012Validator:
    # Checking a schema against the meta-schema costs milliseconds; environments are built (and forked)
    # often, so one validator per distinct schema is kept. Validators hold no state between calls.
    # Specs are cached by their backends, so the same schema object comes back: look it up by identity
    # first (keeping the object alive so its id stays unique), by content otherwise.
    known = _VALIDATORS_BY_ID.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    key = canonical_json(schema)
    cached = _VALIDATORS.get(key)
    if cached is None:
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise EnvironmentConfigError(f"invalid parameter schema: {exc.message}") from exc
        cached = _VALIDATORS[key] = Draft202012Validator(copy.deepcopy(schema))
    _VALIDATORS_BY_ID[id(schema)] = (schema, cached)
    return cached


def _argument_problem(tool: _Tool, arguments: Mapping[str, JsonValue]) -> tuple[str, str] | None:
    props = tool.spec.properties
    missing = [r for r in tool.spec.required if r not in arguments]
    if missing:
        return (
            "env:missing_argument",
            f"{tool.spec.name} is missing required argument(s): {', '.join(missing)}.",
        )
    extra = [a for a in arguments if a not in props]
    if extra and tool.spec.parameters.get("additionalProperties", True) is False:
        return (
            "env:unexpected_argument",
            f"{tool.spec.name} got unexpected argument(s): {', '.join(extra)}; it takes: {', '.join(props)}.",
        )
    error = jsonschema.exceptions.best_match(tool.validator.iter_errors(dict(arguments)))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "arguments"
    if error.validator in ("type",):
        return "env:wrong_type", f"{tool.spec.name}: {where}: {error.message}."
    return "env:invalid_value", f"{tool.spec.name}: {where}: {error.message}."


def _with_integers(spec: ToolSpec, call: ToolCall) -> ToolCall:
    """JSON Schema accepts 7.0 as an integer; the tool is given 7, as its type hint promises."""
    fixed = {}
    for name, value in call.arguments.items():
        schema = spec.properties.get(name)
        kinds = schema.get("type") if isinstance(schema, dict) else None
        is_int = kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)
        if is_int and isinstance(value, float) and value.is_integer():
            fixed[name] = int(value)
    return call.model_copy(update={"arguments": {**call.arguments, **fixed}}) if fixed else call


def _error(call: ToolCall, error_type: str, message: str) -> Observation:
    return Observation(call=call, ok=False, error=message, error_type=error_type)


def _suggest(name: str, env: Environment) -> str:
    import difflib

    close = difflib.get_close_matches(name, env.tool_names, n=3)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def _run_with_alarm(backend: Backend, call: ToolCall, limit: float) -> JsonValue:
    def on_alarm(signum: int, frame: object) -> None:
        raise _ToolTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return backend.call(call.name, call.arguments)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_with_watchdog(backend: Backend, call: ToolCall, limit: float) -> JsonValue:
    """Outside the main thread no signal can interrupt: a timer raises the timeout in this thread."""
    lock = threading.Lock()
    done = False
    target = threading.get_ident()

    def fire() -> None:
        with lock:
            if not done:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(_ToolTimeout)
                )

    timer = threading.Timer(limit, fire)
    timer.daemon = True
    timer.start()
    try:
        return backend.call(call.name, call.arguments)
    finally:
        with lock:
            done = True
        timer.cancel()
