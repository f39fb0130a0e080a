"""The RL reward of the paper (Appendix D, eq. 6), as a Verl custom reward function.

    Reward = 1  if the output follows the reasoning template and its answer is correct,
             0  otherwise.

Decision table (``ground_truth`` is the JSON list of the response's calls, as ``hardgen export
--format verl`` writes it in ``reward_model.ground_truth``; the call style is ``extra_info["call_format"]``,
``hermes`` when absent):

    ground truth   template   calls in the output                          reward
    ------------   --------   ------------------------------------------   ------
    has calls      broken     (any)                                        0
    has calls      followed   do not parse                                 0
    has calls      followed   parse, none                                  0
    has calls      followed   parse, differ from the ground truth          0
    has calls      followed   parse, match (the checker's AST semantics)   1
    no call        broken     (any)                                        0
    no call        followed   a <tool_call> block, valid or not            0
    no call        followed   none: free text                              1

"Match" is :func:`hardgen.checker.check_calls` without an environment: same tools as a multiset
(order inside a parallel step is free), every required parameter, omitted optionals equal to their
defaults, ``int`` accepted for ``number``, strings exact up to surrounding whitespace and Unicode
normalisation. The tool schemas come from ``extra_info["tools"]`` (the export puts them there); without
them only the ground truth's own parameters are known, so defaults cannot be applied.

"Follows the template" is :func:`hardgen.calls.follows_template` in the row's call style: one
``<think>`` block first, then the calls (``hermes``: one ``<tool_call>`` JSON block per call, as the SFT
export teaches; ``python``: one block with the call list) or free text. A response that starts inside
the think block (a chat template whose generation prompt already opened ``<think>``) counts as having
opened it; a free-text answer (a turn's summary) may come without reasoning, as the SFT data shows it.

Use it in Verl with::

    custom_reward_function.path=<site-packages>/hardgen/reward.py
    custom_reward_function.name=compute_score

or, on a cluster without hardgen, the standard-library copy ``hardgen export --format verl`` writes
beside the parquet (``<name>_reward.py``), which gives the same scores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hardgen.calls import (
    CALL_CLOSE,
    CALL_OPEN,
    DEFAULT_CALL_STYLE,
    CallStyle,
    follows_template,
    parse_response,
)
from hardgen.checker import check_calls
from hardgen.schema import ToolCall, ToolSpec

log = logging.getLogger(__name__)


def compute_score(
    data_source: str | None,
    solution_str: str,
    ground_truth: str | list[Any],
    extra_info: Mapping[str, Any] | None = None,
) -> float:
    """Eq. (6): 1.0 for a well-formed, correct response, else 0.0. Never raises.

    Args:
        data_source: The row's ``data_source`` (not used: every row is scored the same way).
        solution_str: The model's decoded response.
        ground_truth: The response's expected calls: a JSON list of ``{"name", "arguments"}`` (or the
            list itself); ``"[]"`` when the response should be free text.
        extra_info: The row's ``extra_info``; its ``tools`` (a JSON string or a list of tool schemas)
            give the parameter defaults and types.
    """
    try:
        return 1.0 if _correct(solution_str, ground_truth, extra_info) else 0.0
    except Exception:  # a reward that crashes stops the training run; a broken row scores 0
        log.warning("compute_score failed on a row of %s; scoring 0", data_source, exc_info=True)
        return 0.0


def _correct(solution: str, ground_truth: str | list[Any], extra_info: Mapping[str, Any] | None) -> bool:
    if not isinstance(solution, str):
        return False
    expected = _ground_truth_calls(ground_truth)
    if not follows_template(solution, call_style(extra_info), calls_expected=bool(expected)):
        return False
    parsed = parse_response(solution)
    if not expected:
        # Free text only: any call block, even a malformed one, is a spurious invocation.
        has_call_block = CALL_OPEN in solution or CALL_CLOSE in solution
        return parsed.ok and not parsed.calls and not has_call_block
    if not parsed.ok or not parsed.calls:
        return False
    specs = _specs(extra_info, expected)
    return check_calls(parsed.calls, expected, specs).correct


def call_style(extra_info: Mapping[str, Any] | None) -> CallStyle:
    """The row's call style (``extra_info["call_format"]``); ``hermes`` when it is absent or unknown."""
    value = extra_info.get("call_format") if isinstance(extra_info, Mapping) else None
    return "python" if value == "python" else DEFAULT_CALL_STYLE


def _ground_truth_calls(ground_truth: str | list[Any]) -> list[ToolCall]:
    value = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        args = item.get("arguments", {})
        if isinstance(args, str):
            args = json.loads(args) if args.strip() else {}
        calls.append(ToolCall.model_validate({"name": item["name"], "arguments": args}))
    return calls


@lru_cache(maxsize=256)
def _cached_specs(tools_json: str) -> dict[str, ToolSpec]:
    # Every row of a trajectory carries the same tools string: parse it once.
    return _parse_specs(tools_json)


def _parse_specs(tools: object) -> dict[str, ToolSpec]:
    from hardgen.export.common import specs_from_tool_dicts

    return specs_from_tool_dicts(tools) if tools is not None else {}


def _specs(extra_info: Mapping[str, Any] | None, expected: list[ToolCall]) -> dict[str, ToolSpec]:
    """Tool schemas from ``extra_info["tools"]``; any expected tool missing there gets a minimal one."""
    tools = extra_info.get("tools") if isinstance(extra_info, Mapping) else None
    specs = dict(_cached_specs(tools)) if isinstance(tools, str) else _parse_specs(tools)
    for call in expected:
        if call.name not in specs:
            specs[call.name] = ToolSpec(
                name=call.name,
                description="",
                parameters={"type": "object", "properties": {k: {} for k in call.arguments}},
            )
    return specs
