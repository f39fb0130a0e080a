"""hardgen: generate hard, verified tool-use training data for LLM agents (the HardGen pipeline)."""

__version__ = "0.1.0"
