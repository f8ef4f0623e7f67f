"""`schema`: the JSON Schema of a stack file (`Pulumi.<stack>.yaml`), generated from the pydantic
settings model, so editors complete and check `multicloud-inference:platform` as you type.

    python -m offline schema --out schemas/stack.schema.json    # regenerate (or: make schema)

The committed file is what editors read (through the `yaml-language-server` modeline at the top of
each stack file); a test and CI fail until it matches the model. Never edit it by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from offline.cli import STDIO, Verb, write_text

SCHEMA_FILE = Path("schemas") / "stack.schema.json"
REGENERATE = f"make schema  (or: uv run python -m offline schema --out {SCHEMA_FILE})"


def _generator():
    from pydantic.json_schema import GenerateJsonSchema

    class StackSchema(GenerateJsonSchema):
        """pydantic's schema, plus what the model enforces that pydantic does not write down."""

        def field_is_present(self, field) -> bool:
            # Fields excluded from serialization are computed (e.g. `region_cidrs`), not config keys.
            return not field.get("serialization_exclude") and super().field_is_present(field)

        def dict_schema(self, schema):
            result = super().dict_schema(schema)
            if "patternProperties" in result and "additionalProperties" not in result:
                result["additionalProperties"] = False  # keys must match the pattern, as in the model
            return result

    return StackSchema


def stack_schema() -> dict[str, Any]:
    """The schema of a whole stack file: Pulumi's top-level keys, and the platform settings under
    `config.multicloud-inference:platform`; other config keys (`pulumi:...`, provider keys) are free."""
    from settings import KEY_ROOT, Settings

    platform = Settings.model_json_schema(mode="validation", schema_generator=_generator())
    definitions = platform.pop("$defs", {})
    definitions["Settings"] = platform
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Pulumi stack file of multicloud-inference (Pulumi.<stack>.yaml)",
        "description": f"Generated from settings.Settings; do not edit. Regenerate: {REGENERATE}",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": {
                    KEY_ROOT: {
                        "$ref": "#/$defs/Settings",
                        "description": "The platform's settings (README: Configuration reference).",
                    },
                    "pulumi:disable-default-providers": {
                        "type": "array", "items": {"type": "string"},
                        "description": "Keep [\"*\"]: every resource names its provider explicitly.",
                    },
                },
                "required": [KEY_ROOT],
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["config"],
        "$defs": definitions,
    }


def render() -> str:
    return json.dumps(stack_schema(), indent=2, sort_keys=True) + "\n"


def stale_message(path: Path) -> str:
    return f"{path} does not match the settings model: regenerate it with `{REGENERATE}` and commit it"


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=STDIO, metavar="FILE", help="write the schema here (default `-`: standard output)")


def _run(args: argparse.Namespace) -> int:
    write_text(args.out, render())
    return 0


VERB = Verb("schema", "print the JSON Schema of a stack file, generated from the settings model", _arguments, _run)
