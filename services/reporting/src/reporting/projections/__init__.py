"""Reporting's read models, built only from events: one module a read model, holding its
event handlers (``on_<event>``) and their writes; ``reporting.consumers`` maps event types
to them, for the live consumer and the replay alike."""
