"""Built-in suites. Each module registers its suite class on import; add new modules to the list."""

from hardgen.environment.suites import travel  # noqa: F401
