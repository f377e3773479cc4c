"""The console's pages, one module per area (``router`` in each); ``main`` includes them all."""
