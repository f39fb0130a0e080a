"""The registry of built-in suites: importing ``hardgen.environment.suites`` registers them all."""

from __future__ import annotations

from typing import TypeVar

from hardgen.environment.base import EnvironmentConfigError, Suite
from hardgen.schema import ToolSpec

SuiteT = TypeVar("SuiteT", bound=type[Suite])

SUITES: dict[str, type[Suite]] = {}


def register_suite(cls: SuiteT) -> SuiteT:
    """Class decorator: make a suite available by its ``name``."""
    if not cls.name or not cls.domain:
        raise EnvironmentConfigError(f"{cls.__qualname__} must set name and domain")
    if cls.name in SUITES and SUITES[cls.name] is not cls:
        raise EnvironmentConfigError(f"two suites are named {cls.name!r}")
    SUITES[cls.name] = cls
    return cls


def _load_builtin() -> None:
    import hardgen.environment.suites  # noqa: F401  (registers on import)


def get_suite(name: str) -> type[Suite]:
    _load_builtin()
    try:
        return SUITES[name]
    except KeyError:
        raise EnvironmentConfigError(
            f"unknown suite {name!r}; built-in suites: {', '.join(sorted(SUITES))}"
        ) from None


def all_suites() -> dict[str, type[Suite]]:
    _load_builtin()
    return dict(sorted(SUITES.items()))


def suite_specs(name: str | None = None) -> tuple[list[ToolSpec], int]:
    """The tool specs of one built-in suite (``name``) or of all of them, and how many suites that is."""
    suites = [get_suite(name)] if name else list(all_suites().values())
    return [spec for cls in suites for spec in cls.specs()], len(suites)
