from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = _("Departments and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from departments.middleware import on_login

        user_logged_in.connect(on_login, dispatch_uid="departments.language_on_login")
