"""CLI commands, one module per area (see hardgen.cli)."""
