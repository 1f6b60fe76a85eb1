"""The periodic jobs as their seed migration writes them, for tests whose database was flushed.

A transactional test empties every table when it ends, the rows migrations wrote included; a
test that needs the jobs (a real beat, a scheduler) writes them again with the migration's own
functions, so the tests use the one seed list there is.
"""

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

# Every migration that seeds jobs, in order.
_migrations = [
    importlib.import_module(f"govshare.migrations.{name}")
    for name in ("0001_beat_schedule", "0002_release_uploads_sweep")
]


def beat_schedule_seed():
    """The seeded jobs, where they are missing (existing ones are kept as they are)."""
    for migration in _migrations:
        migration.seed_schedule(apps, SimpleNamespace(connection=connection))
