from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from catalog.models import Method
from departments.models import Department
from workflow.models import TimelineStep


class Grant(models.Model):
    """The usage right: what an approval allows the grantee department to do, as approved.

    Everything the grant allows is a snapshot taken at approval, so a later change to the catalog
    entry or the request never widens it.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    request = models.OneToOneField(
        "access_requests.Request", on_delete=models.PROTECT, related_name="grant"
    )
    grantee_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="grants_held"
    )
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.PROTECT, related_name="grants"
    )
    resource_version = models.PositiveIntegerField(_("resource version at approval"))
    fields = models.JSONField(_("approved data items"))
    purpose = models.TextField(_("purpose"))
    legal_basis = models.JSONField(_("legal basis"))
    method = models.CharField(_("sharing method"), max_length=16)
    frequency = models.CharField(_("frequency"), max_length=16, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    max_records_per_day = models.PositiveIntegerField(
        _("records per day (limit)"), null=True, blank=True
    )
    max_calls_per_day = models.PositiveIntegerField(
        _("calls per day (limit)"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.ACTIVE, editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    # When both departments had signed the grant's data-sharing agreement (standards app); while
    # settings.GRANT_AGREEMENT_REQUIRED, the grant's data may be used only once this is set.
    agreement_signed_at = models.DateTimeField(
        _("agreement signed by both"), null=True, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="grant_status_until"),
            models.Index(fields=["grantee_department", "status"], name="grant_grantee"),
            # The API's list (grantee, owner or management-right holder: an OR), newest first:
            # walked in order, the visibility checked on each row, instead of a sort of them all.
            models.Index(fields=["-created_at", "-id"], name="grant_created"),
            # "My department's grants", newest first: read in order, no sort.
            models.Index(
                fields=["grantee_department", "-created_at", "-id"], name="grant_grantee_created"
            ),
        ]
        permissions = [("use_grant", _("Can use the grant (receive its data)"))]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self) -> str:
        return f"Grant #{self.pk} {self.grantee_department.code} ← {self.resource.identifier}"

    def get_absolute_url(self) -> str:
        return reverse("grants:grant_detail", args=[self.pk])

    @property
    def method_label(self) -> str:
        """The sharing method in words, in the active language ("Real-time interface")."""
        return str(dict(Method.choices).get(self.method, self.method))


class GrantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)


class GrantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)


class GrantEvent(TimelineStep):
    """One step in a grant's life (granted, suspended, resumed, revoked, expired) with its full
    reason."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(_("from"), max_length=16, choices=Grant.Status)
    to_state = models.CharField(_("to"), max_length=16, choices=Grant.Status)

    class Meta:
        ordering = ["grant_id", "at", "id"]
        verbose_name = _("grant event")
        verbose_name_plural = _("grant events")


class GrantUsage(models.Model):
    """Allowed real-time calls and result-only checks of a grant on one day, and the records they
    returned: what the daily volume limits count. Kept in step with the access log (each allowed
    call adds to both in one transaction); its row lock makes a limit exact under concurrent calls.
    """

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField(_("day"))
    action = models.CharField(_("action"), max_length=32)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    records = models.BigIntegerField(_("records returned"), default=0)

    class Meta:
        ordering = ["grant_id", "-day", "action"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "day", "action"], name="grant_usage_once")
        ]
        verbose_name = _("grant usage")
        verbose_name_plural = _("grant usage")

    def __str__(self) -> str:
        return f"grant {self.grant_id} {self.day} {self.action}: {self.calls} calls"


# --- Disputes and end-of-use attestations (issue 6) -----------------------------------------


class Attestation(models.Model):
    """End of use: the grantee attests that delivered copies were deleted or returned.

    Opened for every grant that ended (revoked or expired), due a number of working days later.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting attestation")
        ATTESTED = "attested", _("Attested")

    class Kind(models.TextChoices):
        DELETED = "deleted", _("Copies deleted")
        RETURNED = "returned", _("Copies returned")

    grant = models.OneToOneField(Grant, on_delete=models.PROTECT, related_name="attestation")
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.PENDING, editable=False
    )
    due_date = models.DateField(_("due"))
    kind = models.CharField(_("what was done"), max_length=16, choices=Kind, blank=True)
    statement = models.TextField(_("statement"), blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    attested_at = models.DateTimeField(_("attested"), null=True, blank=True, editable=False)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "due_date"], name="attestation_state_due")]
        verbose_name = _("end-of-use attestation")
        verbose_name_plural = _("end-of-use attestations")

    def __str__(self) -> str:
        return f"Attestation #{self.pk} for grant {self.grant_id}"

    def get_absolute_url(self) -> str:
        return reverse("attestations:attestation_detail", args=[self.pk])
