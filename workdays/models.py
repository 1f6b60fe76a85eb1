from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ReviewPolicy(models.Model):
    """The office's settings for the workflow; one row, edited in admin."""

    owner_review_days = models.PositiveSmallIntegerField(
        _("owner review (working days)"), default=5, validators=[MinValueValidator(1)]
    )
    office_review_days = models.PositiveSmallIntegerField(
        _("office review (working days)"), default=5, validators=[MinValueValidator(1)]
    )
    max_validity_days = models.PositiveIntegerField(
        _("longest validity period of a grant (days)"),
        default=366,
        validators=[MinValueValidator(1)],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review policy")
        verbose_name_plural = _("review policy")

    def __str__(self) -> str:
        return str(_("Review policy"))

    @classmethod
    def current(cls) -> "ReviewPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Holiday(models.Model):
    """A non-working day; deadlines in working days skip these and weekends."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holiday calendar")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
