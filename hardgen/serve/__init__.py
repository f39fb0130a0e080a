"""The stand-in OpenAI-compatible server: the LLM path end to end without a model.

``hardgen serve`` answers ``POST /v1/chat/completions`` with the offline agents, recognising the role
from its prompt, so ``impl: llm`` roles, the official SDK underneath ChatOpenAI, retries, re-asks and
``<think>`` parsing all run for real; seeded fault injection and added latency exercise the failure
paths and the throughput. It is also what the shipped cassettes (``cassettes/``) were recorded against.
"""

from hardgen.serve.app import BackgroundServer, create_app
from hardgen.serve.faults import FAULT_KINDS, FaultInjector
from hardgen.serve.standin import RequestError, StandIn, StandInOptions

__all__ = [
    "FAULT_KINDS",
    "BackgroundServer",
    "FaultInjector",
    "RequestError",
    "StandIn",
    "StandInOptions",
    "create_app",
]
