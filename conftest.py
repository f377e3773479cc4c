"""Real Kafka, PostgreSQL and SMTP for every test directory (hub_shared.testing); the staff
console's OpenID Connect provider and Chromium, started when a test asks (hub_shared.console_testing);
a second ICB beside the demo ICS (hub_shared.organisations_testing)."""

pytest_plugins = ["hub_shared.testing", "hub_shared.console_testing", "hub_shared.organisations_testing"]
