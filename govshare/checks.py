from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.database, deploy=True)
def production_services_check(app_configs, **kwargs):
    """Warn when a production deployment still runs on the quick-start services."""
    warnings = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(
            Warning(
                "DATABASE_URL points at SQLite.",
                hint="Production runs on PostgreSQL: set DATABASE_URL=postgresql://...",
                id="govshare.W001",
            )
        )
    if settings.CELERY_BROKER_URL.split(":", 1)[0] in {"filesystem", "memory"}:
        warnings.append(
            Warning(
                "CELERY_BROKER_URL uses a development broker.",
                hint="Production uses Redis: set CELERY_BROKER_URL=redis://...",
                id="govshare.W002",
            )
        )
    return warnings
