"""feedback-intake: where places and GP practices post feedback."""

SERVICE_NAME = "feedback-intake"
