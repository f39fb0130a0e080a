"""The LLM implementations of the roles: ChatOpenAI against any OpenAI-compatible endpoint.

Select them per role with ``impl: llm`` in the config::

    agents:
      reasoner:
        impl: llm
        model: Qwen/Qwen3-30B-A3B-Thinking-2507
        base_url: http://localhost:8000/v1     # vLLM / SGLang; Ollama: http://localhost:11434/v1
        temperature: 0.6
        max_tokens: 8192
        extra_body: {chat_template_kwargs: {enable_thinking: true}}
        options: {max_concurrency_per_endpoint: 32, send_seed: true}

Each role renders its prompt from :mod:`hardgen.prompts`, asks for plain text (no structured-output mode:
it breaks on ``<think>`` text) and parses the answer itself. A reasoning model's thinking - inline
``<think>`` blocks or a separate ``reasoning_content``/``reasoning`` field - is kept as the Reasoner's CoT
and set aside for the JSON roles. An answer that cannot be parsed is re-asked up to ``max_reasks`` times
(the bad answer plus a short correction are appended), then the role raises ``llm:malformed_output``.
The target model under test is never re-asked: its mistakes are what self-evaluation measures.

Options (``agents.<role>.options``):
    max_concurrency_per_endpoint: the request limit of this role's endpoint (overrides the settings').
    max_answer_bytes, max_answer_tokens: caps on one answer (default 256 KiB and ``max_tokens``); a larger
        answer is unusable (re-asked, like a malformed one; a target's counts as its failure).
    circuit_breaker: ``{threshold, probe_every_s, give_up_after_s}`` of this role's endpoint (default
        5 consecutive transport failures, a probe every 2 s, give up after 300 s: the items are deferred).
    send_seed: send the input's seed as the request's ``seed`` (default true), so servers that honour it
        (vLLM, Ollama) sample reproducibly on a resume.
"""

from hardgen.agents.llm.roles import (
    LLMQueryGenerator,
    LLMReasoner,
    LLMSummarizer,
    LLMTargetModel,
    LLMToolMaker,
    LLMVerifier,
)

__all__ = [
    "LLMQueryGenerator",
    "LLMReasoner",
    "LLMSummarizer",
    "LLMTargetModel",
    "LLMToolMaker",
    "LLMVerifier",
]
