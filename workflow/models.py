from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimelineStep(models.Model):
    """One step on an object's timeline: who did what, when, for which department, and why.

    Concrete timelines add the link to their object and ``from_state``/``to_state`` with their
    own choices. ``ledger_index`` points at the step's ledger entry, when it has one.
    """

    action = models.CharField(_("action"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, null=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} → {self.to_state}"  # type: ignore[attr-defined]
