"""membership: patient partners, consent, groups, opportunities and invitations."""

SERVICE_NAME = "membership"
