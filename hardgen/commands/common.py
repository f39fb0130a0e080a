"""Shared CLI helpers: the user-error type and the translation of known errors into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """An error the user caused and can fix; printed as one line, exit code 2."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's known input errors into UserError (one clear message, no traceback)."""
    from hardgen.config import ConfigError
    from hardgen.environment.base import EnvironmentConfigError
    from hardgen.faults import RunFault

    try:
        yield
    except (ConfigError, EnvironmentConfigError, FileNotFoundError, RunFault) as exc:
        raise UserError(str(exc)) from exc
