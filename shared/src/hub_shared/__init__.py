"""Plumbing shared by every ICS Engagement Hub service. Nothing domain-specific lives here
except the event contracts, which every service must agree on."""
