"""Executable tool environments, the API graph and the hard-trace sampler (Phase I's engine)."""

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
