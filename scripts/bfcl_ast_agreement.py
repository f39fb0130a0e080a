"""How often hardgen's call checker and BFCL's ``ast_checker`` give the same verdict on the same call.

For every entry of BFCL's Python single-turn categories (simple, multiple, parallel, parallel multiple,
and their live versions), the first allowed value of every parameter of the possible answer is the
reference call (a parameter whose first allowed value is ``""`` is left out). Candidates, each a change
to one call of the reference:

* ``reference``: the reference itself;
* ``omit_optional``: a parameter whose allowed values include ``""`` (may be omitted) left out;
* ``default_given``: a parameter the reference leaves out, set to its doc default, when the possible
  answer allows that value;
* ``int_for_float``: an integral float given as an int;
* ``wrong_value``: one value changed to one not allowed; ``wrong_type``: a number given as text;
* ``missing_required``: a required parameter left out; ``unknown_param``: a parameter no doc has;
* ``wrong_function``: the call made to another function of the entry (multiple categories).

BFCL's checker gets the candidate with the possible answer; hardgen's
(:func:`hardgen.checker.check_calls`, AST level only) gets it with the reference and the entry's docs as
hardgen imports them. Case and punctuation changes are left out on purpose: BFCL lowercases strings,
hardgen does not (its calls are executed, see the checker's docstring).

Usage::

    python scripts/bfcl_ast_agreement.py [--show 20] [--json]

Needs bfcl-eval (``pip install --no-deps bfcl-eval mpmath``). BFCL's checker module imports the model
registry, which needs every vendor SDK; a stand-in registry with no name conversion is put in its place.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import re
import sys
import types
from collections.abc import Iterator
from typing import Any

from hardgen.checker import check_calls
from hardgen.environment.backends.bfcl import bfcl_data_dir, ensure_project_root
from hardgen.environment.backends.catalog import parameters_schema
from hardgen.environment.backends.catalog_import import tool_name
from hardgen.schema import ToolCall, ToolSpec

CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
UNKNOWN = "zz_not_a_parameter"
NO_DEFAULT = object()


def bfcl_ast_checker() -> Any:
    ensure_project_root()
    if "bfcl_eval.constants.model_config" not in sys.modules:
        stand_in = types.ModuleType("bfcl_eval.constants.model_config")
        no_conversion = types.SimpleNamespace(underscore_to_dot=False)
        stand_in.MODEL_CONFIG_MAPPING = collections.defaultdict(lambda: no_conversion)  # type: ignore[attr-defined]
        sys.modules[stand_in.__name__] = stand_in
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

    return ast_checker


def load(category: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    data = bfcl_data_dir()
    exact = re.compile(rf"BFCL_v\d+_{category}\.json")
    (questions,) = [p for p in data.glob("BFCL_v*.json") if exact.fullmatch(p.name)]
    (answers,) = [p for p in (data / "possible_answer").glob("BFCL_v*.json") if exact.fullmatch(p.name)]
    truth = {}
    for line in answers.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            truth[record["id"]] = record["ground_truth"]
    lines = questions.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return [(e, truth[e["id"]]) for e in entries if e["id"] in truth]


def first(options: list[Any]) -> Any:
    """The first allowed value; BFCL writes a dict's allowed values as a dict of allowed-value lists."""
    value = options[0] if options else ""
    if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        return {k: first(v) for k, v in value.items() if v and v[0] != ""}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [first([v]) for v in value]
    return value


def reference(answer: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    out = []
    for call in answer:
        ((name, params),) = call.items()
        out.append({name: {p: first(opts) for p, opts in params.items() if opts and opts[0] != ""}})
    return out


def default_of(doc: dict[str, Any]) -> Any:
    """A doc's default as the value it stands for ("false" on a boolean is False)."""
    if "default" not in doc:
        return NO_DEFAULT
    value, kind = doc["default"], doc.get("type")
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def changed(value: Any) -> Any | None:
    """A value of the same type that no possible answer is likely to allow."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7
    if isinstance(value, str):
        return value + " zq"
    if isinstance(value, list):
        return [*value, value[0]] if value else None
    return None


def candidates(
    entry: dict[str, Any], answer: list[dict[str, Any]]
) -> Iterator[tuple[str, list[dict[str, dict[str, Any]]]]]:
    ref = reference(answer)
    docs = {d["name"]: d for d in entry["function"]}
    yield "reference", ref
    for i, call in enumerate(answer):
        ((name, params),) = call.items()
        props = docs[name]["parameters"].get("properties", {})
        required = docs[name]["parameters"].get("required", [])

        def variant(update: dict[str, Any], drop: str | None = None, i: int = i, name: str = name) -> Any:
            out = copy.deepcopy(ref)
            args = out[i][name]
            if drop is not None:
                args.pop(drop, None)
            args.update(update)
            return out

        for param, options in params.items():
            given = ref[i][name].get(param, "")
            doc = props.get(param, {})
            if "" in options and given != "" and default_of(doc) == given:
                yield "omit_optional", variant({}, drop=param)
            if given == "" and default_of(doc) is not NO_DEFAULT and default_of(doc) in options:
                yield "default_given", variant({param: default_of(doc)})
            if given == "":
                continue
            if isinstance(given, float) and given.is_integer() and doc.get("type") == "float":
                yield "int_for_float", variant({param: int(given)})
            other = changed(given)
            if other is not None and other not in options:
                yield "wrong_value", variant({param: other})
            if isinstance(given, int | float) and not isinstance(given, bool):
                yield "wrong_type", variant({param: str(given)})
            if param in required:
                yield "missing_required", variant({}, drop=param)
        yield "unknown_param", variant({UNKNOWN: "x"})
        others = [n for n in docs if n != name]
        if others:
            out = copy.deepcopy(ref)
            out[i] = {others[0]: out[i][name]}
            yield "wrong_function", out


def hardgen_verdict(entry: dict[str, Any], ref: list[Any], candidate: list[Any]) -> bool:
    specs = {}
    for doc in entry["function"]:
        name = tool_name(doc["name"])
        specs[name] = ToolSpec(name=name, description="", parameters=parameters_schema(doc.get("parameters")))

    def calls(items: list[dict[str, dict[str, Any]]]) -> list[ToolCall]:
        return [ToolCall(name=tool_name(n), arguments=a) for item in items for n, a in item.items()]

    return check_calls(calls(candidate), calls(ref), specs).correct


def measure(categories: tuple[str, ...] = CATEGORIES) -> dict[str, Any]:
    from bfcl_eval.constants.enums import Language

    ast_checker = bfcl_ast_checker()
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    disagreements = []
    bfcl_rejects_own_answer = []
    for category in categories:
        for entry, answer in load(category):
            ref = reference(answer)
            if not ast_checker(entry["function"], ref, answer, Language.PYTHON, category, "x")["valid"]:
                # BFCL's possible answer breaks its own doc (a required parameter missing, ...): no
                # verdict on it or its variants says anything about agreement.
                bfcl_rejects_own_answer.append(entry["id"])
                continue
            for kind, candidate in candidates(entry, answer):
                bfcl = ast_checker(entry["function"], candidate, answer, Language.PYTHON, category, "x")
                ours = hardgen_verdict(entry, ref, candidate)
                by_kind[kind][0] += 1
                if bool(bfcl["valid"]) == ours:
                    by_kind[kind][1] += 1
                else:
                    valid = bool(bfcl["valid"])
                    disagreements.append(
                        {
                            "id": entry["id"],
                            "kind": kind,
                            "bfcl": valid,
                            "hardgen": ours,
                            "candidate": candidate,
                        }
                    )
    total = sum(n for n, _ in by_kind.values())
    agree = sum(a for _, a in by_kind.values())
    return {
        "not_comparable": bfcl_rejects_own_answer,
        "candidates": total,
        "agree": agree,
        "agreement": round(agree / total, 4) if total else None,
        "by_kind": {k: {"candidates": n, "agree": a} for k, (n, a) in sorted(by_kind.items())},
        "disagreements": disagreements,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=20, help="how many disagreements to print")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args()
    report = measure()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))  # noqa: T201
        return 0
    print(f"{report['agree']} of {report['candidates']} candidates agree ({report['agreement']:.2%})")  # noqa: T201
    skipped = report["not_comparable"]
    print(f"  left out: {len(skipped)} entries whose possible answer BFCL rejects: {', '.join(skipped)}")  # noqa: T201
    for kind, counts in report["by_kind"].items():
        print(f"  {kind}: {counts['agree']} of {counts['candidates']}")  # noqa: T201
    for d in report["disagreements"][: args.show]:
        text = json.dumps(d["call"], ensure_ascii=False, default=str)[:200]
        print(f"  {d['id']} {d['kind']}: bfcl {d['bfcl']} hardgen {d['hardgen']}: {text}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
