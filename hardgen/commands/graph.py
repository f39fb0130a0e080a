"""``hardgen graph build`` and ``hardgen graph stats``: the API graph G = (T, D, P) of Phase I."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hardgen.commands.common import UserError, user_errors
from hardgen.commands.options import ConfigArg, JsonOpt


def register(app: typer.Typer) -> None:
    graph_app = typer.Typer(help="Build and inspect the API graph (Phase I).", no_args_is_help=True)
    app.add_typer(graph_app, name="graph")
    graph_app.command("build")(build)
    graph_app.command("stats")(stats)


def build(
    config: ConfigArg,
    out: Annotated[Path, typer.Option("-o", "--output", help="Where to write graph.json.")],
    declared: Annotated[
        bool, typer.Option("--declared/--no-declared", help="Use suites' declared edges.")
    ] = True,
    infer: Annotated[bool, typer.Option("--infer/--no-infer", help="Infer edges from tool schemas.")] = True,
    probe: Annotated[
        bool,
        typer.Option("--probe/--no-probe", help="Execute every tool once to refute or learn prerequisites."),
    ] = True,
) -> None:
    """Build the API graph of the configured environment and save it as JSON."""
    from hardgen.config import load_settings
    from hardgen.environment.apigraph.build import build_api_graph

    with user_errors():
        settings = load_settings(config)
        graph = build_api_graph(
            settings.environment, settings.run.seed, declared=declared, infer=infer, probe=probe
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        graph.save(out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from exc
    figures = graph.stats()
    typer.echo(
        f"wrote {out}: {figures['nodes']} tools, {figures['edges']} edges "
        f"({figures['active_edges']} active) in {figures['suites']} suite(s)"
    )


def stats(
    path: Annotated[Path, typer.Argument(help="A graph.json written by `hardgen graph build`.")],
    as_json: JsonOpt = False,
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
