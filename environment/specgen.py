"""Tool specs generated from code: type hints and Google docstrings give the JSON schema.

Nothing is written twice: a suite method's signature is the parameter schema, its docstring gives the
descriptions, its return annotation and ``Returns:`` section describe the result.

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``None``, ``list[X]``, ``dict[str, X]``,
``Literal[...]`` (an enum), ``X | None`` (nullable), ``Annotated[X, Field(...)]``-free plain types, and
``typing.Any`` for a value of any JSON type. A parameter with a default is optional.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import docstring_parser
from pydantic import JsonValue

from hardgen.schema import JSONDict, ToolSpec


class SpecError(ValueError):
    """A tool's signature or docstring cannot be turned into a valid spec."""


_PRIMITIVES: dict[object, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def annotation_schema(annotation: object, where: str) -> JSONDict:
    """The JSON schema of one Python type annotation."""
    if annotation in _PRIMITIVES:
        return {"type": _PRIMITIVES[annotation]}
    if annotation is type(None) or annotation is None:
        return {"type": "null"}
    if annotation is Any:
        return {}
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Literal:
        kinds = {type(a) for a in args}
        if len(kinds) != 1 or next(iter(kinds)) not in _PRIMITIVES:
            raise SpecError(f"{where}: Literal values must share one primitive type, got {args!r}")
        return {"type": _PRIMITIVES[next(iter(kinds))], "enum": list(args)}
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple):
        item_args = [a for a in args if a is not Ellipsis]
        schema: JSONDict = {"type": "array"}
        if item_args:
            if len(set(item_args)) != 1:
                raise SpecError(f"{where}: only homogeneous sequences are supported, got {annotation!r}")
            schema["items"] = annotation_schema(item_args[0], where)
        return schema
    if origin is dict or annotation is dict:
        schema = {"type": "object"}
        if args:
            if args[0] is not str:
                raise SpecError(f"{where}: dict keys must be str, got {annotation!r}")
            value_schema = annotation_schema(args[1], where)
            if value_schema:
                schema["additionalProperties"] = value_schema
        return schema
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        nullable = len(members) != len(args)
        if len(members) == 1:
            inner = annotation_schema(members[0], where)
            if nullable and "type" in inner and isinstance(inner["type"], str):
                inner = {**inner, "type": [inner["type"], "null"]}
                if "enum" in inner and isinstance(inner["enum"], list):
                    inner["enum"] = [*inner["enum"], None]
            elif nullable:
                inner = {"anyOf": [inner, {"type": "null"}]}
            return inner
        return {"anyOf": [annotation_schema(m, where) for m in args]}
    raise SpecError(f"{where}: unsupported annotation {annotation!r}")


def tool_spec(func: Callable[..., object], *, suite: str = "", domain: str = "") -> ToolSpec:
    """Build the ToolSpec of a function (or bound method) from its hints and Google docstring.

    Raises:
        SpecError: when a parameter has no annotation or no docstring entry, or a type is unsupported.
    """
    name = func.__name__
    doc = inspect.getdoc(func)
    if not doc:
        raise SpecError(f"tool {name!r} has no docstring")
    parsed = docstring_parser.parse(doc, style=docstring_parser.DocstringStyle.GOOGLE)
    hints = typing.get_type_hints(func)
    param_docs = {p.arg_name: _one_line(p.description) for p in parsed.params}
    properties: JSONDict = {}
    required: list[str] = []
    for pname, param in inspect.signature(func).parameters.items():
        if pname == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        where = f"tool {name!r} parameter {pname!r}"
        if pname not in hints:
            raise SpecError(f"{where} has no type annotation")
        if not param_docs.get(pname):
            raise SpecError(f"{where} is not described in the docstring's Args section")
        schema = annotation_schema(hints[pname], where)
        schema["description"] = param_docs[pname]
        if param.default is inspect.Parameter.empty:
            required.append(pname)
        else:
            schema["default"] = param.default
        properties[pname] = schema
    parts = (parsed.short_description, parsed.long_description)
    description = " ".join(_one_line(part) for part in parts if part and part.strip())
    if not description:
        raise SpecError(f"tool {name!r} has an empty description")
    returns: JSONDict = (
        annotation_schema(hints["return"], f"tool {name!r} return") if "return" in hints else {}
    )
    if parsed.returns and parsed.returns.description:
        returns["description"] = _one_line(parsed.returns.description)
        description = f"{description} Returns: {returns['description']}"
    required_json: list[JsonValue] = list(required)
    parameters: JSONDict = {"type": "object", "properties": properties, "required": required_json}
    parameters["additionalProperties"] = False
    return ToolSpec(
        name=name, description=description, parameters=parameters, returns=returns, suite=suite, domain=domain
    )


def _one_line(text: str | None) -> str:
    """A docstring fragment as one line: wrapped source lines are not line breaks for the model."""
    return " ".join((text or "").split())
