"""Building the API graph of a configured environment (``hardgen graph build``)."""

from __future__ import annotations

from hardgen.config import EnvironmentConfig
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.apigraph.sampler import probe_graph
from hardgen.environment.backends import build_environment, suite_pool
from hardgen.environment.base import Environment


def build_api_graph(
    config: EnvironmentConfig, seed: int, *, declared: bool = True, infer: bool = True, probe: bool = True
) -> APIGraph:
    """The API graph G = (T, D, P) of every tool ``config`` names.

    Args:
        config: The run's environment section.
        seed: The run's seed (environments and probes are seeded with it).
        declared: Use the dependencies that suites declare.
        infer: Infer dependencies from tool schemas.
        probe: Execute every tool once on a fresh environment to refute or learn prerequisites.
    """
    names = suite_pool(config)

    def fresh() -> Environment:
        return build_environment(names, config, seed=seed)

    env = fresh()
    try:
        graph = APIGraph.from_environment(env, declared=declared, infer=infer)
    finally:
        env.close()
    if probe:
        graph.apply(probe_graph(graph, fresh, seed=seed))
    return graph
