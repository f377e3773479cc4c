"""People's pages: the dashboard for reporting consumers (``dashboard``) and the assets it
and /docs are served with (``assets``)."""
