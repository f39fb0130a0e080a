"""``hardgen tools list``: every tool spec of the built-in suites."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hardgen.commands.common import UserError, user_errors
from hardgen.commands.options import JsonOpt


def register(app: typer.Typer) -> None:
    tools_app = typer.Typer(help="Inspect the built-in tool suites.", no_args_is_help=True)
    app.add_typer(tools_app, name="tools")
    tools_app.command("list")(list_tools)


def list_tools(
    suite: Annotated[str | None, typer.Option("--suite", help="Only this suite.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every tool spec (name, description, parameters, suite, domain)."""
    from rich.console import Console
    from rich.table import Table

    from hardgen.environment.registry import suite_specs

    with user_errors():
        specs, suites = suite_specs(suite)
    if not specs:
        raise UserError("no tools found")
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in specs], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(specs)} tools in {suites} suite(s)")
    for col in ("suite", "domain", "tool", "parameters", "description"):
        table.add_column(col)
    for s in specs:
        params = ", ".join(f"{p}{'' if p in s.required else '?'}" for p in s.properties)
        table.add_row(s.suite, s.domain, s.name, params, s.description.split(". Returns:")[0])
    Console().print(table)
