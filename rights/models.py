from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

department_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9_]{1,31}$",
    _("Use 2 to 32 capital letters, digits or underscores, starting with a letter."),
)


class Department(models.Model):
    class Kind(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary department")
        OFFICE = "office", _("Data management office")
        AGENCY = "agency", _("Third-party agency")

    code = models.CharField(
        _("code"), max_length=32, unique=True, validators=[department_code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.ORDINARY)
    # Object permissions go to this group, so a right held by a department is held by all its
    # members; roles (Membership) then say what each member may do with it.
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="department", editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return f"{self.code} — {self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        REQUESTER = "requester", _("Requester")
        STEWARD = "steward", _("Data steward")
        REVIEWER = "reviewer", _("Reviewer (office)")
        AUDITOR = "auditor", _("Auditor")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["department__code", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="membership_unique_role"
            )
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.department.code}"


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
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="grant_status_until"),
            models.Index(fields=["grantee_department", "status"], name="grant_grantee"),
        ]
        permissions = [("use_grant", _("Can use the grant (receive its data)"))]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self):
        return f"Grant #{self.pk} {self.grantee_department.code} ← {self.resource.identifier}"


class GrantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)


class GrantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)


class GrantEvent(models.Model):
    """One step in a grant's life (suspended, resumed, revoked, expired) with its full reason."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(_("from"), max_length=16, choices=Grant.Status)
    to_status = models.CharField(_("to"), max_length=16, choices=Grant.Status)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["grant_id", "at", "id"]
        verbose_name = _("grant event")
        verbose_name_plural = _("grant events")

    def __str__(self):
        return f"{self.action}: {self.from_status} → {self.to_status}"


def delivery_upload_to(delivery, filename):
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
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "period_key"], name="delivery_once_per_period")
        ]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="delivery_status")]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self):
        return f"Delivery #{self.pk} grant {self.grant_id} {self.period_key}"
