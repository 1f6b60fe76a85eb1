from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessRequestsConfig(AppConfig):
    # The package is not called ``requests``: that name would shadow the PyPI library for every
    # import in the process (see README, "Layout").
    name = "access_requests"
    label = "access_requests"
    verbose_name = _("Requests")
