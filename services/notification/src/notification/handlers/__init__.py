"""The commands of notification's aggregates and the events they consume (``on_<event>``):
``recipients`` (contact cards, confirmation, leaving, erasure, suppression),
``notifications`` (the delivery ledger and what its emails are about), ``unsubscribes``
(one-click unsubscribe) and ``branding`` (an organisation's sign-off, template previews)."""
