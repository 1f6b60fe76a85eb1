from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from catalog.models import Release, Resource
from departments.models import Department
from rights.models import Grant
from sharing.models import Delivery
from workflow.models import TimelineStep


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
    quality_report = models.ForeignKey(
        "QualityReport",  # defined further down in this module
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes",
        verbose_name=_("quality report"),
    )
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

    def get_absolute_url(self):
        return reverse("disputes:dispute_detail", args=[self.pk])

    @property
    def party_ids(self) -> set[int]:
        return {self.raised_by_department_id, self.respondent_department_id}


class DisputeStep(TimelineStep):
    """One step of a dispute's timeline: raised, statement, escalation, decision, ...

    ``reason`` is the statement or reason in full; the ledger holds only its SHA-256.
    """

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(_("from"), max_length=16, choices=Dispute.State)
    to_state = models.CharField(_("to"), max_length=16, choices=Dispute.State)
    level = models.PositiveSmallIntegerField(_("level"))
    # The inherited reason, under the name a party sees: a statement is a step's reason too.
    reason = models.TextField(_("statement or reason"), blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to=dispute_evidence_upload_to, max_length=300, blank=True
    )
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)

    class Meta:
        ordering = ["dispute_id", "at", "id"]
        verbose_name = _("dispute step")
        verbose_name_plural = _("dispute steps")


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


class QualityReport(models.Model):
    """A department's report of wrong or stale data in a resource, and the owner's answer.

    ``open → acknowledged → answered | resolved → closed``; the reporter may reopen an answered
    or resolved report, which starts a new deadline for the owner.
    """

    class Kind(models.TextChoices):
        WRONG_VALUE = "wrong_value", _("Wrong value")
        MISSING = "missing", _("Missing data")
        STALE = "stale", _("Out of date")
        SCHEMA_MISMATCH = "schema_mismatch", _("Does not match the data items")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ANSWERED = "answered", _("Answered")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="quality_reports")
    reporting_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="quality_reports_filed"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quality_reports_filed"
    )
    kind = models.CharField(_("kind of problem"), max_length=16, choices=Kind)
    item = models.CharField(_("data item"), max_length=63, blank=True)
    # Line numbers in the release file (the header is line 1), as the release report counts them.
    lines = models.JSONField(_("example lines"), default=list, blank=True)
    release = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("release reported on"),
    )
    description = models.TextField(_("description"))
    answer = models.TextField(_("owner's answer"), blank=True)
    resolution_release = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("correcting release"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.OPEN, editable=False
    )
    due_date = models.DateField(_("due"), null=True, blank=True, editable=False)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["resource", "state"], name="quality_resource_state"),
            models.Index(fields=["state", "due_date"], name="quality_state_due"),
            models.Index(fields=["reporting_department", "-created_at"], name="quality_dept"),
        ]
        verbose_name = _("quality report")
        verbose_name_plural = _("quality reports")

    def __str__(self):
        return f"Quality report #{self.pk} {self.resource.identifier}"

    def get_absolute_url(self):
        return reverse("governance:quality_detail", args=[self.pk])


class QualityReportStep(TimelineStep):
    """One step of a quality report's timeline: who did what, when, and why."""

    report = models.ForeignKey(QualityReport, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(_("from"), max_length=16, choices=QualityReport.State)
    to_state = models.CharField(_("to"), max_length=16, choices=QualityReport.State)

    class Meta:
        ordering = ["report_id", "at", "id"]
        verbose_name = _("quality report step")
        verbose_name_plural = _("quality report steps")


class ResourceFreshness(models.Model):
    """Whether a published resource's newest release is older than its update cycle.

    Kept by the periodic task ``catalog.tasks.flag_stale_resources``; a row of its own so the
    catalog entry itself is not rewritten (nor its version history) by a clock.
    """

    resource = models.OneToOneField(
        Resource, on_delete=models.CASCADE, primary_key=True, related_name="freshness"
    )
    stale = models.BooleanField(_("stale"), default=False)
    stale_since = models.DateTimeField(_("stale since"), null=True, blank=True)
    newest_release_at = models.DateTimeField(_("newest release"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["stale"], name="freshness_stale")]
        verbose_name = _("resource freshness")
        verbose_name_plural = _("resource freshness")

    def __str__(self):
        return f"{self.resource_id}: {'stale' if self.stale else 'fresh'}"


class Demand(models.Model):
    """Data a department needs that the catalog lacks: the demand list.

    ``submitted → routed → answered | declined``; the office routes (and may route again), the
    department it is routed to answers with a resource or declines; the filer may withdraw.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for routing")
        ROUTED = "routed", _("Routed to a likely owner")
        ANSWERED = "answered", _("Answered with a resource")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    requesting_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="demands_filed"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="demands_filed"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what data is needed"))
    purpose = models.TextField(_("purpose"))
    legal_basis = models.TextField(_("legal basis"))
    items = models.JSONField(_("data items wanted"), default=list)
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.SUBMITTED, editable=False
    )
    routed_to = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands_routed",
        verbose_name=_("likely owner"),
        editable=False,
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("answering resource"),
        editable=False,
    )
    answer = models.TextField(_("answer"), blank=True, editable=False)
    due_date = models.DateField(_("due"), null=True, blank=True, editable=False)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Title, description and items, lower-cased: what the word search of similar demands reads.
    search_text = models.TextField(editable=False, default="")
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_date"], name="demand_state_due"),
            models.Index(fields=["routed_to", "state"], name="demand_routed"),
            models.Index(fields=["requesting_department", "-created_at"], name="demand_dept"),
        ]
        verbose_name = _("demand")
        verbose_name_plural = _("demand list")

    def __str__(self):
        return f"Demand #{self.pk} {self.title}"

    def get_absolute_url(self):
        return reverse("governance:demand_detail", args=[self.pk])


class DemandSupporter(models.Model):
    """Another department that needs the same data and joined the demand instead of filing."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="supporters")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="demands_joined"
    )
    joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.TextField(_("purpose"), blank=True)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["demand_id", "joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "department"], name="demand_supporter_once")
        ]
        verbose_name = _("supporting department")
        verbose_name_plural = _("supporting departments")

    def __str__(self):
        return f"{self.department.code} joins demand #{self.demand_id}"


class DemandStep(TimelineStep):
    """One step of a demand's timeline: who did what, when, and why."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(_("from"), max_length=16, choices=Demand.State)
    to_state = models.CharField(_("to"), max_length=16, choices=Demand.State)

    class Meta:
        ordering = ["demand_id", "at", "id"]
        verbose_name = _("demand step")
        verbose_name_plural = _("demand steps")
