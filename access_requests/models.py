from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from catalog.models import Method, Resource
from departments.models import Department
from workflow.models import TimelineStep


class LegalBasisKind(models.TextChoices):
    STATUTE = "statute", _("Statute")
    ADMINISTRATIVE_REGULATION = "administrative_regulation", _("Administrative regulation")
    LOCAL_REGULATION = "local_regulation", _("Local regulation")
    COURT_ORDER = "court_order", _("Court or tribunal order")
    CONSENT = "consent", _("Consent of the data subject")
    OTHER = "other", _("Other")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Request(models.Model):
    """A department's request for a usage right on one resource."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        OWNER_REVIEW = "owner_review", _("Owner review")
        OFFICE_REVIEW = "office_review", _("Management review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned for changes")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    requesting_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="requests_filed"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requests_filed"
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="requests")
    purpose = models.TextField(_("purpose"))
    legal_basis_kind = models.CharField(
        _("kind of legal basis"), max_length=32, choices=LegalBasisKind
    )
    legal_basis_citation = models.CharField(_("citation"), max_length=300)
    legal_basis_article = models.CharField(_("article"), max_length=100, blank=True)
    legal_basis_text = models.TextField(_("text of the provision"), blank=True)
    supporting_document = models.FileField(
        _("supporting document"),
        upload_to="requests/documents/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg"])],
    )
    method = models.CharField(_("sharing method"), max_length=16, choices=Method)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.DRAFT, editable=False
    )
    appealed = models.BooleanField(_("appealed"), default=False, editable=False)
    due_date = models.DateField(_("due"), null=True, blank=True, editable=False)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_date"], name="request_state_due"),
            # The API's list (filed by, or submitted to, the user's departments: an OR), newest
            # first: walked in order, the visibility checked on each row, not sorted.
            models.Index(fields=["-created_at", "-id"], name="request_created"),
            # "My department's requests", newest first (the id breaks ties): read in order.
            models.Index(
                fields=["requesting_department", "-created_at", "-id"], name="request_dept_created"
            ),
        ]
        verbose_name = _("request")
        verbose_name_plural = _("requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.requesting_department.code} → {self.resource.identifier}"

    def get_absolute_url(self) -> str:
        return reverse("access_requests:request_detail", args=[self.pk])

    @property
    def legal_basis(self) -> dict[str, str]:
        return {
            "kind": self.legal_basis_kind,
            "citation": self.legal_basis_citation,
            "article": self.legal_basis_article,
            "text": self.legal_basis_text,
        }


class RequestItem(models.Model):
    """A requested data item with the reason it is needed; ``approved`` is set by the decision."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("data item"), max_length=63)
    reason = models.CharField(_("why it is needed"), max_length=500)
    approved = models.BooleanField(_("approved"), null=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["request_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="request_item_unique")
        ]
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")

    def __str__(self) -> str:
        return self.name


class RequestStep(TimelineStep):
    """One step of the timeline: who did what, when, in which role, and why."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(_("from"), max_length=16, choices=Request.State)
    to_state = models.CharField(_("to"), max_length=16, choices=Request.State)

    class Meta:
        ordering = ["request_id", "at", "id"]
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
