"""The data-sharing agreement of each grant (DSGA 2019 s.19): generated on approval, signed by
both departments, and the moment the grant's data may be used.

- ``agreement_document`` builds the document (the contract with the renderer,
  standards/agreement_render.py): language-neutral, fixed clauses as codes, people's text as typed.
- ``agreement_generate`` (the ``grant_created`` hook) stores it and records its SHA-256.
- ``agreement_sign``: a steward of the owning department signs as the provider, a requester of
  the grantee department as the recipient; the second signature makes the grant usable
  (``rights.services.grant_agreement_record``).
- ``agreements_remind_unsigned`` (daily): whoever has not signed is told, once a day at most.
"""

import datetime
import hashlib
from typing import Any

import rfc8785
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import DataItem
from core.exceptions import IllegalTransition
from departments.models import Department, Membership
from departments.permissions import is_requester_for, is_steward_of
from departments.selectors import members_with_roles
from ledger.services import ledger_append
from notifications.services import Localized, notify
from rights.attestations import DUE_WORKING_DAYS
from rights.models import Grant
from rights.services import grant_agreement_record
from standards import vocab
from standards.models import Agreement, AgreementSignature
from workdays.models import ReviewPolicy

FORMAT = "govshare-dsa/1"
BREACH_NOTICE_HOURS = 24
SECURITY_MEASURES = ["tls", "access_log", "ledger", "least_items", "role_access"]
# The portal's three levels (governance/services/disputes.py): the parties negotiate, the office
# decides, the supervising authority's decision is recorded as final.
DISPUTE_LEVELS = ["negotiation", "office_decision", "authority_decision"]
ENDED = (Grant.Status.REVOKED, Grant.Status.EXPIRED)
Role = AgreementSignature.Role
# Who signs for each role, and the membership role they need in that department.
SIGNING_ROLES: dict[str, str] = {
    Role.PROVIDER: Membership.Role.STEWARD,
    Role.RECIPIENT: Membership.Role.REQUESTER,
}


def _party(department: Department, function: str) -> dict[str, str]:
    return {
        "code": department.code,
        "name": department.name,
        "uri": vocab.department_uri(department.code),
        "function": function,
    }


def _iso_seconds(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat()


def agreement_document(grant: Grant, *, generated_at: datetime.datetime) -> dict[str, Any]:
    """The agreement as data (dsa-document.md): what the grant and its request say, at approval.

    Data items are the approved ones only, in the grant's order; the legal basis, purpose and
    limits are the grant's snapshot, so a later change to the catalog entry changes nothing here.
    """
    resource = grant.resource
    items = {item.name: item for item in DataItem.objects.filter(resource=resource)}
    basis = grant.legal_basis or {}
    return {
        "format": FORMAT,
        "uri": vocab.agreement_uri(grant.pk),
        "grant": grant.pk,
        "request": grant.request_id,
        "request_reference": str(grant.request_id),
        "generated_at": _iso_seconds(generated_at),
        "parties": {
            "provider": _party(resource.owner_department, "provider"),
            "recipient": _party(grant.grantee_department, "recipient"),
            "management": _party(resource.management_right_holder, "management"),
        },
        "resource": {
            "identifier": resource.identifier,
            "title": resource.title,
            "version": grant.resource_version,
            "uri": vocab.dataset_uri(resource.identifier),
        },
        "purpose": grant.purpose,
        "data_items": [
            {
                "name": name,
                "type": items[name].type if name in items else "",
                "description": items[name].description if name in items else "",
                "sensitivity": items[name].sensitivity if name in items else "",
            }
            for name in grant.fields
        ],
        "legal_basis": {key: basis.get(key, "") for key in ("kind", "citation", "article")},
        "method": grant.method,
        "frequency": grant.frequency or "",
        "limits": {
            "max_records_per_day": grant.max_records_per_day,
            "max_calls_per_day": grant.max_calls_per_day,
        },
        "security_measures": list(SECURITY_MEASURES),
        "retention": {
            "until": grant.valid_until.isoformat(),
            "end_of_use": "delete_or_return",
            "attestation_days": DUE_WORKING_DAYS,
        },
        "breach_and_disputes": {
            "breach_notice_hours": BREACH_NOTICE_HOURS,
            "dispute_levels": list(DISPUTE_LEVELS),
            # The deadlines in force when it was made: the wording never changes after signing.
            "negotiation_days": settings.DISPUTE_NEGOTIATION_DAYS,
            "office_decision_days": ReviewPolicy.current().office_review_days,
        },
        "variation": {
            "vary": "new_request",
            "renew": "renewal_request",
            "end": ["expiry", "revocation", "suspension"],
        },
        "period": {"from": grant.valid_from.isoformat(), "until": grant.valid_until.isoformat()},
    }


def document_sha256(document: dict[str, Any]) -> str:
    """The SHA-256 of the document's canonical JSON (RFC 8785), as the ledger hashes entries."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _parties(grant: Grant) -> list[Department]:
    resource = grant.resource
    return [resource.owner_department, grant.grantee_department, resource.management_right_holder]


def agreement_generate(*, grant: Grant, actor: Any) -> Agreement:
    """Generate and store the grant's agreement and record its SHA-256 in the ledger, once.

    The ``grant_created`` hook: runs inside the approval's transaction. A grant that already has
    an agreement keeps it (its document never changes).
    """
    existing = Agreement.objects.filter(grant=grant).first()
    if existing is not None:
        return existing
    now = timezone.now().replace(microsecond=0)
    document = agreement_document(grant, generated_at=now)
    agreement = Agreement(
        grant=grant, document=document, sha256=document_sha256(document), generated_at=now
    )
    agreement._history_user = actor  # type: ignore[attr-defined]
    agreement._change_reason = "generated"  # type: ignore[attr-defined]
    agreement.save()
    entry = ledger_append(
        event="agreement.generated",
        actor=actor,
        departments=_parties(grant),
        subject={"agreement": agreement.pk, "grant": grant.pk, "request": grant.request_id},
        hashes={"agreement_sha256": agreement.sha256},
    )
    Agreement.objects.filter(pk=agreement.pk).update(ledger_index=entry.index)
    agreement.ledger_index = entry.index
    return agreement


def agreements_generate_missing() -> int:
    """Generate the agreement of every grant that has none (grants approved before agreements
    existed); returns how many. Safe to run repeatedly: each grant gets one agreement."""
    made = 0
    missing = (
        Grant.objects.filter(agreement__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    for grant_id in list(missing):
        with transaction.atomic():
            grant = (
                Grant.objects.select_for_update(of=("self",))
                .select_related(
                    "grantee_department",
                    "resource__owner_department",
                    "resource__management_right_holder",
                )
                .get(pk=grant_id)
            )
            if Agreement.objects.filter(grant=grant).exists():
                continue  # generated meanwhile
            agreement_generate(grant=grant, actor=None)
            made += 1
    return made


def _candidates(actor: Any, grant: Grant) -> dict[str, Department]:
    """The roles the actor may sign in, each with the department they sign for."""
    found: dict[str, Department] = {}
    owner = grant.resource.owner_department
    if is_steward_of(actor, owner.pk) and owner.is_active:
        found[Role.PROVIDER] = owner
    if is_requester_for(actor, grant.grantee_department_id) and grant.grantee_department.is_active:
        found[Role.RECIPIENT] = grant.grantee_department
    return found


def _signing_role(
    actor: Any, grant: Grant, department: Department | None, signed: set[str]
) -> tuple[str, Department]:
    """The role and department the actor signs in, or PermissionDenied / ValidationError."""
    candidates = _candidates(actor, grant)
    if department is not None:
        candidates = {role: d for role, d in candidates.items() if d.pk == department.pk}
    if not candidates:
        values = {
            "owner": grant.resource.owner_department.code,
            "grantee": grant.grantee_department.code,
        }
        if department is not None:
            raise PermissionDenied(
                _(
                    "You cannot sign this agreement for %(dept)s: only a data steward of "
                    "%(owner)s (the provider) or a requester of %(grantee)s (the recipient) "
                    "signs it."
                )
                % {**values, "dept": department.code}
            )
        raise PermissionDenied(
            _(
                "Only a data steward of %(owner)s (the provider) or a requester of %(grantee)s "
                "(the recipient) can sign this agreement."
            )
            % values
        )
    if len(candidates) > 1:
        open_roles = {role: d for role, d in candidates.items() if role not in signed}
        if len(open_roles) == 1:
            candidates = open_roles
        else:
            raise ValidationError(
                {
                    "department": _(
                        "You can sign for %(codes)s: say which department you sign for."
                    )
                    % {"codes": ", ".join(sorted(d.code for d in candidates.values()))}
                }
            )
    return next(iter(candidates.items()))


@transaction.atomic
def agreement_sign(
    *, actor: Any, agreement: Agreement, department: Department | None = None
) -> AgreementSignature:
    """The actor signs the agreement for the department they act for; returns the signature.

    A steward of the owning department signs as the provider, a requester of the grantee
    department as the recipient (``department`` chooses when they act for both). Refused: anyone
    else (PermissionDenied), a role already signed, a person signing both sides, or an ended
    grant (IllegalTransition). One ledger entry per signature, naming the signer, the department
    and the agreement's hash; the second one makes the grant usable.
    """
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related(
            "grant__grantee_department",
            "grant__resource__owner_department",
            "grant__resource__management_right_holder",
        )
        .get(pk=agreement.pk)
    )
    grant = agreement.grant
    signatures = list(agreement.signatures.select_related("department", "signer"))
    signed = {s.role for s in signatures}
    role, signing_department = _signing_role(actor, grant, department, signed)
    if grant.status in ENDED:
        raise IllegalTransition(
            _("This grant is %(state)s: its agreement can no longer be signed.")
            % {"state": grant.get_status_display().lower()}
        )
    for signature in signatures:
        if signature.role == role:
            raise IllegalTransition(
                _(
                    "%(dept)s has already signed this agreement as the %(role)s (%(who)s, "
                    "%(when)s); a department signs once."
                )
                % {
                    "dept": signature.department.code,
                    "role": signature.get_role_display().lower(),
                    "who": signature.signer.get_username(),
                    "when": _iso_seconds(signature.signed_at),
                }
            )
        if signature.signer_id == actor.pk:
            raise PermissionDenied(
                _(
                    "You signed this agreement for %(dept)s already: the other department signs "
                    "through another person."
                )
                % {"dept": signature.department.code}
            )
    now = timezone.now()
    complete = len(signed) + 1 == len(Role)
    entry = ledger_append(
        event="agreement.signed",
        actor=actor,
        departments=_parties(grant),
        subject={"agreement": agreement.pk, "grant": grant.pk},
        hashes={"agreement_sha256": agreement.sha256},
        detail={"department": signing_department.code, "role": role, "complete": complete},
    )
    # The row lock above serialises signers; the unique constraint stands behind it.
    signature = AgreementSignature.objects.create(
        agreement=agreement,
        department=signing_department,
        signer=actor,
        role=role,
        signed_at=now,
        agreement_sha256=agreement.sha256,
        ledger_index=entry.index,
    )
    if complete:
        agreement.signed_at = now
        agreement._history_user = actor  # type: ignore[attr-defined]
        agreement._change_reason = "signed by both"  # type: ignore[attr-defined]
        agreement.save(update_fields=["signed_at"])
        grant_agreement_record(grant=grant, signed_at=now, actor=actor, ledger_index=entry.index)
    _tell_parties(agreement, signature, complete)
    return signature


def _signers_of(grant: Grant, role: str) -> Any:
    department = (
        grant.resource.owner_department if role == Role.PROVIDER else grant.grantee_department
    )
    return members_with_roles([department.pk], [SIGNING_ROLES[role]])


def _tell_parties(agreement: Agreement, signature: AgreementSignature, complete: bool) -> None:
    grant = agreement.grant
    other = Role.RECIPIENT if signature.role == Role.PROVIDER else Role.PROVIDER
    values = {"id": grant.pk, "dept": signature.department.code}
    if complete:
        recipients = [*_signers_of(grant, Role.PROVIDER), *_signers_of(grant, Role.RECIPIENT)]
        subject = gettext_noop("Grant #%(id)d: the data-sharing agreement is signed by both")
        body = gettext_noop(
            "%(dept)s signed last: the agreement of grant #%(id)d is complete and the grant's "
            "data can be used within its terms."
        )
    else:
        recipients = list(_signers_of(grant, other))
        subject = gettext_noop("Grant #%(id)d: %(dept)s signed the data-sharing agreement")
        body = gettext_noop(
            "%(dept)s signed the data-sharing agreement of grant #%(id)d. Read it and sign it "
            "for your department: the grant's data can be used only once both have signed."
        )
    notify(
        recipients=[u for u in recipients if u.pk != signature.signer_id],
        subject=Localized(subject, values),
        body=Localized(body, values),
        url=grant.get_absolute_url(),
    )


def agreement_sign_options(actor: Any, agreement: Agreement) -> list[Department]:
    """The departments the actor could sign the agreement for now (what the sign form offers);
    ``agreement_sign`` decides, with the same rules."""
    grant = agreement.grant
    if grant.status in ENDED or agreement.signed_at is not None:
        return []
    signatures = list(agreement.signatures.all())
    if any(s.signer_id == actor.pk for s in signatures):
        return []
    signed = {s.role for s in signatures}
    return [d for role, d in _candidates(actor, grant).items() if role not in signed]


def agreement_waiting_for(*, grant: Grant) -> list[str]:
    """Who has still to sign the grant's agreement, in words ("HEALTH (a data steward)").

    The ``grant_agreement_waiting`` hook: rights.selectors words its refusal with it.
    """
    signed = set(
        AgreementSignature.objects.filter(agreement__grant=grant).values_list("role", flat=True)
    )
    waiting = []
    if Role.PROVIDER not in signed:
        waiting.append(
            _("%(dept)s (a data steward)") % {"dept": grant.resource.owner_department.code}
        )
    if Role.RECIPIENT not in signed:
        waiting.append(_("%(dept)s (a requester)") % {"dept": grant.grantee_department.code})
    return waiting


def agreements_remind_unsigned(*, today: datetime.date | None = None) -> int:
    """Remind whoever has not signed an agreement of a live grant (the owner's stewards, the
    grantee's requesters), at most once a day per agreement and person; returns how many
    notifications went out."""
    today = today or timezone.localdate()
    unsigned = (
        Agreement.objects.filter(signed_at__isnull=True)
        .exclude(grant__status__in=ENDED)
        .select_related(
            "grant__grantee_department", "grant__resource__owner_department", "grant__resource"
        )
        .prefetch_related("signatures")
        .order_by("pk")
    )
    sent = 0
    for agreement in unsigned:
        grant = agreement.grant
        signed = {s.role for s in agreement.signatures.all()}
        for role in Role:
            if role in signed:
                continue
            department = (
                grant.resource.owner_department
                if role == Role.PROVIDER
                else grant.grantee_department
            )
            with transaction.atomic():
                sent += len(
                    notify(
                        recipients=_signers_of(grant, role),
                        subject=Localized(
                            gettext_noop("Grant #%(id)d: sign its data-sharing agreement"),
                            {"id": grant.pk},
                        ),
                        body=Localized(
                            gettext_noop(
                                "The data-sharing agreement of grant #%(id)d (%(res)s) awaits "
                                "the signature of %(dept)s. Its data cannot be used until both "
                                "departments have signed."
                            ),
                            {"id": grant.pk, "res": grant.resource.title, "dept": department.code},
                        ),
                        url=grant.get_absolute_url(),
                        key=f"agreement:{agreement.pk}:remind:{role}:{today.isoformat()}",
                    )
                )
    return sent


def agreement_as_dict(agreement: Agreement) -> dict[str, Any]:
    """The agreement as the API answers it and the renderer reads it (dsa-document.md)."""
    return {
        "document": agreement.document,
        "sha256": agreement.sha256,
        "signatures": [
            {
                "department": s.department.code,
                "role": s.role,
                "signer": s.signer.get_username(),
                "signed_at": s.signed_at.isoformat(),
                "sha256": s.agreement_sha256,
                "ledger_index": s.ledger_index,
            }
            for s in agreement.signatures.select_related("department", "signer").order_by(
                "signed_at", "id"
            )
        ],
        "signed_at": agreement.signed_at.isoformat() if agreement.signed_at else None,
    }
