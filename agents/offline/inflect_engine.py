"""inflect's engine, imported without typeguard's import-time instrumentation.

inflect 7 decorates about twenty of its methods with typeguard's ``@typechecked``, and typeguard 4
instruments each one at import by re-parsing and recompiling the whole ``inflect`` module: ``import
inflect`` takes about 2.4 CPU-seconds where the module itself needs 0.05 (upstream: jaraco/inflect#212,
agronholm/typeguard#468, both open). Every ``hardgen`` process and every worker paid it.

The checks only guard inflect's own arguments at run time (the agents always pass a ``str``), and
typeguard itself skips them under ``python -O``. So inflect is imported while ``typeguard`` resolves to
a stand-in whose ``typechecked`` returns the function unchanged; the real module (if another library had
imported it) is put back right after, so nothing else sees the stand-in. inflect's results are the same
either way: the decorator never changes a return value.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import inflect


def _identity(target: Any = None, **_options: Any) -> Any:
    """``typechecked`` as it behaves under ``python -O``: usable bare or with options."""
    if target is None:
        return _identity
    return target


def import_inflect() -> types.ModuleType:
    """The ``inflect`` module, imported (once per process) without typeguard's instrumentation."""
    if "inflect" in sys.modules:
        return sys.modules["inflect"]
    stand_in = types.ModuleType("typeguard")
    stand_in.typechecked = _identity  # type: ignore[attr-defined]
    real = sys.modules.get("typeguard")
    sys.modules["typeguard"] = stand_in
    try:
        import inflect as module
    finally:
        if real is None:
            sys.modules.pop("typeguard", None)
        else:
            sys.modules["typeguard"] = real
    return module


def inflect_engine() -> inflect.engine:
    """A new ``inflect.engine``."""
    engine: inflect.engine = import_inflect().engine()
    return engine
