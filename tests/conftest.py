"""Suite-wide settings.

Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails tests whose
behaviour is right. Speed is measured by benchmarks/, so no property test has a deadline.
"""

from hypothesis import settings

settings.register_profile("hardgen", deadline=None)
settings.load_profile("hardgen")
