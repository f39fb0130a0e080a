"""Parsing and rendering model responses: the paper's format, JSON and OpenAI calls, and fuzzing."""

from __future__ import annotations

import json
import keyword

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from hardgen.calls import (
    CallSyntaxError,
    ParseResult,
    follows_template,
    parse_calls,
    parse_response,
    render_calls,
    render_response,
)
from hardgen.schema import ToolCall

PAPER = """<think>
The user wants tickets. I need zip codes first.
</think>
<tool_call>
[get_zipcode(city="Rivermist"), get_zipcode(city="Stonebrook")]
</tool_call>"""

ZIPS = [
    ToolCall(name="get_zipcode", arguments={"city": "Rivermist"}),
    ToolCall(name="get_zipcode", arguments={"city": "Stonebrook"}),
]


def test_paper_format_gives_cot_and_calls() -> None:
    result = parse_response(PAPER)
    assert result == ParseResult(
        cot="The user wants tickets. I need zip codes first.",
        calls=ZIPS,
        text="",
        error=None,
        format="python",
    )


@pytest.mark.parametrize(
    ("block", "arguments"),
    [
        ("[f(a=-3, b=-2.5, c=+4)]", {"a": -3, "b": -2.5, "c": 4}),
        ("[f(a=True, b=False, c=None)]", {"a": True, "b": False, "c": None}),
        ("[f(a=true, b=false, c=null)]", {"a": True, "b": False, "c": None}),
        (
            '[f(a=[1, [2, "x"]], b={"k": {"n": [null]}}, c=(1, 2))]',
            {"a": [1, [2, "x"]], "b": {"k": {"n": [None]}}, "c": [1, 2]},
        ),
        ("[f(s='single', t=\"dou\\\"ble\", u='''tri''')]", {"s": "single", "t": 'dou"ble', "u": "tri"}),
        ("[f()]", {}),
        ('[f(**{"from": "x", "a-b": 1})]', {"from": "x", "a-b": 1}),
        ("f(a=1)", {"a": 1}),
    ],
)
def test_python_call_values(block: str, arguments: dict[str, JsonValue]) -> None:
    result = parse_response(f"<tool_call>{block}</tool_call>")
    assert result.error is None
    assert result.calls == [ToolCall(name="f", arguments=arguments)]
    assert result.format == "python"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("[f(1)]", "by keyword"),
        ("[f(a=x)]", "is a name, not a value"),
        ("[f(a=1+2)]", "only literal values"),
        ("[f(a=g(b=1))]", "only literal values"),
        ('[f(a=f"{x}")]', "f-strings"),
        ("[f(a=1, a=2)]", "given twice"),
        ("[f(a=1), 3]", "not a function call"),
        ("[f(a=1]", "not a valid call list"),
        ("[(lambda: 1)()]", "name a tool directly"),
        ("[f(a={1: 2})]", "keys must be strings"),
        ("[f(a=-'x')]", "sign can only precede a number"),
        ("[f(a=1e999)]", "finite"),
        ("[f(a=b'x')]", "bytes values are not allowed"),
        ("", "empty"),
        ("[f(*[1])]", "by keyword"),
    ],
)
def test_bad_python_calls_give_an_error(block: str, message: str) -> None:
    result = parse_response(f"<think>t</think><tool_call>{block}</tool_call>")
    assert result.calls == []
    assert result.error is not None and message in result.error
    assert result.cot == "t"


def test_json_forms() -> None:
    expected = [ToolCall(name="f", arguments={"a": 1}), ToolCall(name="g", arguments={})]
    forms = [
        '[{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]',
        '{"name": "f", "arguments": {"a": 1}}\n{"name": "g"}',
        '[{"name": "f", "parameters": {"a": 1}}, {"name": "g", "parameters": null}]',
        '[{"name": "f", "arguments": "{\\"a\\": 1}"}, {"name": "g", "arguments": ""}]',
        '[{"type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}}, {"name": "g"}]',
        "[{'name': 'f', 'arguments': {'a': 1}}, {'name': 'g', 'arguments': {}}]",
        '```json\n[{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]\n```',
    ]
    for form in forms:
        result = parse_response(f"<tool_call>{form}</tool_call>")
        assert (result.calls, result.error, result.format) == (expected, None, "json"), form
    # Qwen/Hermes style: one object per block, several blocks.
    two = '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>\n<tool_call>{"name": "g"}</tool_call>'
    assert parse_response(two).calls == expected


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ('[{"arguments": {}}]', '"name"'),
        ('[{"name": "f", "arguments": [1]}]', "must be an object"),
        ('[{"name": "f", "arguments": "{bad"}]', "not valid JSON"),
        ('[{"name": "f", "arguments": {"a": NaN}}]', "not valid JSON"),
        ('[{"name": "f"}, 3]', "each call must be an object"),
        ('{"name": "f", "arguments": {"a": 1}', "not valid JSON"),
    ],
)
def test_bad_json_calls_give_an_error(block: str, message: str) -> None:
    result = parse_response(f"<tool_call>{block}</tool_call>")
    assert result.calls == [] and result.format == "json"
    assert result.error is not None and message in result.error


def test_openai_and_langchain_tool_calls() -> None:
    openai = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_zipcode", "arguments": '{"city": "Rivermist"}'},
        },
        {
            "id": "call_2",
            "type": "function",
            "function": {"name": "get_zipcode", "arguments": '{"city": "Stonebrook"}'},
        },
    ]
    result = parse_response(None, reasoning="Need zips.", tool_calls=openai)
    assert (result.cot, result.calls, result.format, result.error) == ("Need zips.", ZIPS, "openai", None)
    langchain = [
        {"name": "get_zipcode", "args": {"city": "Rivermist"}, "id": "1"},
        {"name": "get_zipcode", "args": {"city": "Stonebrook"}},
    ]
    assert parse_response("", tool_calls=langchain).calls == ZIPS
    bad = parse_response("", tool_calls=[{"function": {"name": "f", "arguments": "{oops"}}])
    assert bad.error is not None and "not valid JSON" in bad.error and bad.calls == []
    nameless = parse_response("", tool_calls=[{"function": {"arguments": "{}"}}])
    assert nameless.error == "a tool call has no function name"


def test_reasoning_field_and_think_text_are_joined() -> None:
    result = parse_response("<think>second</think>answer", reasoning="first")
    assert (result.cot, result.text, result.calls) == ("first\n\nsecond", "answer", [])


def test_truncated_and_template_injected_think() -> None:
    truncated = parse_response("<think>I will call get_zipcode for Riverm")
    assert (truncated.cot, truncated.text, truncated.error, truncated.format) == (
        "I will call get_zipcode for Riverm",
        "",
        None,
        "none",
    )
    # Chat templates that put <think> into the prompt leave only the closing tag in the output.
    opened_by_template = parse_response("plan the calls\n</think>\n<tool_call>[f(a=1)]</tool_call>")
    assert opened_by_template.cot == "plan the calls"
    assert opened_by_template.calls == [ToolCall(name="f", arguments={"a": 1})]


def test_unclosed_tool_call_block() -> None:
    complete = parse_response("<think>x</think><tool_call>[f(a=1)]")
    assert complete.calls == [ToolCall(name="f", arguments={"a": 1})] and complete.error is None
    cut = parse_response("<think>x</think><tool_call>[f(a=1), g(b=")
    assert cut.calls == [] and cut.error is not None and "truncated" in cut.error


def test_free_text_and_bare_call_lists() -> None:
    text = parse_response("<think>done</think>\nYour flight is booked: BK12.")
    assert (text.calls, text.text, text.format, text.error) == (
        [],
        "Your flight is booked: BK12.",
        "none",
        None,
    )
    bare = parse_response('<think>x</think>[get_zipcode(city="Rivermist")]')
    assert bare.calls == ZIPS[:1] and bare.format == "python" and bare.text == ""
    not_calls = parse_response("The options are [1, 2] and [a].")
    assert (
        not_calls.calls == []
        and not_calls.error is None
        and not_calls.text == "The options are [1, 2] and [a]."
    )


def test_multiple_blocks_concatenate_and_text_outside_is_kept() -> None:
    content = "<think>a</think>Sure.<tool_call>[f(a=1)]</tool_call> and <tool_call>[g(b=2)]</tool_call>"
    result = parse_response(content)
    assert result.calls == [ToolCall(name="f", arguments={"a": 1}), ToolCall(name="g", arguments={"b": 2})]
    assert result.text == "Sure. and"
    second_bad = parse_response("<tool_call>[f(a=1)]</tool_call><tool_call>[g(2)]</tool_call>")
    assert second_bad.error is not None and second_bad.error.startswith("<tool_call> block 2:")


def test_empty_call_list_is_no_calls_without_error() -> None:
    result = parse_response("<think>nothing to do</think><tool_call>[]</tool_call>")
    assert (result.calls, result.error, result.format) == ([], None, "python")


def test_render_response_snapshot() -> None:
    calls = [
        ToolCall(
            name="buy_tickets", arguments={"zipcodeA": "83214", "n": 2, "flex": True, "tags": ["a", None]}
        )
    ]
    assert render_response("Zip codes known.", calls) == (
        "<think>\nZip codes known.\n</think>\n<tool_call>\n"
        '[buy_tickets(zipcodeA="83214", n=2, flex=True, tags=["a", None])]\n</tool_call>'
    )
    assert render_response("All done.", [], "Booked.") == "<think>\nAll done.\n</think>\nBooked."
    assert render_calls([]) == "[]"


def test_render_handles_names_python_cannot_write() -> None:
    odd = [ToolCall(name="my-tool", arguments={"a": 1}), ToolCall(name="f", arguments={"class": "x"})]
    rendered = render_calls(odd)
    assert json.loads(rendered) == [
        {"name": "my-tool", "arguments": {"a": 1}},
        {"name": "f", "arguments": {"class": "x"}},
    ]
    assert parse_calls(rendered) == (odd, "json")
    assert render_calls(odd[1:]) == '[f(**{"class": "x"})]'
    tagged = ToolCall(name="post", arguments={"body": "see </tool_call> and <think>"})
    assert parse_response(render_response("c", [tagged])).calls == [tagged]


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        (PAPER, True),
        ("<think>x</think>\nThe answer is 4.", True),
        ("  <think>\nx\n</think>\n\n<tool_call>\n[f()]\n</tool_call>\n", True),
        ("<tool_call>[f()]</tool_call>", False),  # no think block
        ("Sure. <think>x</think><tool_call>[f()]</tool_call>", False),  # think not leading
        ("<think>x</think>", False),  # nothing after the think block
        ("<think></think>Hello", False),  # empty reasoning
        ("<think>x</think><think>y</think>text", False),  # two think blocks
        ("<think>x</think>ok<tool_call>[f()]</tool_call>", False),  # text and a call block
        ("<think>x</think><tool_call>[f()]</tool_call><tool_call>[g()]</tool_call>", False),  # two blocks
        ("<think>x</think><tool_call>[f()]", False),  # unclosed
        ("<think>x</think><tool_call></tool_call>", False),  # empty block
        ("<think>x", False),  # truncated
    ],
)
def test_follows_template(content: str, ok: bool) -> None:
    assert follows_template(content) is ok


# ----------------------------------------------------------------------------------------- fuzzing

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
tool_calls = st.builds(
    ToolCall,
    name=identifiers | st.sampled_from(["my-tool", "ns.tool", "None", "with space"]),
    arguments=st.dictionaries(identifiers | st.text(max_size=8), json_values, max_size=5),
)


@given(st.lists(tool_calls, max_size=4), st.text(max_size=40).filter(lambda s: "<" not in s))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_render_round_trips(calls: list[ToolCall], cot: str) -> None:
    assert parse_calls(render_calls(calls))[0] == calls
    result = parse_response(render_response(cot, calls))
    assert result.error is None and result.calls == calls


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=30)))
@settings(max_examples=300)
def test_any_text_parses_without_raising(content: str, reasoning: str | None) -> None:
    result = parse_response(content, reasoning=reasoning)
    assert isinstance(result, ParseResult)
    assert result.error is None or result.calls == []
    follows_template(content)


_PIECES = [
    "<think>",
    "</think>",
    "<tool_call>",
    "</tool_call>",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    '"',
    "'",
    "{",
    "}",
    ":",
    "-",
    "\n",
    "1e999",
    "None",
    "**",
    "f(",
    "a=",
]


@given(st.data())
@settings(max_examples=400)
def test_mutated_valid_outputs_never_raise(data: st.DataObject) -> None:
    text = data.draw(
        st.sampled_from(
            [
                PAPER,
                render_response("c", ZIPS),
                '<tool_call>[{"name": "f", "arguments": {"a": [1, {"b": null}]}}]</tool_call>',
            ]
        )
    )
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        pos = data.draw(st.integers(min_value=0, max_value=len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "cut"]))
        if action == "insert":
            text = text[:pos] + data.draw(st.sampled_from(_PIECES)) + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(min_value=1, max_value=5)) :]
        else:
            text = text[:pos]
    result = parse_response(text)
    assert result.error is None or result.calls == []
    for call in result.calls:
        json.dumps(call.arguments, allow_nan=False)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep = "[f(a=" + "[" * 5000 + "]" * 5000 + ")]"
    result = parse_response(f"<tool_call>{deep}</tool_call>")
    assert result.error is not None and result.calls == []
    deep_json = '[{"name": "f", "arguments": {"a": ' + "[" * 50000 + "]" * 50000 + "}}]"
    assert parse_response(f"<tool_call>{deep_json}</tool_call>").error is not None


def test_positional_arguments_are_read_by_the_given_signature_order() -> None:
    order = {"sort": ["file_name"], "mv": ["source", "destination"]}
    calls, fmt = parse_calls("[sort('report.pdf'), mv('a.txt', destination='b')]", positional=order)
    assert fmt == "python"
    assert calls == [
        ToolCall(name="sort", arguments={"file_name": "report.pdf"}),
        ToolCall(name="mv", arguments={"source": "a.txt", "destination": "b"}),
    ]
    parsed = parse_response("<tool_call>\n[sort('x')]\n</tool_call>", positional=order)
    assert parsed.ok and parsed.calls[0].arguments == {"file_name": "x"}
    for block, message in [
        ("[mv('a', 'b', 'c')]", "at most 2 positional"),
        ("[mv('a', source='b')]", "given twice"),
        ("[sort(name)]", "is a name, not a value"),
        ("[sort(*['a'])]", "not allowed"),
        ("[cd('a')]", "by keyword"),  # a tool whose order is not given
    ]:
        with pytest.raises(CallSyntaxError, match=message):
            parse_calls(block, positional=order)
    with pytest.raises(CallSyntaxError, match="by keyword"):
        parse_calls("[sort('report.pdf')]")  # without an order, still refused


def test_a_number_too_large_for_a_float_is_an_error() -> None:
    # JSON has no limit on exponents: 1e999 reads as inf, which no tool can take and no export can write.
    for text in (
        '<tool_call>[{"name": "f", "arguments": {"a": 1e999}}]</tool_call>',
        '<tool_call>[{"name": "f", "arguments": "{\\"a\\": [1, -1e999]}"}]</tool_call>',
    ):
        result = parse_response(text)
        assert result.calls == [] and result.error is not None and "finite" in result.error
