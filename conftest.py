"""Real Kafka, PostgreSQL (and later SMTP) for every test directory: see hub_shared.testing."""

pytest_plugins = ["hub_shared.testing"]
