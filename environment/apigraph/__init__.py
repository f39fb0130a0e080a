"""The API graph of Phase I (the paper's Section 3.2 and Appendix G) and what works on it.

* :mod:`~hardgen.environment.apigraph.graph`: G = (T, D, P) on networkx, the failure set, legality (eq. 1).
* :mod:`~hardgen.environment.apigraph.sampler`: the hard-trace sampler (eq. 2), executing what it samples.
* :mod:`~hardgen.environment.apigraph.inference`: dependencies inferred from schemas and outputs.

"Graph" alone, elsewhere in hardgen, means a LangGraph graph (:mod:`hardgen.graphs`).
"""
