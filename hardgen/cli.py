"""The ``hardgen`` command line. Each area registers its commands from ``hardgen.commands.<area>``.

Errors a user can cause end in one clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated

import typer

app = typer.Typer(
    name="hardgen",
    help="Generate hard, verified tool-use training data (the HardGen pipeline).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def _version(value: bool) -> None:
    if value:
        from hardgen import __version__

        typer.echo(f"hardgen {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print hardgen's version and exit."),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, help="More log messages: -v for info, -vv for debug."),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors in the log (no warnings).")
    ] = False,
) -> None:
    """Generate hard, verified tool-use training data (the HardGen pipeline)."""
    del version
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.getLogger().setLevel(level)
    if verbose >= 2:
        logging.getLogger("hardgen").setLevel(logging.DEBUG)


# One module per area; each defines ``register(app)``. Heavy imports stay inside the command bodies.
COMMAND_MODULES = ("tools", "graph", "run", "data", "serve", "backends", "audit")


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"hardgen.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hardgen.commands.{name}":
                continue  # that area is not built yet
            raise
        module.register(app)


_register()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    from hardgen.commands.common import UserError

    try:
        app()
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
