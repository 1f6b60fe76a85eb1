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

    def __str__(self):
        return f"grant {self.grant_id} {self.day} {self.action}: {self.calls} calls"


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


# --- Disputes and end-of-use attestations (issue 6) -----------------------------------------


def dispute_evidence_upload_to(step, filename):
    return f"disputes/{step.dispute_id}/evidence/{filename}"


class Dispute(models.Model):
    """A disagreement between two departments about one grant, delivery, refusal or quality report.

    The two parties are fixed when it is raised. Level 1 is negotiation between them, level 2 a
    decision of the data management office, level 3 the supervising authority's decision, which
    the office records as final.
    """

    class SubjectKind(models.TextChoices):
        GRANT = "grant", _("Grant")
        DELIVERY = "delivery", _("Delivery")
        REFUSAL = "refusal", _("Refusal (a rejected request)")
        QUALITY_REPORT = "quality_report", _("Quality report")

    class State(models.TextChoices):
        NEGOTIATION = "negotiation", _("Negotiation between the departments")
        OFFICE_REVIEW = "office_review", _("Escalated to the management office")
        DECIDED = "decided", _("Decided by the management office")
        AUTHORITY_REVIEW = "authority_review", _("Escalated to the supervising authority")
        SETTLED = "settled", _("Settled by agreement")
        CLOSED = "closed", _("Final decision recorded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    subject_kind = models.CharField(_("what is disputed"), max_length=16, choices=SubjectKind)
    grant = models.ForeignKey(
        Grant, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    request = models.ForeignKey(
        "access_requests.Request",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes",
    )
    # catalog.QualityReport is referred to by id only: rights must not depend on catalog models.
    quality_report_id = models.PositiveBigIntegerField(_("quality report"), null=True, blank=True)
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.PROTECT, related_name="disputes"
    )
    raised_by_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="disputes_raised"
    )
    respondent_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="disputes_answered"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_raised"
    )
    disputed = models.TextField(_("what is disputed"))
    asked = models.TextField(_("what is asked"))
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.NEGOTIATION, editable=False
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1, editable=False)
    due_date = models.DateField(_("due"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_date"], name="dispute_state_due"),
            models.Index(fields=["raised_by_department", "-created_at"], name="dispute_raiser"),
            models.Index(fields=["respondent_department", "-created_at"], name="dispute_resp"),
        ]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self):
        return (
            f"Dispute #{self.pk} {self.raised_by_department.code} / "
            f"{self.respondent_department.code} ({self.subject_kind})"
        )

    @property
    def party_ids(self):
        return {self.raised_by_department_id, self.respondent_department_id}


class DisputeStep(models.Model):
    """One step of a dispute's timeline: raised, statement, escalation, decision, ...

    ``text`` is the statement or reason in full; the ledger holds only its SHA-256.
    """

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=16, choices=Dispute.State)
    to_state = models.CharField(_("to"), max_length=16, choices=Dispute.State)
    level = models.PositiveSmallIntegerField(_("level"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, related_name="+"
    )
    text = models.TextField(_("statement or reason"), blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to=dispute_evidence_upload_to, max_length=300, blank=True
    )
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)

    class Meta:
        ordering = ["dispute_id", "at", "id"]
        verbose_name = _("dispute step")
        verbose_name_plural = _("dispute steps")

    def __str__(self):
        return f"{self.action}: {self.from_state} → {self.to_state}"


class DisputeDecision(models.Model):
    """The outcome of one level: an agreement (1), the office's decision (2), or the supervising
    authority's final decision as recorded by the office (3)."""

    class Outcome(models.TextChoices):
        AGREED = "agreed", _("Settled by agreement")
        UPHELD = "upheld", _("Upheld")
        PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
        DISMISSED = "dismissed", _("Dismissed")

    class Order(models.TextChoices):
        NONE = "none", _("No action")
        SUSPEND_GRANT = "suspend_grant", _("Suspend the grant")
        REVOKE_GRANT = "revoke_grant", _("Revoke the grant")
        CORRECT_DATA = "correct_data", _("Correct the data")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="decisions")
    step = models.OneToOneField(
        DisputeStep, on_delete=models.PROTECT, related_name="decision", editable=False
    )
    level = models.PositiveSmallIntegerField(_("level"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    reasons = models.TextField(_("reasons"))
    responsible_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("party held responsible"),
    )
    order = models.CharField(_("order"), max_length=16, choices=Order, default=Order.NONE)
    order_text = models.TextField(_("what is ordered"), blank=True)
    authority = models.CharField(_("supervising authority"), max_length=200, blank=True)
    authority_reference = models.CharField(_("authority's reference"), max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["dispute_id", "level", "id"]
        verbose_name = _("dispute decision")
        verbose_name_plural = _("dispute decisions")

    def __str__(self):
        return f"Dispute #{self.dispute_id} level {self.level}: {self.outcome}"


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

    def __str__(self):
        return f"Attestation #{self.pk} for grant {self.grant_id}"
