"""Prompt templates of the LLM roles: jinja2 files shipped as package data.

Each role's prompt is one ``<name>.j2`` file in this package (files starting with ``_`` hold shared
macros). Templates are rendered with :class:`jinja2.StrictUndefined`, so a missing variable is an error,
never an empty string. JSON put into a prompt goes through the ``json`` filter, which sorts keys: the same
inputs give byte-identical prompts, so request bodies match recorded cassettes.

Templates (the paper's Appendix I):
    tool_maker        Figure 11: abstract an executed trace into one advanced tool (JSON answer).
    query_generator   Figure 12: a hard query for an advanced tool (JSON answer).
    reasoner_initial  Figure 13: the Reasoner's first attempt at a step (``<think>`` + ``<tool_call>``).
    reasoner_refine   Figure 15: a new attempt after Verifier feedback (eq. 5).
    verifier          Figure 14: diagnose a wrong attempt without revealing the answer (JSON answer).
    summary           the assistant's closing message of a turn (Figure 9, "Assistant Summary").
    target            the system prompt of a model under test in Phase I self-evaluation.
    reask             the short correction sent after an answer that could not be parsed.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources

import jinja2

from hardgen.calls import render_call, render_calls

__all__ = ["PromptError", "render", "template_names", "templates_digest"]

_SUFFIX = ".j2"


class PromptError(LookupError):
    """A prompt template does not exist."""


def _prompt_json(value: object) -> str:
    """JSON for a prompt: sorted keys, readable unicode, one line."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_jsonable)


def _chomp(text: str) -> str:
    """Drop the final newline a multi-line macro ends with."""
    return str(text).removesuffix("\n")


def _jsonable(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"{type(value).__name__} cannot be put into a prompt as JSON")


def _source(name: str) -> str:
    path = resources.files(__name__).joinpath(name)
    if not path.is_file():
        raise jinja2.TemplateNotFound(name)
    return path.read_text(encoding="utf-8")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_source),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _prompt_json
    env.filters["chomp"] = _chomp
    env.filters["call"] = render_call
    env.filters["calls"] = render_calls
    return env


def template_names() -> list[str]:
    """The names of the role templates (without the ``.j2`` suffix and without the ``_`` partials)."""
    files = resources.files(__name__).iterdir()
    return sorted(
        f.name[: -len(_SUFFIX)] for f in files if f.name.endswith(_SUFFIX) and not f.name.startswith("_")
    )


def render(name: str, **variables: object) -> str:
    """Render the template ``<name>.j2`` with ``variables``.

    Args:
        name: A template name from :func:`template_names`, e.g. ``"reasoner_initial"``.
        **variables: The template's variables; schema models are used as they are.

    Returns:
        The prompt text.

    Raises:
        PromptError: No template has this name.
        jinja2.UndefinedError: The template uses a variable (or attribute) that was not given.
    """
    try:
        template = _environment().get_template(name + _SUFFIX)
    except jinja2.TemplateNotFound:
        known = ", ".join(template_names())
        raise PromptError(f"no prompt template {name!r}; known: {known}") from None
    return template.render(**variables)


def templates_digest() -> str:
    """A sha256 over every template file, for a run's identity (a changed prompt is a different run)."""
    digest = hashlib.sha256()
    files = sorted(
        (f for f in resources.files(__name__).iterdir() if f.name.endswith(_SUFFIX)), key=lambda f: f.name
    )
    for f in files:
        digest.update(f.name.encode("utf-8") + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()
