"""Schema-only catalogs: importing OpenAI tools, BFCL docs and OpenAPI specs, and the simulated executor."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from hardgen.config import BackendConfig, EnvironmentConfig, parse_settings
from hardgen.environment.backends import build_environment
from hardgen.environment.backends.catalog import LLMResultSource, catalog_from_options, to_json_schema
from hardgen.environment.base import Environment, EnvironmentConfigError
from hardgen.schema import ToolCall, ToolSpec

ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "customer": {"type": "string"},
        "item": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "status": {"type": "string", "enum": ["placed", "shipped", "delivered"]},
    },
    "required": ["order_id", "customer", "item", "quantity", "status"],
}


def fn(
    name: str, description: str, properties: dict[str, Any], required: list[str], returns: Any = None
) -> dict:
    tool: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }
    if returns is not None:
        tool["function"]["returns"] = returns
    return tool


OPENAI_TOOLS = [
    fn(
        "create_order",
        "Place an order for a customer.",
        {"customer": {"type": "string"}, "item": {"type": "string"}, "quantity": {"type": "integer"}},
        ["customer", "item", "quantity"],
        ORDER,
    ),
    fn("get_order", "Look up an order by its id.", {"order_id": {"type": "string"}}, ["order_id"], ORDER),
    fn(
        "list_orders",
        "List the orders of a customer.",
        {"customer": {"type": "string"}},
        [],
        {
            "type": "object",
            "properties": {"orders": {"type": "array", "items": ORDER}, "total": {"type": "integer"}},
        },
    ),
    fn("delete_order", "Cancel an order.", {"order_id": {"type": "string"}}, ["order_id"]),
    fn(
        "estimate_shipping",
        "Estimate the shipping cost of a parcel.",
        {"weight_kg": {"type": "number"}, "country": {"type": "string"}},
        ["weight_kg", "country"],
        {
            "type": "object",
            "properties": {"cost": {"type": "number", "minimum": 0}, "currency": {"type": "string"}},
        },
    ),
]

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "summary": "List pets.",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}}
                ],
                "responses": {
                    "200": {
                        "description": "pets",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "summary": "Add a pet.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": "showPetById",
                "summary": "Info for a pet.",
                "responses": {
                    "200": {
                        "description": "a pet",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
            "delete": {
                "operationId": "deletePet",
                "summary": "Remove a pet.",
                "responses": {"204": {"description": "gone"}},
            },
        },
    },
    "components": {
        "schemas": {
            "NewPet": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "tag": {"type": "string", "nullable": True}},
            },
            "Pet": {
                "allOf": [{"$ref": "#/components/schemas/NewPet"}],
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tag": {"type": "string"},
                },
            },
        }
    },
}

BFCL_DOCS = [
    {
        "name": "geometry.area_triangle",
        "description": "Calculate the area of a triangle.",
        "parameters": {
            "type": "dict",
            "properties": {
                "base": {"type": "float", "description": "The base."},
                "corner": {"type": "tuple", "items": {"type": "float"}, "description": "A corner."},
                "extra": {"type": "any", "description": "Anything."},
                "unit": {"type": "String", "enum": ["cm", "m"], "description": "Unit."},
                "options": {
                    "type": "dict",
                    "properties": {"round": {"type": "boolean"}},
                    "required": ["round"],
                },
            },
            "required": ["base", "corner", "not_a_parameter"],
        },
    }
]


@pytest.fixture()
def sources(tmp_path: Path) -> dict[str, Path]:
    openai_path = tmp_path / "shop.jsonl"
    openai_path.write_text("\n".join(json.dumps(t) for t in OPENAI_TOOLS))
    openapi_path = tmp_path / "pets.yaml"
    openapi_path.write_text(yaml.safe_dump(OPENAPI))
    bfcl_path = tmp_path / "geometry.json"
    bfcl_path.write_text("\n".join(json.dumps(d) for d in BFCL_DOCS))
    return {"openai": openai_path, "openapi": openapi_path, "bfcl": bfcl_path}


def catalog_env(sources: list[str], name: str = "shop", seed: int = 0, **options: Any) -> Environment:
    config = EnvironmentConfig(
        suites=[],
        backends=[BackendConfig(kind="catalog", name=name, options={"sources": sources, **options})],
    )
    return build_environment([name], config, seed=seed)


def run(env: Environment, tool: str, /, **arguments: Any) -> Any:
    return env.execute(ToolCall(name=tool, arguments=arguments))


def test_bfcl_dialect_becomes_json_schema() -> None:
    params = to_json_schema(BFCL_DOCS[0]["parameters"])
    props = params["properties"]
    assert props["base"]["type"] == "number"
    assert props["corner"] == {"type": "array", "description": "A corner.", "items": {"type": "number"}}
    assert "type" not in props["extra"]  # any value
    assert props["unit"] == {"type": "string", "description": "Unit.", "enum": ["cm", "m"]}
    assert props["options"]["type"] == "object"
    assert params["required"] == ["base", "corner"]  # a required name with no property is dropped
    Draft202012Validator.check_schema(params)


def test_every_imported_spec_is_valid_json_schema(sources: dict[str, Path]) -> None:
    env = catalog_env([str(p) for p in sources.values()])
    names = {s.name for s in env.specs}
    assert names == {
        "create_order", "get_order", "list_orders", "delete_order", "estimate_shipping",
        "listPets", "createPet", "showPetById", "deletePet", "geometry_area_triangle",
    }  # fmt: skip
    for spec in env.specs:
        Draft202012Validator.check_schema(spec.parameters)
        Draft202012Validator.check_schema(spec.returns)
        assert spec.parameters["additionalProperties"] is False
    pets = env.spec("createPet")
    assert pets.required == ["name"] and "tag" in pets.properties  # the JSON body became arguments
    assert env.spec("showPetById").returns["properties"]["id"]["type"] == "integer"  # $ref resolved
    assert env.spec("listPets").properties["limit"]["maximum"] == 50


def test_what_a_create_returns_a_get_finds_and_a_delete_removes(sources: dict[str, Path]) -> None:
    env = catalog_env([str(sources["openai"])])
    created = run(env, "create_order", customer="Ada Park", item="kettle", quantity=2)
    assert created.ok
    Draft202012Validator(env.spec("create_order").returns).validate(created.output)
    order_id = created.output["order_id"]
    assert created.output["customer"] == "Ada Park" and created.output["quantity"] == 2
    found = run(env, "get_order", order_id=order_id)
    assert found.ok and found.output["item"] == "kettle" and found.output["order_id"] == order_id
    listed = run(env, "list_orders", customer="Ada Park")
    assert [o["order_id"] for o in listed.output["orders"]] == [order_id]
    assert listed.output["total"] == 1
    assert run(env, "delete_order", order_id=order_id).ok
    gone = run(env, "get_order", order_id=order_id)
    assert not gone.ok and gone.error_type == "tool:not_found" and order_id in gone.error


def test_openapi_operations_are_stateful_too(sources: dict[str, Path]) -> None:
    env = catalog_env([str(sources["openapi"])], name="pets")
    before = {p["id"] for p in run(env, "listPets").output}
    assert len(before) == 3  # seed records exist from the start
    pet = run(env, "createPet", name="Miso").output
    assert isinstance(pet["id"], int) and pet["name"] == "Miso"
    assert run(env, "showPetById", petId=pet["id"]).output["name"] == "Miso"
    assert {p["id"] for p in run(env, "listPets").output} == before | {pet["id"]}
    assert run(env, "showPetById", petId=424242).error_type == "tool:not_found"


def test_same_inputs_give_the_same_outputs(sources: dict[str, Path]) -> None:
    first = catalog_env([str(sources["openai"])])
    second = catalog_env([str(sources["openai"])])
    call = {"weight_kg": 2.5, "country": "Chile"}
    a, b = run(first, "estimate_shipping", **call), run(first, "estimate_shipping", **call)
    assert a.ok and a.output == b.output == run(second, "estimate_shipping", **call).output
    assert run(first, "estimate_shipping", weight_kg=9.0, country="Chile").output != a.output
    assert a.output["cost"] >= 0  # the declared minimum holds


def test_snapshot_restore_gives_the_same_state_and_observations(sources: dict[str, Path]) -> None:
    env = catalog_env([str(sources["openai"])])
    run(env, "create_order", customer="Ada Park", item="kettle", quantity=2)
    snapshot, state = env.snapshot(), env.state_hash()
    twin = catalog_env([str(sources["openai"])])
    twin.restore(json.loads(json.dumps(snapshot, sort_keys=True)))  # as a JSON store gives it back
    assert twin.state_hash() == state
    calls = [
        ToolCall(name="create_order", arguments={"customer": "Bo", "item": "lamp", "quantity": 1}),
        ToolCall(name="list_orders", arguments={}),
        ToolCall(name="get_order", arguments={"order_id": "nope"}),
    ]
    assert [env.execute(c) for c in calls] == [twin.execute(c) for c in calls]
    assert env.state_hash() == twin.state_hash()
    fork = env.fork()
    run(fork, "create_order", customer="Cy", item="mug", quantity=3)
    assert fork.state_hash() != env.state_hash()  # the fork is independent


def test_a_failed_call_changes_nothing(sources: dict[str, Path]) -> None:
    env = catalog_env([str(sources["openai"])])
    state = env.state_hash()
    assert run(env, "get_order", order_id="ORD-9").error_type == "tool:not_found"
    assert run(env, "create_order", customer="Ada", item="kettle").error_type == "env:missing_argument"
    assert env.state_hash() == state


def test_bad_sources_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentConfigError, match="does not exist"):
        catalog_env([str(tmp_path / "missing.json")])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"name": "a"}\n{not json\n')
    with pytest.raises(EnvironmentConfigError, match=r"broken.jsonl:2: not JSON"):
        catalog_env([str(broken)])
    with pytest.raises(EnvironmentConfigError, match="needs 'sources'"):
        catalog_from_options({}, "empty")


def test_llm_results_are_cached_validated_and_fall_back(tmp_path: Path) -> None:
    spec = ToolSpec(
        name="weather",
        description="Current weather.",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        returns={"type": "object", "properties": {"temp_c": {"type": "number"}}, "required": ["temp_c"]},
    )
    answers = ['<think>warm</think>```json\n{"temp_c": 21.5}\n```', '{"temp_c": "hot"}']
    prompts: list[str] = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return answers[len(prompts) - 1]

    cache = tmp_path / "llm.jsonl"
    source = LLMResultSource(complete, cache)
    assert source.result(spec, {"city": "Oslo"}, {}) == {"temp_c": 21.5}
    assert source.result(spec, {"city": "Oslo"}, {}) == {"temp_c": 21.5}  # cached: no second prompt
    assert len(prompts) == 1
    assert source.result(spec, {"city": "Rome"}, {}) is None  # invalid result: the simulator's is used
    reloaded = LLMResultSource(lambda p: pytest.fail("the cache on disk answers"), cache)
    assert reloaded.result(spec, {"city": "Oslo"}, {}) == {"temp_c": 21.5}


def test_bfcl_function_docs_form_one_catalog() -> None:
    pytest.importorskip(
        "bfcl_eval", reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval mpmath)"
    )
    catalog = catalog_from_options({"bfcl_data": ["simple_python", "multiple"]}, "bfcl_catalog")
    figures = catalog.figures()
    assert figures["docs_read"] == 957  # 400 + 557 docs in the two categories
    assert figures["tools"] >= figures["distinct_names"] > 500
    names = [t.spec.name for t in catalog.tools]
    assert len(names) == len(set(names)) and all("." not in n for n in names)


def test_a_small_pipeline_run_on_a_catalog_verifies_clean(sources: dict[str, Path], tmp_path: Path) -> None:
    from hardgen.export import export_run
    from hardgen.runner import Runner
    from hardgen.verify import verify_file

    settings = parse_settings(
        {
            "run": {"seed": 5, "trajectories": 6, "concurrency": 3},
            "environment": {
                "suites": [],
                "suites_per_item": 1,
                "backends": [
                    {"kind": "catalog", "name": "shop", "options": {"sources": [str(sources["openai"])]}}
                ],
            },
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}},
            "self_eval": {"enabled": False},
        }
    )
    summary = asyncio.run(Runner(settings, tmp_path / "run").run())
    assert summary.kept >= 2
    export_run(tmp_path / "run", "openai", tmp_path / "out.jsonl")
    report = verify_file(tmp_path / "out.jsonl")
    assert report.ok, [m.describe() for m in report.mismatches]
    assert report.trajectories == summary.kept
