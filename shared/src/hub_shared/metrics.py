"""Prometheus metrics every service exposes at /metrics."""

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("hub_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("hub_http_request_seconds", "HTTP request latency", ["method", "route"])
OUTBOX_PUBLISHED = Counter("hub_outbox_published_total", "Outbox rows published to Kafka")
OUTBOX_PUBLISH_FAILURES = Counter("hub_outbox_publish_failures_total", "Outbox relay publish failures")
EVENTS_CONSUMED = Counter("hub_events_consumed_total", "Events consumed", ["consumer", "type", "outcome"])
