pytest_plugins = ["hub_shared.testing"]
