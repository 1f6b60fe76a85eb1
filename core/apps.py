from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Shared pieces")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.middleware import session_stamp_sign_in

        user_logged_in.connect(session_stamp_sign_in, dispatch_uid="core.session_stamp_sign_in")
