from prometheus_client import Counter

DELIVERY_OUTCOMES = Counter(
    "hub_notification_outcomes_total",
    "Emails by kind and what became of them (delivered, temporary, permanent, unknown, withheld)",
    ["kind", "result"],
)
