"""Autouse fixtures for tests that build LLM clients: import both names into a test module.

Every test starts and ends with no cached chat model, no endpoint limit or circuit breaker left over
from another test, no ``OPENAI_*`` variable from the shell, and every HTTP connection closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from hardgen.agents.llm.client import aclose_chat_models, clear_model_cache, reset_endpoint_limits
from hardgen.agents.llm.faults import reset_breakers

RESETS = (clear_model_cache, reset_endpoint_limits, reset_breakers)


@pytest.fixture(autouse=True)
def clean_llm_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    for reset in RESETS:
        reset()
    yield
    for reset in RESETS:
        reset()


@pytest.fixture(autouse=True)
async def close_llm_connections() -> AsyncIterator[None]:
    yield
    await aclose_chat_models()
