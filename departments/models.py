from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
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

    def __str__(self) -> str:
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

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.department.code}"


class Profile(models.Model):
    """What a person chose for themselves: the language of their pages, emails and
    notifications (empty: the browser's Accept-Language, then the default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"), max_length=16, choices=settings.LANGUAGES, blank=True, default=""
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)
