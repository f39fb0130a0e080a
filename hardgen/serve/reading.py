"""Reading a role's structured input back from the prompt an LLM agent rendered.

The stand-in server gets exactly what a real model gets: chat messages. To answer with the offline
agents it recognises the role from the prompt's opening line (taken from the template files, so the two
cannot drift apart) and rebuilds the role's input model from the sections the templates write: tool
lists, executed traces, ``<tool_call>``/``<tool_response>`` blocks, feedback. Nothing is evaluated:
calls are read with :func:`hardgen.calls.parse_calls` (``ast`` literals) and results with ``json``.

What a prompt does not carry (the trace behind a query, the advanced tool behind a request) comes from
:class:`RunMemory`, filled by the server from the earlier requests of the same run.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Generic, Literal, TypeVar

from pydantic import JsonValue, ValidationError

from hardgen.agents.base import (
    QueryInput,
    ReasonerInput,
    SummaryInput,
    TargetInput,
    ToolMakerInput,
    VerifierInput,
)
from hardgen.calls import CallSyntaxError, parse_calls
from hardgen.schema import (
    AdvancedParameter,
    AdvancedTool,
    CheckVerdict,
    HardQuery,
    Observation,
    ReasoningAttempt,
    Step,
    ToolCall,
    ToolSpec,
    Trace,
    TraceStep,
    Turn,
    VerifierFeedback,
    canonical_json,
)

Role = Literal["tool_maker", "query_generator", "reasoner", "verifier", "summarizer", "target"]

# The template each role prompt comes from (reasoner_refine is the Reasoner too).
PROMPT_TEMPLATES: dict[str, Role] = {
    "tool_maker": "tool_maker",
    "query_generator": "query_generator",
    "reasoner_initial": "reasoner",
    "reasoner_refine": "reasoner",
    "verifier": "verifier",
    "summary": "summarizer",
}
# Section headings of the role templates (a heading is a "# " line after a blank line).
HEADINGS = frozenset(
    {
        "Primitive tools used in the trace",
        "Execution trace",
        "Earlier requests in this session",
        "Your task",
        "Answer format",
        "Example",
        "Advanced tool",
        "Contrast",
        "Earlier in this conversation",
        "Request",
        "Available tools",
        "Hint: a capability that answers the request",
        "Progress on this request",
        "Your earlier answers for this step",
        "Tools the solver had",
        "The solver's answer",
        "The correct calls for this step (for you only)",
        "What the solver's calls returned when executed",
        "Automatic check",
        "The user's request",
        "What was done",
    }
)
HINT_TAIL = "This capability is not a tool you can call."
REASK_OPENING = "Your previous answer could not be used:"
_NO_FEEDBACK = "The answer was wrong; no further detail is available."
_FEEDBACK_FIELDS = ("Error type: ", "Location: ", "Root cause: ", "Hint: ", "Reconsider: ")


class PromptReadError(ValueError):
    """A prompt that is not one of hardgen's role prompts, or that cannot be read back."""


# ------------------------------------------------------------------------------------ recognition


@cache
def template_openings() -> dict[str, str]:
    """The literal opening of every role template: its first text line up to any ``{{``."""
    openings: dict[str, str] = {}
    package = resources.files("hardgen.prompts")
    for name in PROMPT_TEMPLATES:
        source = package.joinpath(f"{name}.j2").read_text(encoding="utf-8")
        for line in source.splitlines():
            if not line.strip() or line.lstrip().startswith(("{%", "{#")):
                continue
            opening = line.split("{{", 1)[0].strip()
            if opening:
                openings[name] = opening
            break
    return openings


def recognise(prompt: str) -> str | None:
    """The template a role prompt was rendered from, or None for any other text.

    The longest matching opening wins, so two templates that share a prefix are told apart.
    """
    found = [name for name, opening in template_openings().items() if prompt.startswith(opening)]
    return max(found, key=lambda n: len(template_openings()[n])) if found else None


def message_text(message: Mapping[str, object]) -> str:
    """The text of a chat message whose content is a string or a list of ``{"type": "text"}`` parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def without_reasks(messages: list[dict[str, JsonValue]]) -> list[dict[str, JsonValue]]:
    """The conversation without trailing re-ask exchanges (a bad answer and the correction after it)."""
    out = list(messages)
    while (
        len(out) >= 3
        and out[-1].get("role") == "user"
        and message_text(out[-1]).startswith(REASK_OPENING)
        and out[-2].get("role") == "assistant"
    ):
        out = out[:-2]
    return out


# ---------------------------------------------------------------------------------------- memory

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(Generic[K, V]):
    """A dict that forgets its oldest entries beyond ``limit`` (least recently used first)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.limit:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class TraceContext:
    """What the Tool Maker's prompt held and what it answered, for the Query Generator's prompt, which
    shows the advanced tool but not the trace."""

    trace: Trace
    tools: list[ToolSpec]
    history_len: int
    advanced_tool: AdvancedTool


class RunMemory:
    """What the stand-in learnt from earlier requests: the trace behind each advanced tool it made and
    the advanced tool behind each query it wrote.

    A real model remembers nothing between requests, and the prompts follow the paper: the Query
    Generator sees the advanced tool, not the trace, and the Reasoner sees the tool's description only.
    The offline agents need both, so the server keeps them here. A miss (a server restarted in the middle
    of a run, or an earlier role answered by another endpoint) falls back to what the prompt holds.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.traces: BoundedDict[str, TraceContext] = BoundedDict(limit)
        self.advanced_tools: BoundedDict[str, AdvancedTool] = BoundedDict(limit)
        # A missing_param turn shows the Query Generator the advanced tool without the parameter the
        # user gives later: each tool is also kept under every form with one parameter left out.
        self.withheld: BoundedDict[str, tuple[TraceContext, str]] = BoundedDict(limit)

    def remember_trace(self, context: TraceContext, tool_names: Iterable[str]) -> None:
        """What a Tool Maker request made, under the advanced tool as a Query Generator prompt shows it
        whole, and as it shows it with any one parameter withheld (hardgen.kinds)."""
        names = list(tool_names)
        tool = context.advanced_tool
        self.traces.put(self.tool_key(tool, names), context)
        for param in tool.parameters:
            shown = tool.model_copy(update={"parameters": [p for p in tool.parameters if p is not param]})
            self.withheld.put(self.tool_key(shown, names), (context, param.name))

    def remember_query(self, query_text: str, tool: AdvancedTool, withheld: str = "") -> None:
        """The advanced tool behind a query, under every form of the request a Reasoner prompt shows:
        the query alone and, for a query that leaves a value out, the query with the user's follow-up
        stating it (the Reasoner sees the value as unknown until then)."""
        from hardgen.kinds import combined_query, supply_text, without_value

        key = self.query_key(query_text, tool.description)
        if not withheld:
            self.advanced_tools.put(key, tool)
            return
        param = next(p for p in tool.parameters if p.name == withheld)
        self.advanced_tools.put(key, without_value(tool, withheld))
        stated = combined_query(HardQuery(text=query_text), supply_text(param)).text
        self.advanced_tools.put(self.query_key(stated, tool.description), tool)

    @staticmethod
    def tool_key(tool: AdvancedTool, tool_names: Iterable[str]) -> str:
        """An advanced tool as the Query Generator's prompt shows it."""
        params = [[p.name, canonical_json(p.value)] for p in tool.parameters]
        return canonical_json([tool.name, tool.description.strip(), params, list(tool_names)])

    @staticmethod
    def query_key(query_text: str, hint: str) -> str:
        """A request as the Reasoner's prompt shows it (the query and the hint's description)."""
        return canonical_json([query_text.strip(), hint.strip()])


# ------------------------------------------------------------------------------------- sections


def sections(prompt: str) -> dict[str, str]:
    """The prompt's ``# Heading`` sections by heading (the text before the first one under ``""``)."""
    lines = prompt.split("\n")
    found: dict[str, str] = {}
    title, start = "", 0
    for i, line in enumerate(lines):
        if line.startswith("# ") and line[2:] in HEADINGS and (i == 0 or lines[i - 1] == ""):
            found.setdefault(title, _body(lines[start:i]))
            title, start = line[2:], i + 1
    found.setdefault(title, _body(lines[start:]))
    return found


def _body(lines: list[str]) -> str:
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the blank line that separates it from the next heading
    return "\n".join(lines)


def _section(parts: Mapping[str, str], title: str) -> str:
    if title not in parts:
        raise PromptReadError(f'the prompt has no "# {title}" section')
    return parts[title]


# ------------------------------------------------------------------------------------- tool specs


class SpecCatalogue:
    """The built-in suites' tool specs, to restore what a prompt's tool list leaves out (suite, domain,
    the parameters' key order)."""

    def __init__(self, specs: Iterable[ToolSpec] | None = None) -> None:
        self._specs: dict[tuple[str, str], list[ToolSpec]] | None = None
        if specs is not None:
            self._specs = self._index(specs)

    @staticmethod
    def _index(specs: Iterable[ToolSpec]) -> dict[tuple[str, str], list[ToolSpec]]:
        index: dict[tuple[str, str], list[ToolSpec]] = {}
        for spec in specs:
            index.setdefault((spec.name, canonical_json(spec.parameters)), []).append(spec)
        return index

    @property
    def specs(self) -> dict[tuple[str, str], list[ToolSpec]]:
        """The specs by (name, canonical parameters); the built-in suites' unless given."""
        if self._specs is None:
            from hardgen.environment.registry import all_suites

            self._specs = self._index(s for cls in all_suites().values() for s in cls.specs())
        return self._specs

    def resolve(self, parsed: ToolSpec) -> ToolSpec:
        """The built-in spec with this name and parameters (and description, when several), else
        ``parsed`` itself."""
        matches = self.specs.get((parsed.name, canonical_json(parsed.parameters)), [])
        for spec in matches:
            if spec.description.strip() == parsed.description.strip():
                return spec
        return matches[0] if matches else parsed

    def named(self, name: str) -> ToolSpec:
        """The first built-in spec called ``name``, else a bare spec of that name."""
        for (spec_name, _), specs in self.specs.items():
            if spec_name == name:
                return specs[0]
        return ToolSpec(name=name, description="", parameters={"type": "object", "properties": {}})


def read_tool_list(text: str, catalogue: SpecCatalogue) -> list[ToolSpec]:
    """The tools of a ``- name: description / parameters: {..} / returns: {..}`` list."""
    tools: list[ToolSpec] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("- ") or ": " not in line:
            i += 1
            continue
        name, _, first = line[2:].partition(": ")
        description = [first]
        i += 1
        while i < len(lines) and not lines[i].startswith("  parameters: "):
            description.append(lines[i])
            i += 1
        if i >= len(lines):
            raise PromptReadError(f"the tool {name!r} in the tool list has no parameters line")
        parameters = _json_object(lines[i][len("  parameters: ") :], f"parameters of {name}")
        i += 1
        returns: dict[str, JsonValue] = {}
        if i < len(lines) and lines[i].startswith("  returns: "):
            returns = _json_object(lines[i][len("  returns: ") :], f"returns of {name}")
            i += 1
        parsed = ToolSpec(
            name=name.strip(), description="\n".join(description), parameters=parameters, returns=returns
        )
        tools.append(catalogue.resolve(parsed))
    return tools


def read_openai_tools(tools: JsonValue, catalogue: SpecCatalogue) -> list[ToolSpec]:
    """The tools of a request's ``tools`` array (OpenAI function format)."""
    if not isinstance(tools, list):
        raise PromptReadError('"tools" must be an array of {"type": "function", "function": {...}}')
    specs: list[ToolSpec] = []
    for i, entry in enumerate(tools):
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise PromptReadError(f"tools[{i}] is not a function tool with a name")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise PromptReadError(f"tools[{i}].function.parameters must be an object")
        parsed = ToolSpec(
            name=str(function["name"]),
            description=str(function.get("description") or ""),
            parameters=parameters,
        )
        specs.append(catalogue.resolve(parsed))
    return specs


def _json_object(text: str, what: str) -> dict[str, JsonValue]:
    value = _json(text, what)
    if not isinstance(value, dict):
        raise PromptReadError(f"{what} is not a JSON object")
    return value


def _json(text: str, what: str) -> JsonValue:
    try:
        value: JsonValue = json.loads(text)
    except ValueError as exc:
        raise PromptReadError(f"{what} is not valid JSON: {exc}") from None
    return value


# ------------------------------------------------------------------------------ calls and results


def read_calls(block: str) -> list[ToolCall]:
    """The calls of a rendered call list (``[f(a=1), g(b="x")]`` or its JSON form)."""
    if block.strip() == "[]":
        return []
    try:
        calls, _ = parse_calls(block)
    except (CallSyntaxError, ValidationError) as exc:
        raise PromptReadError(f"cannot read the calls {block[:80]!r}: {exc}") from None
    return calls


def read_call(text: str) -> ToolCall:
    """One call written as ``name(args)``, whatever characters the name has."""
    name, paren, rest = text.partition("(")
    if not paren or not name.strip():
        raise PromptReadError(f"{text[:80]!r} is not a call")
    [call] = read_calls(f"[f({rest}]")
    return call.model_copy(update={"name": name.strip()})


def observation(call: ToolCall, content: JsonValue) -> Observation:
    """An observation from what a model was shown (:meth:`Observation.content`): an ``{"error": ..}``
    object is a failed call, anything else its output."""
    if isinstance(content, dict) and set(content) == {"error"}:
        error = content["error"]
        return Observation(call=call, ok=False, error=None if error is None else str(error))
    return Observation(call=call, ok=True, output=content)


def read_responses(lines: Iterable[str], calls: list[ToolCall]) -> list[Observation]:
    """Observations from ``{"name": .., "result": ..}`` lines, paired with the calls in order."""
    observations: list[Observation] = []
    for i, line in enumerate(line for line in lines if line.strip()):
        entry = _json(line, "a tool response")
        if not isinstance(entry, dict) or "result" not in entry:
            raise PromptReadError('a tool response is not a {"name": .., "result": ..} object')
        name = entry.get("name")
        call = calls[i] if i < len(calls) else ToolCall(name=str(name or "unknown"))
        observations.append(observation(call, entry["result"]))
    return observations


def read_executed(text: str) -> list[Step]:
    """The steps of consecutive ``<tool_call>..</tool_call><tool_response>..</tool_response>`` blocks."""
    steps: list[Step] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "<tool_call>":
            i += 1
            continue
        end = _index(lines, "</tool_call>", i + 1)
        calls = read_calls("\n".join(lines[i + 1 : end]))
        if end + 1 >= len(lines) or lines[end + 1] != "<tool_response>":
            raise PromptReadError("a <tool_call> block is not followed by its <tool_response>")
        stop = _index(lines, "</tool_response>", end + 2)
        observations = read_responses(lines[end + 2 : stop], calls)
        steps.append(Step(index=len(steps), calls=calls, observations=observations))
        i = stop + 1
    return steps


def _index(lines: list[str], wanted: str, start: int) -> int:
    for i in range(start, len(lines)):
        if lines[i] == wanted:
            return i
    raise PromptReadError(f"a block is not closed with {wanted}")


# ------------------------------------------------------------------------------------- role inputs


def read_tool_maker(prompt: str, seed: int, catalogue: SpecCatalogue) -> tuple[ToolMakerInput, int]:
    """The Tool Maker's input, and how many earlier requests the session had."""
    parts = sections(prompt)
    tools = read_tool_list(_section(parts, "Primitive tools used in the trace"), catalogue)
    steps: list[TraceStep] = []
    for line in _section(parts, "Execution trace").split("\n"):
        if line.startswith("Step ") and line.endswith(":"):
            steps.append(TraceStep(calls=[], observations=[]))
        elif line.startswith("  ") and steps:
            call, content = _traced_call(line.strip())
            steps[-1].calls.append(call)
            steps[-1].observations.append(observation(call, content))
    if not steps:
        raise PromptReadError("the execution trace has no steps")
    history = [ln for ln in parts.get("Earlier requests in this session", "").split("\n") if ln.strip()]
    targets = [c.name for c in steps[-1].calls]
    trace = Trace(target=targets[-1] if targets else None, steps=steps)
    return ToolMakerInput(trace=trace, tools=tools, seed=seed), len(history)


def _traced_call(line: str) -> tuple[ToolCall, JsonValue]:
    """``name(args) -> result``; the arrow may also occur inside an argument or the result."""
    start = 0
    while True:
        at = line.find(" -> ", start)
        if at == -1:
            raise PromptReadError(f"cannot read the traced call {line[:80]!r}")
        try:
            call = read_call(line[:at])
            return call, json.loads(line[at + 4 :])
        except (PromptReadError, ValueError):
            start = at + 1


def read_advanced_tool(text: str) -> AdvancedTool:
    """The ``# Advanced tool`` section of the Query Generator's prompt."""
    if not text.startswith("Name: ") or "\nDescription: " not in text:
        raise PromptReadError("the advanced tool section has no Name and Description")
    head, _, rest = text.partition("\nDescription: ")
    description, _, rest = rest.partition("\nReturns: ")
    returns, _, params_text = rest.partition("\nParameters, with the value each one has here:\n")
    parameters: list[AdvancedParameter] = []
    decoder = json.JSONDecoder()
    current: dict[str, JsonValue] | None = None
    for line in params_text.split("\n"):
        if line == "- (none)":
            continue
        if line.startswith("- ") and " (" in line and ", here " in line:
            name, _, after = line[2:].partition(" (")
            ptype, _, after = after.partition(", here ")
            try:
                value, end = decoder.raw_decode(after)
            except ValueError:
                value, end = None, -1
            if end >= 0 and after[end:].startswith("): "):
                current = {"name": name, "type": ptype, "value": value, "description": after[end + 3 :]}
                parameters.append(AdvancedParameter.model_validate(current))
                continue
        if parameters and current is not None:  # a description that runs over several lines
            last = parameters[-1]
            parameters[-1] = last.model_copy(update={"description": f"{last.description}\n{line}"})
    return AdvancedTool(
        name=head[len("Name: ") :].strip(),
        description=description,
        parameters=parameters,
        returns="" if returns == "(not stated)" else returns,
    )


@dataclass
class QueryRequest:
    """A Query Generator request read back: the role's input, whether its trace came from memory, and
    the whole advanced tool with the parameter the query must leave out (missing_param), if any."""

    input: QueryInput
    remembered: bool
    whole_tool: AdvancedTool
    withheld: str = ""


def read_query_generator(prompt: str, seed: int, memory: RunMemory, catalogue: SpecCatalogue) -> QueryRequest:
    """The Query Generator's input, with what memory adds (:class:`QueryRequest`)."""
    parts = sections(prompt)
    tool = read_advanced_tool(_section(parts, "Advanced tool"))
    names = _tool_names(_section(parts, "Your task"))
    tool = tool.model_copy(update={"primitive_tools": names})
    key = RunMemory.tool_key(tool, names)
    context = memory.traces.get(key)
    withheld = ""
    if context is None and (found := memory.withheld.get(key)) is not None:
        context, withheld = found
    history_len = sum(
        1 for ln in parts.get("Earlier in this conversation", "").split("\n") if ln.startswith("User: ")
    )
    whole = tool
    if context is None:
        tools = [catalogue.named(n) for n in names]
        trace, remembered = Trace(), False
    else:
        tools, trace, remembered = context.tools, context.trace, True
        whole, history_len = context.advanced_tool, context.history_len
        shown = [p for p in whole.parameters if p.name != withheld]
        tool = whole.model_copy(update={"parameters": shown})
    history = [_placeholder_turn(i, "") for i in range(history_len)]
    inp = QueryInput(advanced_tool=tool, trace=trace, tools=tools, history=history, seed=seed)
    return QueryRequest(inp, remembered, whole, withheld)


def _tool_names(task: str) -> list[str]:
    marker = "These underlying tools in particular must not appear: "
    for line in task.split("\n"):
        if marker in line:
            listed = line.split(marker, 1)[1].rstrip(".")
            return [n.strip() for n in listed.split(", ") if n.strip()]
    raise PromptReadError("the Query Generator's prompt does not list the underlying tools")


def _placeholder_turn(index: int, query: str, steps: list[Step] | None = None, summary: str = "") -> Turn:
    """An earlier turn as a prompt shows it: the request, its steps and the reply (no trace)."""
    return Turn(
        index=index,
        trace=Trace(),
        advanced_tool=AdvancedTool(name="earlier_request", description=""),
        query=HardQuery(text=query),
        steps=steps or [],
        summary=summary,
    )


def read_conversation(text: str) -> list[Turn]:
    """``User: .. / executed blocks / Assistant: ..`` turns."""
    turns: list[Turn] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("User: "):
            i += 1
            continue
        query = [lines[i][len("User: ") :]]
        i += 1
        while i < len(lines) and lines[i] != "<tool_call>" and not lines[i].startswith("Assistant: "):
            query.append(lines[i])
            i += 1
        block_start = i
        while i < len(lines) and not lines[i].startswith("Assistant: "):
            i += 1
        steps = read_executed("\n".join(lines[block_start:i]))
        summary: list[str] = []
        if i < len(lines):
            summary.append(lines[i][len("Assistant: ") :])
            i += 1
            while i < len(lines) and not lines[i].startswith("User: "):
                summary.append(lines[i])
                i += 1
        turns.append(_placeholder_turn(len(turns), "\n".join(query), steps, "\n".join(summary)))
    return turns


def read_feedback(text: str) -> VerifierFeedback | None:
    """A reviewer feedback block as :meth:`VerifierFeedback.render` writes it."""
    if text.strip() == _NO_FEEDBACK:
        return None
    values: list[str] = []
    rest = text
    for n, label in enumerate(_FEEDBACK_FIELDS):
        if not rest.startswith(label):
            raise PromptReadError(f"the reviewer feedback has no {label.strip()!r} line")
        rest = rest[len(label) :]
        if n + 1 < len(_FEEDBACK_FIELDS):
            nxt = "\n" + _FEEDBACK_FIELDS[n + 1]
            at = rest.find(nxt)
            if at == -1:
                raise PromptReadError(f"the reviewer feedback has no {nxt.strip()!r} line")
            values.append(rest[:at])
            rest = rest[at + 1 :]
        else:
            values.append(rest)
    aspects = [] if values[4].strip() == "-" else [a for a in values[4].split(", ") if a]
    return VerifierFeedback(
        error_type=values[0],
        error_location=values[1],
        root_cause=values[2],
        corrective_hint=values[3],
        should_reconsider=aspects,
    )


def read_attempts(text: str) -> list[ReasoningAttempt]:
    """The ``## Attempt k`` blocks of a refinement prompt."""
    attempts: list[ReasoningAttempt] = []
    chunks = text.split("\n## Attempt ")
    chunks[0] = chunks[0].removeprefix("## Attempt ")
    for chunk in chunks:
        if not chunk.strip():
            continue
        number, _, body = chunk.partition("\n")
        lines = body.split("\n")
        if not lines or lines[0] != "<think>":
            raise PromptReadError(f"attempt {number} does not start with <think>")
        think_end = _index(lines, "</think>", 1)
        call_start = _index(lines, "<tool_call>", think_end + 1)
        call_end = _index(lines, "</tool_call>", call_start + 1)
        if call_end + 1 >= len(lines) or lines[call_end + 1] != "Reviewer feedback:":
            raise PromptReadError(f"attempt {number} has no reviewer feedback")
        feedback = read_feedback("\n".join(lines[call_end + 2 :]).strip("\n"))
        try:
            k = int(number.strip())
        except ValueError:
            raise PromptReadError(f"{number!r} is not an attempt number") from None
        attempts.append(
            ReasoningAttempt(
                attempt=k,
                cot="\n".join(lines[1:think_end]),
                calls=read_calls("\n".join(lines[call_start + 1 : call_end])),
                feedback=feedback,
            )
        )
    return attempts


def read_reasoner(
    prompt: str, seed: int, memory: RunMemory, catalogue: SpecCatalogue
) -> tuple[ReasonerInput, bool]:
    """The Reasoner's input; the flag says whether the advanced tool came from memory."""
    parts = sections(prompt)
    query_text = _section(parts, "Request")
    tools = read_tool_list(_section(parts, "Available tools"), catalogue)
    hint = _section(parts, "Hint: a capability that answers the request")
    description = hint.rsplit("\n" + HINT_TAIL, 1)[0] if HINT_TAIL in hint else hint
    tool = memory.advanced_tools.get(RunMemory.query_key(query_text, description))
    remembered = tool is not None
    if tool is None:
        tool = AdvancedTool(
            name="requested_capability", description=description, primitive_tools=[t.name for t in tools]
        )
    progress = parts.get("Progress on this request", "")
    failed = read_attempts(parts.get("Your earlier answers for this step", ""))
    inp = ReasonerInput(
        query=HardQuery(text=query_text, advanced_tool=tool.name),
        tools=tools,
        advanced_tool=tool,
        previous_turns=read_conversation(parts.get("Earlier in this conversation", "")),
        done_steps=read_executed(progress),
        failed_attempts=failed,
        attempt=len(failed) + 1,
        seed=seed,
    )
    return inp, remembered


def read_verifier(prompt: str, seed: int, catalogue: SpecCatalogue) -> VerifierInput:
    """The Verifier's input."""
    parts = sections(prompt)
    answer = _section(parts, "The solver's answer")
    if not answer.startswith("Reasoning:\n") or "\nCalls:\n" not in answer:
        raise PromptReadError("the solver's answer has no Reasoning and Calls")
    cot, _, calls_text = answer[len("Reasoning:\n") :].rpartition("\nCalls:\n")
    calls = read_calls(calls_text)
    attempt = ReasoningAttempt(attempt=1, cot="" if cot == "(none given)" else cot, calls=calls)
    check = _section(parts, "Automatic check")
    fields: dict[str, str] = {}
    key = ""
    for line in check.split("\n"):
        label, sep, value = line.partition(": ")
        if sep and label in ("Error type", "Location", "Detail") and label not in fields:
            key = label
            fields[key] = value
        elif key:
            fields[key] += "\n" + line
    error_type = fields.get("Error type", "unknown")
    verdict = CheckVerdict(
        correct=False,
        error_type=None if error_type == "unknown" else error_type,
        error_location=fields.get("Location"),
        detail=fields.get("Detail", ""),
    )
    results = _section(parts, "What the solver's calls returned when executed")
    truth, sep, note = _section(parts, "The correct calls for this step (for you only)").partition(
        "\n" + NO_CALL_NOTE
    )
    return VerifierInput(
        query=HardQuery(text=_section(parts, "Request")),
        attempt=attempt,
        ground_truth=read_calls(truth),
        no_call_reason=read_no_call_reason(NO_CALL_NOTE + note) if sep else "",
        execution_result=read_responses(results.split("\n"), calls),
        verdict=verdict,
        tools=read_tool_list(_section(parts, "Tools the solver had"), catalogue),
        seed=seed,
    )


NO_CALL_NOTE = "No call was due at this step: "
_MISSING_PARAM_NOTE = ("the request leaves out the ", " and no earlier result gives it")


def read_no_call_reason(note: str) -> str:
    """The Verifier prompt's note under an empty ground truth, as ``VerifierInput.no_call_reason``:
    ``missing_param:<parameter>``, ``missing_func``, ``irrelevance``; '' when there is none."""
    if not note.startswith(NO_CALL_NOTE):
        return ""
    why = note[len(NO_CALL_NOTE) :]
    head, tail = _MISSING_PARAM_NOTE
    if why.startswith(head) and tail in why:
        return "missing_param:" + why[len(head) :].split(tail, 1)[0]
    return "missing_func" if why.startswith("a tool the request needs is not among") else "irrelevance"


def read_summary(prompt: str, seed: int) -> SummaryInput:
    """The summariser's input."""
    parts = sections(prompt)
    return SummaryInput(
        query=HardQuery(text=_section(parts, "The user's request")),
        steps=read_executed(_section(parts, "What was done")),
        seed=seed,
    )


def read_target(
    messages: list[dict[str, JsonValue]], tools: JsonValue, seed: int, catalogue: SpecCatalogue
) -> TargetInput:
    """A model under test's input: the first user message is the query, then per assistant message
    with tool calls one step, its observations from the tool messages that answer it."""
    specs = read_openai_tools(tools, catalogue) if tools else []
    users = [m for m in messages if m.get("role") == "user"]
    if not users:
        raise PromptReadError("the conversation has no user message")
    transcript: list[Step] = []
    results = {str(m.get("tool_call_id")): message_text(m) for m in messages if m.get("role") == "tool"}
    for message in messages:
        raw_calls = message.get("tool_calls")
        if message.get("role") != "assistant" or not isinstance(raw_calls, list) or not raw_calls:
            continue
        calls: list[ToolCall] = []
        observations: list[Observation] = []
        for raw in raw_calls:
            function = raw.get("function") if isinstance(raw, dict) else None
            if not isinstance(raw, dict) or not isinstance(function, dict):
                raise PromptReadError("an assistant tool call has no function")
            arguments = _json(str(function.get("arguments") or "{}"), "tool call arguments")
            call = ToolCall(
                name=str(function.get("name")), arguments=arguments if isinstance(arguments, dict) else {}
            )
            calls.append(call)
            text = results.get(str(raw.get("id")))
            if text is not None:
                try:
                    content: JsonValue = json.loads(text)
                except ValueError:
                    content = text
                observations.append(observation(call, content))
        transcript.append(
            Step(index=len(transcript), calls=calls, observations=observations, cot=message_text(message))
        )
    return TargetInput(
        query=HardQuery(text=message_text(users[0])), tools=specs, transcript=transcript, seed=seed
    )
