"""The data-sharing agreement of each grant (DSGA 2019 s.19) and the two departments' signatures.

The document is generated once, on approval, and never changes: its SHA-256 is in the ledger and
each signature names it. A grant's data may be used once both signatures are in
(``rights.Grant.agreement_signed_at``, while ``settings.GRANT_AGREEMENT_REQUIRED``).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from departments.models import Department


class Agreement(models.Model):
    """A grant's data-sharing agreement: the document as generated and when both had signed."""

    grant = models.OneToOneField("rights.Grant", on_delete=models.PROTECT, related_name="agreement")
    document = models.JSONField(_("document"), editable=False)
    sha256 = models.CharField(_("SHA-256 of the document"), max_length=64, editable=False)
    generated_at = models.DateTimeField(_("generated at"), editable=False)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True, editable=False)
    signed_at = models.DateTimeField(_("signed by both at"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name = _("data-sharing agreement")
        verbose_name_plural = _("data-sharing agreements")

    def __str__(self) -> str:
        return f"Agreement for grant #{self.grant_id}"


class AgreementSignature(models.Model):
    """One department's signature: who signed, for which department and role, over which hash."""

    class Role(models.TextChoices):
        PROVIDER = "provider", _("Provider")
        RECIPIENT = "recipient", _("Recipient")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="signatures")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=Role)
    signed_at = models.DateTimeField(_("signed at"))
    agreement_sha256 = models.CharField(_("SHA-256 signed"), max_length=64)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    # An Ed25519 signature by a department key, when departments have keys (not yet).
    ed25519 = models.CharField(_("Ed25519 signature"), max_length=128, blank=True)
    key_id = models.CharField(_("key id"), max_length=64, blank=True)

    class Meta:
        ordering = ["agreement_id", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "role"], name="agreement_signed_once")
        ]
        verbose_name = _("agreement signature")
        verbose_name_plural = _("agreement signatures")

    def __str__(self) -> str:
        return f"{self.get_role_display()} signature on grant #{self.agreement.grant_id}"
