import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from departments.models import Department

identifier_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$",
    _("Use 2 to 64 letters, digits, dots, dashes or underscores."),
)
# Item names become column names of the release table, so they are plain SQL identifiers.
item_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$",
    _("Use lower-case letters, digits and underscores, starting with a letter (max 63)."),
)


class SharingType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Unconditional")
    CONDITIONAL = "conditional", _("Conditional")
    NOT_SHAREABLE = "not_shareable", _("Not shareable")


class Method(models.TextChoices):
    PERIODIC_COPY = "periodic_copy", _("Periodic copy")
    UPLOAD = "upload", _("Upload")
    REALTIME = "realtime", _("Real-time interface")
    RESULT_ONLY = "result_only", _("Result-only feedback")


class Resource(models.Model):
    """A catalog entry: what the owning department publishes about one data set."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    class UpdateCycle(models.TextChoices):
        REALTIME = "realtime", _("Real time")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")
        IRREGULAR = "irregular", _("Irregular")

    identifier = models.CharField(
        _("identifier"), max_length=64, unique=True, validators=[identifier_validator]
    )
    title = models.CharField(_("title"), max_length=200)
    abstract = models.TextField(_("abstract"))
    classification = models.CharField(_("classification"), max_length=120, blank=True)
    owner_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="owned_resources",
        verbose_name=_("owning department"),
    )
    management_right_holder = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="managed_resources",
        verbose_name=_("holder of the shared-management right"),
    )
    format = models.CharField(_("format"), max_length=32, default="CSV")
    sharing_type = models.CharField(_("sharing type"), max_length=16, choices=SharingType)
    sharing_conditions = models.TextField(_("sharing conditions"), blank=True)
    not_shareable_reason = models.TextField(_("reason it is not shareable"), blank=True)
    not_shareable_law = models.CharField(_("law that forbids sharing"), max_length=300, blank=True)
    # One column per method keeps filtering portable and index-friendly on SQLite and PostgreSQL.
    allows_periodic_copy = models.BooleanField(_("periodic copy"), default=False)
    allows_upload = models.BooleanField(_("upload"), default=False)
    allows_realtime = models.BooleanField(_("real-time interface"), default=False)
    allows_result_only = models.BooleanField(_("result-only feedback"), default=False)
    collection_legal_basis = models.TextField(_("legal basis for collection"))
    update_cycle = models.CharField(_("update cycle"), max_length=16, choices=UpdateCycle)
    related_resources = models.ManyToManyField(
        "self", blank=True, symmetrical=False, verbose_name=_("related resources")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.DRAFT, editable=False
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Title, identifier, abstract, classification and data items, kept by the services; full-text
    # indexed on PostgreSQL (see migration 0002).
    search_text = models.TextField(editable=False, default="")
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["status", "title", "id"], name="resource_status_title"),
            # The catalog's order for a steward, whose list is "published or my drafts": walked
            # in order with the filter read from the index (PostgreSQL: an index-only scan).
            models.Index(
                fields=["title", "id"],
                name="resource_title",
                include=["status", "owner_department"],
            ),
            models.Index(fields=["owner_department", "status"], name="resource_owner_status"),
        ]
        permissions = [
            ("publish_resource", _("Can publish or retire the resource")),
            ("upload_release", _("Can upload releases of the resource")),
        ]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self):
        return f"{self.identifier} — {self.title}"

    def get_absolute_url(self):
        return reverse("catalog:resource_detail", args=[self.pk])

    METHOD_FIELDS = {
        Method.PERIODIC_COPY: "allows_periodic_copy",
        Method.UPLOAD: "allows_upload",
        Method.REALTIME: "allows_realtime",
        Method.RESULT_ONLY: "allows_result_only",
    }

    @property
    def methods(self):
        return [m.value for m, field in self.METHOD_FIELDS.items() if getattr(self, field)]

    def get_methods_display(self):
        return [m.label for m, field in self.METHOD_FIELDS.items() if getattr(self, field)]


class DataItem(models.Model):
    class Type(models.TextChoices):
        STRING = "string", _("Text")
        INTEGER = "integer", _("Integer")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date (YYYY-MM-DD)")
        BOOLEAN = "boolean", _("Yes/no")

    class Sensitivity(models.TextChoices):
        PUBLIC = "public", _("Public")
        INTERNAL = "internal", _("Internal")
        PERSONAL = "personal", _("Personal")
        SENSITIVE = "sensitive", _("Sensitive")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="data_items")
    name = models.CharField(_("name"), max_length=63, validators=[item_name_validator])
    type = models.CharField(_("type"), max_length=16, choices=Type)
    description = models.CharField(_("description"), max_length=500, blank=True)
    sensitivity = models.CharField(_("sensitivity"), max_length=16, choices=Sensitivity)
    required = models.BooleanField(_("required"), default=False)
    lookup_key = models.BooleanField(
        _("lookup key"),
        default=False,
        help_text=_("Indexed in every release, for fast real-time and result-only lookups."),
    )
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["resource_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "name"], name="data_item_unique_name")
        ]
        indexes = [models.Index(fields=["sensitivity", "resource"], name="data_item_sensitivity")]
        verbose_name = _("data item")
        verbose_name_plural = _("data items")

    def __str__(self):
        return self.name


def release_upload_to(release, filename):
    return f"releases/{release.resource_id}/{release.sequence:05d}-{release.sha256[:16]}.csv"


class Release(models.Model):
    """An accepted upload. Its rows live in a typed table of their own (``table_name``)."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="releases")
    sequence = models.PositiveIntegerField(_("release number"))
    file = models.FileField(_("file"), upload_to=release_upload_to, max_length=300)
    original_name = models.CharField(_("original file name"), max_length=255)
    size_bytes = models.BigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    row_count = models.BigIntegerField(_("rows"))
    # The data items as they were when the release was accepted: the table's schema.
    columns = models.JSONField(_("columns"))
    report = models.JSONField(_("validation report"))
    table_name = models.CharField(max_length=63, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["resource_id", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "sequence"], name="release_unique_sequence")
        ]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    def __str__(self):
        return f"{self.resource.identifier} release {self.sequence}"

    @property
    def column_names(self):
        return [column["name"] for column in self.columns]


# Direct foreign keys instead of guardian's generic tables: joins stay indexed on hot tables.
class ResourceUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Resource, on_delete=models.CASCADE)


class ResourceGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Resource, on_delete=models.CASCADE)


def upload_job_file_to(job: "ReleaseUpload", filename: str) -> str:
    # A folder of its own per upload, named by a random token (the row has no id yet); the
    # file and the folder are removed when the job ends (catalog/release_uploads.py).
    return f"release-uploads/{uuid.uuid4().hex}/upload.csv"


class ReleaseUpload(models.Model):
    """A release file waiting for, or going through, the check and load in a worker.

    The worker updates ``rows_checked`` and ``problems_so_far`` while it reads, and ``progress_at``
    as its heartbeat (see ``catalog.release_uploads``); the page and its JSON status read them.
    When the job ends it holds the release it became, or the refusal report (or the error), and
    the file is gone.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to be checked")
        RUNNING = "running", _("Being checked and loaded")
        SUCCEEDED = "succeeded", _("Accepted")
        FAILED = "failed", _("Not accepted")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.QUEUED, editable=False
    )
    file = models.FileField(_("file"), upload_to=upload_job_file_to, max_length=300, blank=True)
    original_name = models.CharField(_("original file name"), max_length=255)
    size_bytes = models.BigIntegerField(_("size in bytes"))
    # Records in the file: lines counted before the check (less the header), then the real count.
    rows_total = models.BigIntegerField(_("rows in the file"), null=True, blank=True)
    rows_checked = models.BigIntegerField(_("rows checked"), default=0)
    problems_so_far = models.PositiveIntegerField(_("problems found"), default=0)
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    report = models.JSONField(_("validation report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    progress_at = models.DateTimeField(_("progress updated"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Claims so far (the sweep sends a job whose worker stopped again, up to a bound); a worker
    # finishes a job only while the attempt it claimed is still the job's current one.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the task was last sent: the sweep sends a queued job again once this is stale.
    enqueued_at = models.DateTimeField(_("sent to a worker"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release upload")
        verbose_name_plural = _("release uploads")

    def __str__(self) -> str:
        return f"Upload #{self.pk} of resource {self.resource_id} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:release_upload_detail", args=[self.resource_id, self.pk])

    @property
    def finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


# --- the governance loop: quality reports, freshness and the demand list ------------------------
# Services: catalog/governance_services.py; reads: catalog/governance_selectors.py.
