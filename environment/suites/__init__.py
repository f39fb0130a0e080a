"""Built-in suites. Each module registers its suite class on import; add new modules to the list."""

from hardgen.environment.suites import (
    analytics,  # noqa: F401
    banking,  # noqa: F401
    calendar,  # noqa: F401
    ecommerce,  # noqa: F401
    filesystem,  # noqa: F401
    games,  # noqa: F401
    maths,  # noqa: F401
    messaging,  # noqa: F401
    support,  # noqa: F401
    trading,  # noqa: F401
    travel,  # noqa: F401
    vehicle,  # noqa: F401
)
