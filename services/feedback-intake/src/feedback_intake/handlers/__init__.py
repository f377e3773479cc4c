"""The business logic of intake: one function per command or event, grouped by what they
act on. HTTP routes and Kafka consumers both call these; none of them commits (the
caller's unit of work does)."""
