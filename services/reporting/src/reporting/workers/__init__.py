"""Long-running work besides the API, the consumer and the relay: rebuilding every
projection from the topics (``replay``)."""
