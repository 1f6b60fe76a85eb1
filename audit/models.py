from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The access log's actions in words (codes stay in the rows and the search).
ACTION_LABELS = {
    "download": _("Download"),
    "records": _("Real-time lookup"),
    "verify": _("Result-only check"),
    "signin_locked": _("Sign-in locked after failed attempts"),
    "signin_unlocked": _("Sign-in unlocked"),
}


class AccessLog(models.Model):
    """Who touched shared data: every download, real-time call, result-only query and view."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        REFUSED = "refused", _("Refused")
        LIMITED = "limited", _("Over a limit")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=32)
    grant = models.ForeignKey(
        "rights.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="accesses"
    )
    target = models.CharField(_("what"), max_length=300)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    records = models.BigIntegerField(_("records returned"), default=0)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["department", "-at"], name="access_dept_at"),
            models.Index(fields=["grant", "-at"], name="access_grant_at"),
        ]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target} {self.outcome}"

    @property
    def action_label(self) -> str:
        label = ACTION_LABELS.get(self.action)
        return str(label) if label is not None else self.action
