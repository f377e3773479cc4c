"""One function per command or event: the business logic, called by the API, the pages
and the consumer alike. Handlers stage changes and events; callers commit."""
