"""LangGraph graphs: Phase I self-evaluation and the Phase II-III generation loop."""
