"""Seeded fault injection for the stand-in server.

Every request belongs to a *task*: its body without the re-ask exchanges appended after an unusable
answer, so an SDK retry and a role's re-ask count as further tries of the same task. Whether try ``n``
of a task fails, and how, is drawn from ``random.Random(f"{seed}:{task}:{n}")``: the same seed and the
same requests give the same faults, whatever the concurrency (the tries of one task are sequential).

Kinds (``--faults``):
    429          rate limited (``retry-after-ms`` set; the SDK retries)
    500          server error (the SDK retries)
    timeout      no answer until the client gives up (the SDK retries)
    malformed    an answer that cannot be parsed (the role re-asks; a target's call has broken arguments)
    truncated    the answer cut off, ``finish_reason: length`` (the role re-asks)
    wrong_call   a call of a tool that does not exist (the Reasoner's checker and Verifier catch it)
    broken_body  a 200 response whose JSON body is cut off (retried by the client like a 500)
    oversized    a 4 MB answer, max_tokens ignored (a misbehaving proxy); only when named in --faults
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from hardgen.serve.reading import BoundedDict

FAULT_WEIGHTS: dict[str, float] = {
    "429": 3.0,
    "500": 2.0,
    "timeout": 1.0,
    "malformed": 2.0,
    "truncated": 1.0,
    "wrong_call": 1.0,
    "broken_body": 0.5,
}
OVERSIZED_BYTES = 4_000_000
# The default draw: every kind but ``oversized``, which is asked for by name (adding it to the default
# would change every recorded fault sequence).
FAULT_KINDS: tuple[str, ...] = tuple(FAULT_WEIGHTS)
FAULT_WEIGHTS["oversized"] = 1.0


class FaultInjector:
    """Decides, per try of a task, whether it fails and how.

    Args:
        seed: The server's seed.
        rate: Probability that one try fails (0 disables injection).
        kinds: The kinds to draw from (weighted as in :data:`FAULT_WEIGHTS`).
        max_per_task: At most this many faults per task (None: no limit), so a test can make the first
            try fail and the next one succeed.

    Raises:
        ValueError: A rate outside [0, 1], an unknown kind, or no kind at all with a positive rate.
    """

    def __init__(
        self,
        seed: int = 0,
        rate: float = 0.0,
        kinds: Sequence[str] = FAULT_KINDS,
        max_per_task: int | None = None,
        memory: int = 200_000,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the fault rate must be between 0 and 1, not {rate}")
        unknown = sorted(set(kinds) - set(FAULT_WEIGHTS))
        if unknown:
            known = ", ".join(FAULT_WEIGHTS)
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}; known: {known}")
        if rate > 0 and not kinds:
            raise ValueError("a positive fault rate needs at least one fault kind")
        if max_per_task is not None and max_per_task < 0:
            raise ValueError("max_per_task must be at least 0")
        self.seed = seed
        self.rate = rate
        self.kinds = list(dict.fromkeys(kinds))
        self.max_per_task = max_per_task
        self._tries: BoundedDict[str, int] = BoundedDict(memory)
        self._faults: BoundedDict[str, int] = BoundedDict(memory)

    def decide(self, task: str) -> str | None:
        """The fault of the next try of ``task``, or None; every call counts as one try."""
        n = self._tries.get(task) or 0
        self._tries.put(task, n + 1)
        if self.rate <= 0:
            return None
        injected = self._faults.get(task) or 0
        if self.max_per_task is not None and injected >= self.max_per_task:
            return None
        rng = random.Random(f"{self.seed}:{task}:{n}")
        if rng.random() >= self.rate:
            return None
        kind = rng.choices(self.kinds, weights=[FAULT_WEIGHTS[k] for k in self.kinds])[0]
        self._faults.put(task, injected + 1)
        return kind
