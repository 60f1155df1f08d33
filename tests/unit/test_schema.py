"""The protocol's JSON Schema: generated from the operation table, shipped, and true."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from queue_common.protocol import ALL_OPS
from queue_server import schema
from tests.support.schema_check import validate_event_data


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return schema.document()


def test_the_shipped_schema_is_what_the_server_generates() -> None:
    assert schema.SHIPPED.read_text("utf-8") == schema.text(), \
        "docs/schema/hqp1.schema.json is stale: run python -m queue_server.schema --write"


def test_every_operation_has_args_result_errors_and_permissions(doc: dict[str, Any]) -> None:
    assert set(doc["operations"]) == set(ALL_OPS)
    jsonschema.Draft202012Validator.check_schema(doc)
    for op, entry in doc["operations"].items():
        assert {"BAD_REQUEST", "FORBIDDEN", "INTERNAL"} <= set(entry["errors"]), op
        assert entry["devices"], op


def test_an_unknown_argument_is_refused_by_the_schema_as_by_the_server(
        doc: dict[str, Any]) -> None:
    args = schema.validator_for(doc, doc["operations"]["issue"]["args"])
    jsonschema.validate({"services": ["RS01"]}, args)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": ["RS01"], "servcies": ["YB01"]}, args)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({}, args)  # services is required


def test_a_wrong_ticket_in_an_event_is_caught(doc: dict[str, Any]) -> None:
    """The checks used on the live capture can fail: a ticket without its number."""
    ticket = {"id": 1, "number": "A001", "token": "t", "kind": "normal",
              "priority_class": None, "state": "waiting", "issued_at": "x",
              "called_at": None, "counter": None, "transfer_to_counter": None,
              "recalls": 0, "no_shows": 0, "carried_to": None, "waiting_since": "x",
              "items": []}
    validate_event_data(doc, "ticket.issued", {"tickets": [ticket]})
    del ticket["number"]
    with pytest.raises(jsonschema.ValidationError):
        validate_event_data(doc, "ticket.issued", {"tickets": [ticket]})
    with pytest.raises(jsonschema.ValidationError):
        validate_event_data(doc, "ticket.issued", {"tickets": [{**ticket, "number": "A1",
                                                                "state": "lost"}]})
