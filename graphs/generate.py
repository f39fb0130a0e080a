"""The generation graph (Phase II + III): one LangGraph thread per trajectory.

    START -> sample_trace -> tool_maker -> query_generator -> reasoner -> check
    check --correct--> execute_step --more steps--> reasoner
                                    --turn done--> summarize --more turns--> sample_trace
                                                             --done--> finish -> END
    check --wrong, k < K_max--> verifier -> reasoner        (Prompt^(k+1) = Concat(Prompt^k, Error^k))
    check --wrong, k = K_max--> discard -> END               (the reason is kept)

Any node may discard (no executable trace, a guard that keeps firing, an agent that fails); the
routing functions send such an item to ``discard``.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from hardgen.graphs import nodes
from hardgen.graphs.deps import Deps
from hardgen.graphs.state import GenerateState
from hardgen.tracing import traced_node


def build_builder() -> StateGraph[GenerateState, Deps, GenerateState, GenerateState]:
    """The uncompiled graph; compile it with the checkpointer of your choice."""
    g = StateGraph(GenerateState, context_schema=Deps)
    g.add_node("sample_trace", nodes.sample_trace)
    g.add_node("tool_maker", traced_node(nodes.tool_maker))
    g.add_node("query_generator", traced_node(nodes.query_generator))
    g.add_node("reasoner", traced_node(nodes.reasoner))
    g.add_node("check", nodes.check)
    g.add_node("verifier", traced_node(nodes.verifier))
    g.add_node("execute_step", nodes.execute_step)
    g.add_node("summarize", traced_node(nodes.summarize))
    g.add_node("finish", nodes.finish)
    g.add_node("discard", nodes.discard)

    g.add_edge(START, "sample_trace")
    g.add_conditional_edges(
        "sample_trace", nodes.route_continue, {"continue": "tool_maker", "discard": "discard"}
    )
    g.add_conditional_edges(
        "tool_maker", nodes.route_continue, {"continue": "query_generator", "discard": "discard"}
    )
    g.add_conditional_edges(
        "query_generator", nodes.route_continue, {"continue": "reasoner", "discard": "discard"}
    )
    g.add_conditional_edges("reasoner", nodes.route_continue, {"continue": "check", "discard": "discard"})
    g.add_conditional_edges("check", nodes.route_after_check)
    g.add_conditional_edges("verifier", nodes.route_after_verifier)
    g.add_conditional_edges("execute_step", nodes.route_after_execute)
    g.add_conditional_edges("summarize", nodes.route_after_summary)
    g.add_edge("finish", END)
    g.add_edge("discard", END)
    return g


def build_graph(
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledStateGraph[GenerateState, Deps, GenerateState, GenerateState]:
    """Compile the generation graph; the checkpointer is chosen by the caller (SQLite in the CLI)."""
    return build_builder().compile(checkpointer=checkpointer)
