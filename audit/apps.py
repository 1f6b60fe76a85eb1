from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from audit.signals import record_signin_lockout

        user_locked_out.connect(record_signin_lockout, dispatch_uid="audit.signin_lockout")
