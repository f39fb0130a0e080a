"""The pipeline's roles (Tool Maker, Hard-Query Generator, Reasoner, Verifier, summariser, target model)."""

from hardgen.agents.base import (
    AgentError,
    AgentResult,
    QueryGenerator,
    QueryInput,
    Reasoner,
    ReasonerInput,
    Summarizer,
    SummaryInput,
    TargetAction,
    TargetInput,
    TargetModel,
    ToolMaker,
    ToolMakerInput,
    Verifier,
    VerifierInput,
)

__all__ = [
    "AgentError",
    "AgentResult",
    "QueryGenerator",
    "QueryInput",
    "Reasoner",
    "ReasonerInput",
    "Summarizer",
    "SummaryInput",
    "TargetAction",
    "TargetInput",
    "TargetModel",
    "ToolMaker",
    "ToolMakerInput",
    "Verifier",
    "VerifierInput",
]
