"""``hardgen graph build`` and ``hardgen graph stats``: the API graph G = (T, D, P) of Phase I."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hardgen.commands.common import UserError, user_errors


def register(app: typer.Typer) -> None:
    graph_app = typer.Typer(help="Build and inspect the API graph (Phase I).", no_args_is_help=True)
    app.add_typer(graph_app, name="graph")

    @graph_app.command("build")
    def build(
        config: Path = typer.Argument(..., help="The run's YAML config (its environment section)."),
        out: Path = typer.Option(..., "-o", "--output", help="Where to write graph.json."),
        declared: bool = typer.Option(True, "--declared/--no-declared", help="Use suites' declared edges."),
        infer: bool = typer.Option(True, "--infer/--no-infer", help="Infer edges from tool schemas."),
        probe: bool = typer.Option(
            True, "--probe/--no-probe", help="Execute every tool once to refute or learn prerequisites."
        ),
    ) -> None:
        """Build the API graph of the configured environment and save it as JSON."""
        from hardgen.config import load_settings
        from hardgen.environment.apigraph.graph import APIGraph
        from hardgen.environment.apigraph.sampler import probe_graph
        from hardgen.environment.backends import build_environment, suite_pool
        from hardgen.environment.base import Environment

        with user_errors():
            settings = load_settings(config)
            names = suite_pool(settings.environment)
            seed = settings.run.seed

            def fresh() -> Environment:
                return build_environment(names, settings.environment, seed=seed)

            env = fresh()
            try:
                graph = APIGraph.from_environment(env, declared=declared, infer=infer)
            finally:
                env.close()
            if probe:
                graph.apply(probe_graph(graph, fresh, seed=seed))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            graph.save(out)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from exc
        stats = graph.stats()
        typer.echo(
            f"wrote {out}: {stats['nodes']} tools, {stats['edges']} edges "
            f"({stats['active_edges']} active) in {stats['suites']} suite(s)"
        )

    @graph_app.command("stats")
    def stats(
        path: Path = typer.Argument(..., help="A graph.json written by `hardgen graph build`."),
        as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    ) -> None:
        """Nodes, edges by kind and by origin, and the failure set's size."""
        from rich.console import Console
        from rich.table import Table

        from hardgen.environment.apigraph.graph import APIGraph

        with user_errors():
            graph = APIGraph.load(path)
        figures = graph.stats()
        if as_json:
            typer.echo(json.dumps(figures, indent=2))
            return
        table = Table(title=f"API graph {path}")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            if isinstance(value, dict):
                for sub, n in value.items():
                    table.add_row(f"{key}.{sub}", str(n))
            else:
                table.add_row(key, str(value))
        Console().print(table)
