"""The staff console: engagement teams and analysts run the hub from pages, signed in through
their organisation's identity provider. A thin front end: it holds the session and calls the
four services' APIs with the signed-in person's own access token."""

SERVICE_NAME = "console"
