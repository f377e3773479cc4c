"""The sending worker (``delivery``), what it puts into each email (``compose``) and how it
speaks to the SMTP relay (``smtp``)."""
