"""Verl's multi-turn SFT dataset for hardgen's ``verl-sft`` export: the rows in the form chat templates take.

``hardgen export --format verl-sft`` copies this file beside the parquet as ``<name>_dataset.py``. Hand
it to Verl's SFT trainer as its dataset class::

    data.custom_cls.path=<folder>/<name>_dataset.py
    data.custom_cls.name=HardgenSFTDataset

Why a class and not just the parquet: a parquet column has one type for all rows, and tool schemas do
not share one (each tool has its own parameters, and one key holds a string in one schema and a list in
another). As objects, every tool would carry every other tool's keys as nulls, and the chat template
would show the model those nulls. So the parquet keeps ``tools`` as a JSON string and each tool call's
``arguments`` as a JSON string (the OpenAI convention), and this class, a subclass of Verl's own
``MultiTurnSFTDataset``, turns them back into what transformers' chat templates take: ``tools`` as a
list of schemas and ``arguments`` as objects, with the keys a message does not use left out. Everything
else (tokenising each message, the loss mask on assistant messages, padding, truncation, the sanity
check against the whole conversation) is Verl's code.

A message with ``"weight": 0`` (the failed call of ``--with-recovery``, shown so that the next
message can recover from its error) is context only: its tokens get no loss.

Without Verl installed, :func:`chat_inputs` still works (the standard library only); hardgen's tests
use it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

__all__ = ["chat_inputs", "chat_message", "chat_tools"]  # and HardgenSFTDataset, built on first use

# Kept even when null: templates read ``content`` of every message (an assistant message that only
# calls tools has null content, as in OpenAI's format).
ALWAYS = ("role", "content")


def chat_tools(value: Any) -> list[dict[str, Any]] | None:
    """The ``tools`` cell as a list of tool schemas (a JSON string in the parquet); None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    tools = [t for t in value if isinstance(t, dict)] if isinstance(value, list | tuple) else []
    return tools or None


def chat_message(message: dict[str, Any]) -> dict[str, Any]:
    """One message as chat templates take it: no unused (null) keys, call arguments as objects."""
    out = {k: v for k, v in message.items() if v is not None or k in ALWAYS}
    calls = out.get("tool_calls")
    if calls:
        fixed = []
        for call in calls:
            call = dict(call)
            function = dict(call.get("function") or {})
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                function["arguments"] = json.loads(arguments) if arguments.strip() else {}
            call["function"] = function
            fixed.append(call)
        out["tool_calls"] = fixed
    return out


def chat_inputs(messages: Any, tools: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """A row's ``messages`` and ``tools`` as ``apply_chat_template(messages, tools=tools)`` takes them."""
    return [chat_message(dict(m)) for m in messages], chat_tools(tools)


@cache
def _dataset_class() -> type:
    """The subclass of Verl's MultiTurnSFTDataset (built on first use: Verl is imported only then)."""
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    class HardgenSFTDataset(MultiTurnSFTDataset):
        """Verl's MultiTurnSFTDataset on a hardgen ``verl-sft`` parquet."""

        tools: list[Any] | None

        def _read_files_and_process(self) -> None:
            super()._read_files_and_process()
            if self.tools is not None:
                self.tools = [chat_tools(t) for t in self.tools]

        def _build_messages(self, example: dict[str, Any]) -> list[dict[str, Any]]:
            return [chat_message(m) for m in super()._build_messages(example)]

        def _process_single_message(
            self, index: int, message: dict[str, Any], *args: Any, **kwargs: Any
        ) -> Any:
            input_ids, loss_mask, attention_mask, inputs = super()._process_single_message(
                index, message, *args, **kwargs
            )
            if message.get("weight") == 0:
                loss_mask = loss_mask * 0
            return input_ids, loss_mask, attention_mask, inputs

    return HardgenSFTDataset


def __getattr__(name: str) -> Any:
    if name == "HardgenSFTDataset":
        return _dataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
