"""Suite-wide settings.

Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails tests whose
behaviour is right. Speed is measured by benchmarks/, so no property test has a deadline.
"""

from hypothesis import settings

settings.register_profile("hardgen", deadline=None)
settings.load_profile("hardgen")

# Modules whose tests take tens of seconds each (mypy over the package; whole runs in real processes).
FIRST = {"test_quality.py", "test_cli_run.py", "test_pipeline.py"}


def pytest_collection_modifyitems(items: list) -> None:
    """The longest tests first: spread over pytest-xdist's workers (``-n``) from the start, they end
    before the many short ones, so no worker is left running one long test alone at the end. A module
    moves as a whole (its module-scoped fixtures are built once per worker). Tests do not depend on
    their order; this only decides what starts first."""
    first = {item.path for item in items if item.get_closest_marker("slow") or item.path.name in FIRST}
    items.sort(key=lambda item: 0 if item.path in first else 1)
