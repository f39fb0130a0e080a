"""The offline agents: the embedded default that runs the whole pipeline with no model.

Every role is deterministic: all randomness comes from ``random.Random`` seeded with the input's seed
and the role's name, so the same input gives the same output, whatever the concurrency and however
often a run is resumed. Outputs read the way a reasoning model writes them (a ``<think>`` block, then
the answer), and token usage is estimated from text length under the model name ``offline``.

* :class:`OfflineToolMaker`: the trace's external inputs become the advanced tool's parameters.
* :class:`OfflineQueryGenerator`: a fluent request from templates per tool family.
* :class:`OfflineReasoner`: plans over the primitive tools, errs at a configurable rate, repairs.
* :class:`OfflineVerifier`: feedback from the checker's verdict, without ground-truth values.
* :class:`OfflineSummarizer`: the assistant's closing message of a turn (Figure 9).
* :class:`OfflineTargetModel`: Phase I's model under test; it calls the most plausible tool directly.

Each is constructed as ``Class(config, role)``; options come from ``config.options`` (only the
Reasoner has some, see :class:`~hardgen.agents.offline.reasoner.ReasonerOptions`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hardgen.agents.offline.roles import (
        OfflineQueryGenerator,
        OfflineReasoner,
        OfflineSummarizer,
        OfflineTargetModel,
        OfflineToolMaker,
        OfflineVerifier,
    )

__all__ = [
    "OfflineQueryGenerator",
    "OfflineReasoner",
    "OfflineSummarizer",
    "OfflineTargetModel",
    "OfflineToolMaker",
    "OfflineVerifier",
]


def __getattr__(name: str) -> Any:
    """The roles are imported on first use, so that the phrase book (``book``) or the English helpers
    (``text``) can be imported without the roles and everything they import."""
    if name in __all__:
        from hardgen.agents.offline import roles

        return getattr(roles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
