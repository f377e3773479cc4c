from alembic import context

from hub_shared.migrations import run_env

run_env(context)
