"""The staff console: engagement teams and analysts run the hub from pages, signed in through
their organisation's identity provider. A thin front end: it holds the session and calls the
four services' APIs with the signed-in person's own access token."""

import warnings

import authlib.deprecate

SERVICE_NAME = "console"

# Authlib 1.9 prefers the new httpx2 package and warns (always: its own filter, set when
# authlib.deprecate is imported) when it falls back to httpx, which works.
warnings.filterwarnings(
    "ignore", message="The httpx module is deprecated", category=authlib.deprecate.AuthlibDeprecationWarning
)
