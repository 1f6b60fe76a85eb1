from django.apps import AppConfig


class GovshareConfig(AppConfig):
    name = "govshare"
    verbose_name = "govshare"

    def ready(self):
        from govshare import checks  # noqa: F401  (registers the system checks)
