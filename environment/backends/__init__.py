"""Build an Environment from configuration: built-in suites plus other backends.

This is the one place that knows every kind of backend; the pipeline, ``verify`` and the CLI call it.
Backends other than built-in suites (BFCL classes, schema-only catalogs, MCP servers) register a
factory in ``BACKEND_FACTORIES`` under their ``kind``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from hardgen.config import BackendConfig, EnvironmentConfig
from hardgen.environment.base import Backend, Environment, EnvironmentConfigError
from hardgen.environment.registry import all_suites, get_suite
from hardgen.schema import ToolSpec

BackendFactory = Callable[[BackendConfig, int], Backend]
BACKEND_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(kind: str) -> Callable[[BackendFactory], BackendFactory]:
    def deco(factory: BackendFactory) -> BackendFactory:
        BACKEND_FACTORIES[kind] = factory
        return factory

    return deco


def suite_pool(config: EnvironmentConfig) -> list[str]:
    """Names of the backends a run draws from: the configured suites and backends."""
    names = sorted(all_suites()) if config.suites == "all" else list(config.suites)
    for name in names:
        get_suite(name)  # unknown names fail here, with the list of known ones
    names += [b.name or b.kind for b in config.backends]
    if not names:
        raise EnvironmentConfigError("the environment has no suites and no backends")
    return names


def build_environment(
    names: Sequence[str], config: EnvironmentConfig | None = None, seed: int = 0
) -> Environment:
    """A fresh environment holding the named suites/backends in their initial state."""
    config = config or EnvironmentConfig()
    by_name = {b.name or b.kind: b for b in config.backends}
    backends: list[Backend] = []
    for name in names:
        if name in by_name:
            spec = by_name[name]
            factory = BACKEND_FACTORIES.get(spec.kind)
            if factory is None:
                _load_backend_kind(spec.kind)
                factory = BACKEND_FACTORIES.get(spec.kind)
            if factory is None:
                known = ", ".join(sorted(BACKEND_FACTORIES)) or "none"
                raise EnvironmentConfigError(f"unknown backend kind {spec.kind!r}; known: {known}")
            backends.append(factory(spec, seed))
        else:
            backends.append(get_suite(name)(config.scenarios.get(name), seed=seed))
    return Environment(backends, time_limit_s=config.time_limit_s, max_output_bytes=config.max_output_bytes)


def _load_backend_kind(kind: str) -> None:
    """Import the module that registers a backend kind (``hardgen.environment.backends.<kind>``), if any."""
    import importlib

    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(f"hardgen.environment.backends.{kind}")


def backend_specs(config: EnvironmentConfig) -> tuple[list[ToolSpec], int]:
    """The tool specs of every backend of an environment section (this starts MCP servers), and how
    many backends that is."""
    names = [b.name or b.kind for b in config.backends]
    if not names:
        raise EnvironmentConfigError("the config has no environment.backends")
    env = build_environment(names, config)
    try:
        return list(env.specs), len(names)
    finally:
        env.close()
