"""AsyncAPI documents: FastStream generates them from the brokers; consumers decode raw
bytes themselves (so poison can be dead-lettered), which FastStream documents as an
opaque payload. This fills in the CloudEvents envelope and the data schema they expect."""

from typing import Any

from pydantic import BaseModel


def cloudevent_schema(event_type: str, data: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    data_schema = data.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(data_schema.pop("$defs", {}))
    return {
        "title": f"{event_type} (CloudEvents 1.0, structured JSON)",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "tenant", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "Unique per event: the deduplication key"},
            "source": {"type": "string", "description": "The sending system"},
            "type": {"const": event_type},
            "subject": {"type": "string", "description": "The aggregate id; also the Kafka message key"},
            "time": {"type": "string", "format": "date-time"},
            "tenant": {"type": "string", "description": "ODS code of the organisation the event belongs to"},
            "correlationid": {"type": "string", "description": "Follows the work through every service"},
            "data": data_schema,
        },
    }


def describe_consumed(spec: dict[str, Any], subscriber: str, event_type: str, data: type[BaseModel]) -> None:
    """Replace a subscriber's opaque payload with the envelope and data schema it accepts."""
    schemas = spec["components"]["schemas"]
    schemas[f"{subscriber}:Message:Payload"] = cloudevent_schema(event_type, data, schemas)
