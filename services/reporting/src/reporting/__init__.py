"""reporting: read models built only from events, for ICS reporting consumers."""

SERVICE_NAME = "reporting"
