"""``hardgen check``: before a run spends anything, does every model endpoint of the config work?

For each distinct endpoint and model that an ``llm`` role or target uses:

* **answers**: ``GET {base_url}/models`` gets an HTTP answer (the URL and the cause when not);
* **key**: the endpoint accepts the key (not 401/403);
* **model**: the model is listed, or (servers that list one name but serve any) a request to it works;
* **tool calls**: a request with one tool comes back with a call the roles can read (native
  ``tool_calls``, or calls written in the text);
* **reasoning**: reasoning text is found (a ``reasoning_content``/``reasoning`` field or inline
  ``<think>``); only reported, since a model without it still works (the CoT is its text).

``hardgen run`` and ``hardgen resume`` run the same check first (``--no-check`` skips it); a config
whose roles are all offline has nothing to check.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import httpx

from hardgen.config import AgentConfig, Settings

PROBE_TIMEOUT_S = 15.0
PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city's name."}},
            "required": ["city"],
        },
    },
}
PROBE_QUERY = "What is the weather in Paris right now?"


@dataclass
class CheckRow:
    """One check of one endpoint: passed (``ok``), failed, or a warning (``ok`` and a ``fix``)."""

    endpoint: str
    roles: str
    check: str
    ok: bool
    detail: str
    fix: str = ""

    @property
    def status(self) -> str:
        return "fail" if not self.ok else ("warn" if self.fix else "ok")


def endpoints(settings: Settings) -> dict[tuple[str, str, str], tuple[AgentConfig, list[str]]]:
    """(base URL, model, key variable) -> (one config that uses it, the roles that do)."""
    roles: list[tuple[str, AgentConfig]] = [
        (name, getattr(settings.agents, name))
        for name in ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
    ]
    if settings.self_eval.enabled:
        roles += [(f"target:{t.model or t.name}", t) for t in settings.self_eval.targets]
    found: dict[tuple[str, str, str], tuple[AgentConfig, list[str]]] = {}
    for role, config in roles:
        if config.impl != "llm":
            continue
        # Imported only when a role is an LLM: the client stack takes seconds to import, which an
        # offline run would pay for nothing.
        from hardgen.agents.llm.client import resolve_base_url

        key = (resolve_base_url(config.base_url), config.model, config.api_key_env)
        found.setdefault(key, (config, []))[1].append(role)
    return found


def check_settings(settings: Settings) -> list[CheckRow]:
    """Every check of every endpoint the config uses (none when every role is offline)."""
    found = endpoints(settings)
    if not found:
        return []

    async def all_checks() -> list[CheckRow]:
        groups = await asyncio.gather(
            *(_check_endpoint(url, config, roles) for (url, _m, _k), (config, roles) in found.items())
        )
        return [row for group in groups for row in group]

    return asyncio.run(all_checks())


async def _check_endpoint(url: str, config: AgentConfig, roles: list[str]) -> list[CheckRow]:
    who = ", ".join(roles)
    model = config.model

    def row(check: str, ok: bool, detail: str, fix: str = "") -> CheckRow:
        return CheckRow(url, who, check, ok, detail, fix)

    key = os.environ.get(config.api_key_env, "")
    headers = {"Authorization": f"Bearer {key or 'not-needed'}"}
    rows: list[CheckRow] = []
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            listed = await client.get(f"{url}/models", headers=headers)
    except httpx.HTTPError as exc:
        cause = str(exc) or type(exc).__name__
        return [
            row("answers", False, f"cannot reach {url}/models: {cause}", "start the server or fix base_url")
        ]
    rows.append(row("answers", True, f"GET /models: HTTP {listed.status_code}"))
    if listed.status_code in (401, 403):
        rows.append(
            row(
                "key",
                False,
                f"HTTP {listed.status_code}: the key in ${config.api_key_env} was refused",
                f"export {config.api_key_env}=<a valid key>",
            )
        )
        return rows
    names = _model_names(listed)
    reply, problem = await _probe_chat(config)
    if problem is not None and problem[0] in (401, 403):
        rows.append(row("key", False, problem[1], f"export {config.api_key_env}=<a valid key>"))
        return rows
    rows.append(row("key", True, "accepted" if key else f"no key set (${config.api_key_env}); none needed"))
    if problem is not None and problem[0] == 404:
        known = f"use one of: {', '.join(names[:8])}" if names else "check model and base_url"
        rows.append(row("model", False, f"{model!r} is unknown here ({problem[1]})", known))
        return rows
    if problem is not None and problem[0] < 0:  # transient: the endpoint is up but flaky right now
        rows.append(row("chat", True, problem[1], "the run retries these; check the server if it lasts"))
        return rows
    if problem is not None:
        rows.append(row("chat", False, problem[1], "check the server and its log, then check again"))
        return rows
    listed_note = "listed" if model in names else "not listed, but it answers"
    rows.append(row("model", True, f"{model!r} {listed_note}"))
    assert reply is not None
    rows.extend(_read_reply(reply, row))
    return rows


def _model_names(response: httpx.Response) -> list[str]:
    try:
        data = response.json().get("data") or []
    except (ValueError, AttributeError):
        return []
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]


async def _probe_chat(config: AgentConfig) -> tuple[Any, tuple[int, str] | None]:
    """One request with one tool through the roles' own client (with up to 2 retries): (reply, None),
    or (None, (status, why)) where status is the HTTP status of a refusal, 0 or -1 (transient)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from hardgen.agents.base import AgentError, EndpointFault
    from hardgen.agents.llm.client import aclose_chat_models, call_model, make_chat_model
    from hardgen.prompts import render

    probe = config.model_copy(
        update={"max_retries": min(config.max_retries, 2), "timeout_s": min(config.timeout_s, 60.0)}
    )
    try:
        model = make_chat_model(probe).bind_tools([PROBE_TOOL])
        messages = [SystemMessage(content=render("target")), HumanMessage(content=PROBE_QUERY)]
        reply = await call_model(model, messages, role="check", config=probe)
    except EndpointFault as fault:
        if fault.transient:
            return None, (-1, str(fault))
        status = int(fault.reason.rsplit("_", 1)[1]) if fault.reason.startswith("llm:http_") else 0
        return None, (status, str(fault))
    except AgentError as exc:
        return None, (0, str(exc))
    finally:
        await aclose_chat_models()
    return reply, None


def _read_reply(reply: Any, row: Any) -> list[CheckRow]:
    from hardgen.agents.llm.parse import without_think
    from hardgen.agents.llm.roles import _target_action

    rows = []
    action = _target_action(reply)
    if action.calls:
        how = "native tool_calls" if reply.tool_calls else "calls written in the text"
        rows.append(row("tool calls", True, f"{how}: {', '.join(c.name for c in action.calls)}"))
    else:
        rows.append(
            row(
                "tool calls",
                False,
                "a request with one tool came back without a call the roles can read"
                + (f" ({'; '.join(reply.invalid_tool_calls)})" if reply.invalid_tool_calls else ""),
                "enable the server's tool parser (vLLM: --enable-auto-tool-choice --tool-call-parser ...)",
            )
        )
    if reply.reasoning:
        rows.append(row("reasoning", True, "in a separate reasoning field"))
    elif without_think(reply.content) != reply.content:
        rows.append(row("reasoning", True, "inline <think> text"))
    else:
        rows.append(
            row(
                "reasoning",
                True,
                "none found: the Reasoner's CoT will be its text before the calls",
                "for a thinking model, enable thinking (extra_body) or the server's reasoning parser",
            )
        )
    return rows
