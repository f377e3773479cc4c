"""notification: email invitations and 'you said, we did' messages to patient partners."""

SERVICE_NAME = "notification"
