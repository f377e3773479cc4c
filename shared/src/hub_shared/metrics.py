"""Prometheus metrics every service exposes at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("hub_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("hub_http_request_seconds", "HTTP request latency", ["method", "route"])
OUTBOX_PUBLISHED = Counter("hub_outbox_published_total", "Outbox rows published to Kafka")
OUTBOX_PUBLISH_FAILURES = Counter("hub_outbox_publish_failures_total", "Outbox relay publish failures")
EVENTS_CONSUMED = Counter("hub_events_consumed_total", "Events consumed", ["consumer", "type", "outcome"])
CONSUMER_PAUSED = Gauge("hub_consumer_paused", "1 while a consumer waits out an unavailable dependency", ["consumer"])
