"""The Celery application. Tasks are thin: they call services (see STYLE.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")

app = Celery("govshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
