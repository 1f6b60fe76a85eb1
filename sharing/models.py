from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rights.models import Grant


def delivery_upload_to(delivery: "Delivery", filename: str) -> str:
    return f"deliveries/{delivery.grant_id}/{filename}"


class Delivery(models.Model):
    """One unit of data handed over under a grant: a period's copy, or a release made available.

    ``period_key`` is unique per grant, so a period is delivered exactly once however often the
    dispatcher or a retried task runs.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="deliveries")
    period_key = models.CharField(_("period"), max_length=40)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    caught_up = models.BooleanField(
        _("caught up"), default=False, help_text=_("Delivered late, after downtime.")
    )
    release = models.ForeignKey(
        "catalog.Release", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.PENDING, editable=False
    )
    file = models.FileField(_("file"), upload_to=delivery_upload_to, max_length=300, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    sha256 = models.CharField(_("data SHA-256"), max_length=64, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    row_count = models.BigIntegerField(_("rows"), null=True, blank=True)
    size_bytes = models.BigIntegerField(_("size in bytes"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    enqueued_at = models.DateTimeField(_("enqueued"), null=True, blank=True)
    retry_at = models.DateTimeField(
        _("next attempt not before"),
        null=True,
        blank=True,
        help_text=_("After a failed attempt: when the sweeper sends the next one."),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("last heartbeat"),
        null=True,
        blank=True,
        help_text=_("A running build updates this every few seconds; a stale one is taken over."),
    )
    # A running build's progress, written with each heartbeat (the total is the release's rows).
    rows_written = models.BigIntegerField(_("rows written"), default=0)
    rows_total = models.BigIntegerField(_("rows to write"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    purged_at = models.DateTimeField(
        _("copy deleted"),
        null=True,
        blank=True,
        help_text=_("The stored copy was deleted under the retention rule; the record stays."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "period_key"], name="delivery_once_per_period")
        ]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="delivery_status")]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"Delivery #{self.pk} grant {self.grant_id} {self.period_key}"
