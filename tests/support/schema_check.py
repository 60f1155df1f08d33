"""Checks of real replies and events against the shipped JSON Schema."""

from __future__ import annotations

from typing import Any

import jsonschema

from queue_server import schema


def validate_exchange(doc: dict[str, Any], op: str, request: dict[str, Any],
                      reply: dict[str, Any]) -> None:
    """One real request and its reply against the schema (the live hall-day test)."""
    entry = doc["operations"][op]
    jsonschema.validate(request, schema.validator_for(doc, doc["request"]))
    jsonschema.validate(request.get("args", {}), schema.validator_for(doc, entry["args"]))
    jsonschema.validate(reply, schema.validator_for(doc, doc["reply"]))
    if reply["ok"]:
        jsonschema.validate(reply["result"], schema.validator_for(doc, entry["result"]))
    else:
        assert reply["error"]["code"] in entry["errors"], (op, reply["error"])


def validate_event_data(doc: dict[str, Any], type_: str, data: dict[str, Any]) -> None:
    assert type_ in doc["event_types"], type_
    event_data = doc["$defs"]["Event"]["properties"]["data"]
    jsonschema.validate(data, schema.validator_for(doc, event_data))
