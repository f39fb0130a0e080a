"""``hardgen serve``: the stand-in OpenAI-compatible server backed by the offline agents."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hardgen.commands.common import UserError

FAULTS_HELP = (
    "Fault kinds, comma-separated (default all): 429, 500, timeout, malformed, truncated, wrong_call, "
    "broken_body; oversized (4 MB answers) only when named."
)
MAX_FAULTS_HELP = "At most this many faults per request and its retries and re-asks (-1: no limit)."


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: a free one, printed).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Added to every answer (benchmarks).")
    ] = 0.0,
    fault_rate: Annotated[
        float, typer.Option("--fault-rate", help="Probability that one request fails.")
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the fault injection.")] = 0,
    faults: Annotated[str, typer.Option("--faults", help=FAULTS_HELP)] = "",
    max_faults: Annotated[int, typer.Option("--max-faults-per-request", help=MAX_FAULTS_HELP)] = -1,
    hang_s: Annotated[
        float, typer.Option("--hang-s", help="How long a 'timeout' fault keeps a client waiting.")
    ] = 60.0,
    think: Annotated[
        str,
        typer.Option("--think", help="inline: <think> in the content; field: reasoning_content (like vLLM)."),
    ] = "inline",
    error_rate: Annotated[
        float,
        typer.Option("--reasoner-error-rate", help="The offline Reasoner's mistake rate behind the server."),
    ] = 0.35,
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key", envvar="HARDGEN_STANDIN_API_KEY", help="Require this bearer key (default: none)."
        ),
    ] = "",
) -> None:
    """Serve the OpenAI chat-completions API, answered by the offline agents (a stand-in for a model)."""
    from hardgen.serve.app import bind, run_server
    from hardgen.serve.faults import FAULT_KINDS
    from hardgen.serve.standin import StandIn, StandInOptions

    kinds = tuple(k.strip() for k in faults.split(",") if k.strip()) or FAULT_KINDS
    think_mode: Any = think
    try:
        options = StandInOptions(
            seed=seed,
            latency_ms=max(0.0, latency_ms),
            fault_rate=fault_rate,
            faults=kinds,
            max_faults_per_request=None if max_faults < 0 else max_faults,
            hang_s=hang_s,
            think=think_mode,
            error_rate=error_rate,
            api_key=api_key or None,
        )
        standin = StandIn(options)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    standin.warm_up()  # before the port is announced: the first requests pay no start-up cost
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"hardgen stand-in serving on http://{shown}:{bound}/v1", err=False)
    typer.echo(
        f"  {options.fingerprint}; latency {options.latency_ms:g} ms. "
        f"Point the llm roles at it: export OPENAI_BASE_URL=http://{shown}:{bound}/v1",
        err=True,
    )
    try:
        run_server(standin, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
