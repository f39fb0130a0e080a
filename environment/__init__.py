"""Executable tool environments: the runtime every backend plugs into.

* this package: :class:`Environment` (execute, snapshot, restore), :class:`Suite`, the suite registry and
  tool specs generated from code;
* :mod:`hardgen.environment.suites`: the built-in suites;
* :mod:`hardgen.environment.backends`: the builder that picks a backend, and the BFCL, MCP and catalog ones;
* :mod:`hardgen.environment.apigraph`: Phase I's engine, the API graph, the sampler and dependency inference.
"""

from hardgen.environment.base import (
    Backend,
    Dependency,
    Environment,
    EnvironmentConfigError,
    Suite,
    ToolError,
)
from hardgen.environment.registry import all_suites, get_suite, register_suite

__all__ = [
    "Backend",
    "Dependency",
    "Environment",
    "EnvironmentConfigError",
    "Suite",
    "ToolError",
    "all_suites",
    "get_suite",
    "register_suite",
]
