"""The periodic jobs as their seed migration writes them, for tests whose database was flushed.

A transactional test empties every table when it ends, the rows migrations wrote included; a
test that needs the jobs (a real beat, a scheduler) writes them again with the migration's own
function, so the tests use the one seed list there is.
"""

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

_migration = importlib.import_module("govshare.migrations.0001_beat_schedule")


def beat_schedule_seed():
    """The seeded jobs, where they are missing (existing ones are kept as they are)."""
    _migration.seed_schedule(apps, SimpleNamespace(connection=connection))
