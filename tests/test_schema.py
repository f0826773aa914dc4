"""The JSON Schema (costcalc schema), generated from the format's one declaration: valid JSON Schema,
every bundled spec valid against it, and the loader's refusals refused by it too."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import SPECS


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    from costcalc.cli import main

    path = tmp_path_factory.mktemp("schema") / "costcalc.schema.json"
    assert main(["schema", "-o", str(path)]) == 0
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_spec_is_valid(validator, path):
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert not errors, errors


BASE = {"name": "t", "input": {"channels": 3, "size": 32}, "layers": [{"type": "conv", "out": 8, "kernel": 3}]}


@pytest.mark.parametrize("change", [
    {"layers": [{"type": "conv", "out": 8, "kernal": 3}]},  # a typo in a layer key
    {"layers": [{"type": "convolution", "out": 8, "kernel": 3}]},  # an unknown type
    {"layers": [{"type": "conv", "out": -8, "kernel": 3}]},  # a negative count
    {"layers": [{"type": "maxpool", "kernel": 2, "padding": "full"}]},
    {"inputs": {"channels": 3, "size": 32}},  # an unknown top-level key
    {"references": [{"quantity": "macz", "value": 1, "source": "x"}]},
    {"references": [{"quantity": "macs", "value": 1, "source": "x", "config": {"alpha": 0}}]},
    {"accuracy": [{"top1": 170, "source": "x"}]},
    {"parameters": {"1x": 3}},  # a parameter no expression can name
    {"analyses": {"compression": {"index_bits": 100}}},
    {"budget": {"macz": "5M"}},
    {"budget": [{"macs": "5Q"}]},
], ids=lambda c: json.dumps(c)[:40])
def test_what_the_loader_refuses_the_schema_refuses(validator, change, write_spec, run):
    doc = {**BASE, **change}
    if "inputs" in change:
        del doc["input"]
    assert list(validator.iter_errors(doc)), "the schema accepts it"
    assert run("report", write_spec(yaml.safe_dump(doc))).code == 2  # and so does the loader
