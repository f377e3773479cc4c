"""AsyncAPI documents: FastStream generates them from the brokers; consumers decode raw
bytes themselves (so poison can be dead-lettered), which FastStream documents as an
opaque payload, and publishers are described by their data model alone. This makes the
document say what is on the wire: a CloudEvents 1.0 structured JSON envelope whose
``data`` is the event's model, with the correlation id in the envelope's
``correlationid`` attribute (not a Kafka header)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from faststream.specification import AsyncAPI
from pydantic import BaseModel

from hub_shared.consumer import EventConsumer, new_broker
from hub_shared.events import EVENT_TYPES

ENVELOPE = "CloudEvents 1.0, structured JSON; extensions tenant (ODS code) and correlationid."

CORRELATION_ID = {
    "description": "The envelope's correlationid attribute: follows the work through every service",
    "location": "$message.payload#/correlationid",
}


@dataclass(frozen=True)
class Published:
    """One event type a service publishes: its topic, its model, and what keys and carries it."""

    topic: str
    model: type[BaseModel]
    about: str


def document(
    service: str,
    bootstrap_servers: str,
    consumers: Iterable[EventConsumer],
    published: Iterable[Published],
    description: str | None = None,
) -> dict[str, Any]:
    """A service's AsyncAPI document, from the consumers it runs and the events it publishes."""
    broker = new_broker(bootstrap_servers, client_id=service)
    for consumer in consumers:
        consumer.register(broker)
    for event in published:
        event_type = event.model.event_type  # type: ignore[attr-defined]
        broker.publisher(
            event.topic,
            title=event_type,
            description=f"{ENVELOPE} Type {event_type}; {event.about}",
            schema=event.model,
        )
    spec = AsyncAPI(broker, title=f"{service} events", version="1.0.0", description=description).to_specification()
    return spec.to_jsonable()  # type: ignore[no-any-return]


def cloudevent_schema(
    event_type: str, data: type[BaseModel] | dict[str, Any], schemas: dict[str, Any]
) -> dict[str, Any]:
    if isinstance(data, dict):
        data_schema = data
    else:
        data_schema = data.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(data_schema.pop("$defs", {}))
    return {
        "title": f"{event_type} (CloudEvents 1.0, structured JSON)",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "tenant", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1, "description": "Unique per event: the deduplication key"},
            "source": {"type": "string", "minLength": 1, "description": "The sending system"},
            "type": {"const": event_type},
            "subject": {"type": "string", "description": "The aggregate id; also the Kafka message key"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "tenant": {"type": "string", "minLength": 1, "description": "ODS code of the organisation"},
            "correlationid": {"type": "string", "description": "Follows the work through every service"},
            "data": data_schema,
        },
    }


def describe_consumed(
    spec: dict[str, Any],
    subscriber: str,
    event_type: str,
    data: type[BaseModel],
    *,
    headers: dict[str, Any] | None = None,
    examples: list[dict[str, Any]] | None = None,
) -> None:
    """Replace a subscriber's opaque payload with the envelope and data schema it accepts;
    optionally the record headers it requires and examples it accepts."""
    schemas = spec["components"]["schemas"]
    schemas[f"{subscriber}:Message:Payload"] = cloudevent_schema(event_type, data, schemas)
    message = spec["components"]["messages"].get(f"{subscriber}:SubscribeMessage")
    if message is not None:
        if headers is not None:
            message["headers"] = headers
        if examples:
            message["examples"] = examples


def as_cloudevents(spec: dict[str, Any]) -> dict[str, Any]:
    """Every message of the document as it is on the wire: a published message described by
    an event model becomes that event's CloudEvents envelope; every message's correlation id
    is the envelope's ``correlationid``."""
    models = {model.__name__: (event_type, model) for event_type, model in EVENT_TYPES.items()}
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for message in components.get("messages", {}).values():
        message["correlationId"] = dict(CORRELATION_ID)
        ref = message.get("payload", {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if name in models:
            event_type, _ = models[name]
            envelope = f"{name}:CloudEvent"
            schemas[envelope] = cloudevent_schema(event_type, {"$ref": ref}, schemas)
            message["payload"] = {"$ref": f"#/components/schemas/{envelope}"}
    return spec
