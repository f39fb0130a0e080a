"""``hardgen serve``: the stand-in OpenAI-compatible server backed by the offline agents."""

from __future__ import annotations

import typer

from hardgen.commands.common import UserError

FAULTS_HELP = (
    "Fault kinds, comma-separated (default all): 429, 500, timeout, malformed, truncated, wrong_call, "
    "broken_body."
)
MAX_FAULTS_HELP = "At most this many faults per request and its retries and re-asks (-1: no limit)."


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        port: int = typer.Option(8000, "--port", help="Port to listen on (0: a free one, printed)."),
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        latency_ms: float = typer.Option(0.0, "--latency-ms", help="Added to every answer (benchmarks)."),
        fault_rate: float = typer.Option(0.0, "--fault-rate", help="Probability that one request fails."),
        seed: int = typer.Option(0, "--seed", help="Seeds the fault injection."),
        faults: str = typer.Option("", "--faults", help=FAULTS_HELP),
        max_faults: int = typer.Option(-1, "--max-faults-per-request", help=MAX_FAULTS_HELP),
        hang_s: float = typer.Option(
            60.0, "--hang-s", help="How long a 'timeout' fault keeps a client waiting."
        ),
        think: str = typer.Option(
            "inline", "--think", help="inline: <think> in the content; field: reasoning_content (like vLLM)."
        ),
        error_rate: float = typer.Option(
            0.35, "--reasoner-error-rate", help="The offline Reasoner's mistake rate behind the server."
        ),
        api_key: str = typer.Option(
            "", "--api-key", envvar="HARDGEN_STANDIN_API_KEY", help="Require this bearer key (default: none)."
        ),
    ) -> None:
        """Serve the OpenAI chat-completions API, answered by the offline agents (a stand-in for a model)."""
        from hardgen.serve.app import bind, run_server
        from hardgen.serve.faults import FAULT_KINDS
        from hardgen.serve.standin import StandIn, StandInOptions

        kinds = tuple(k.strip() for k in faults.split(",") if k.strip()) or FAULT_KINDS
        if think not in ("inline", "field"):
            raise UserError(f"--think must be 'inline' or 'field', not {think!r}")
        if not 0.0 <= error_rate <= 1.0:
            raise UserError(f"--reasoner-error-rate must be between 0 and 1, not {error_rate}")
        try:
            options = StandInOptions(
                seed=seed,
                latency_ms=max(0.0, latency_ms),
                fault_rate=fault_rate,
                faults=kinds,
                max_faults_per_request=None if max_faults < 0 else max_faults,
                hang_s=hang_s,
                think="field" if think == "field" else "inline",
                error_rate=error_rate,
                api_key=api_key or None,
            )
            standin = StandIn(options)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
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
