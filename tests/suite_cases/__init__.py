"""Per-suite tool cases: one module per suite (named after the suite) with a ``CASES`` list.

``tests/test_suite_tools.py`` runs every case on a fresh environment holding that suite alone (default
state), and checks that every tool of every registered suite has at least one success case and one
failure case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    """One call of one tool, after optional setup calls (each of which must succeed).

    Attributes:
        tool: The tool under test.
        args: Its arguments.
        ok: Whether the call must succeed.
        error_type: For a failure, the observation's exact error type (``tool:precondition``, ...).
        setup: Calls run first, as (tool, args) pairs.
        expect: For a success, key/value pairs the output (a dict) must contain.
        id: Optional readable test id.
    """

    tool: str
    args: dict[str, Any]
    ok: bool
    error_type: str | None = None
    setup: tuple[tuple[str, dict[str, Any]], ...] = ()
    expect: dict[str, Any] = field(default_factory=dict)
    id: str = ""
