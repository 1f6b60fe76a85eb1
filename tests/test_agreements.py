"""The data-sharing agreement of each grant: generated on approval, signed by both departments,
and the gate — no data path serves a grant until both have signed (issue #14, point 4).

Every test here runs with GRANT_AGREEMENT_REQUIRED on, as production does.
"""

# ruff: noqa: F811 - the fixtures imported from test_sharing are parameters here
import datetime
import hashlib
import json

import pytest
import rfc8785
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audit.models import AccessLog
from catalog import services as catalog_services
from departments import services as department_services
from departments.models import Membership
from ledger.models import LedgerEntry
from notifications.models import Notification
from rights import services as grant_services
from rights.models import GrantEvent
from rights.selectors import usable_grants
from sharing.deliveries import deliveries_dispatch, deliveries_for_release, delivery_build
from sharing.models import Delivery
from standards.agreements import agreement_as_dict, agreements_remind_unsigned
from standards.models import Agreement, AgreementSignature
from standards.tasks import remind_unsigned_agreements
from tests.conftest import GOOD_CSV, csv_upload, make_user, sign_agreement
from tests.test_sharing import all_methods, api, grant_for, police  # noqa: F401 - fixtures

pytestmark = pytest.mark.agreement_gate

SITE = django_settings.SITE_URL.rstrip("/")
WAITING_BOTH = "waiting for: HEALTH (a data steward), CIVIL (a requester)"


def entries(event):
    return [json.loads(bytes(e.entry)) for e in LedgerEntry.objects.filter(entry_type=event)]


def state(grant):
    """Everything a refused signature must leave as it was."""
    grant.refresh_from_db()
    return (
        AgreementSignature.objects.count(),
        LedgerEntry.objects.count(),
        Agreement.objects.get(grant=grant).signed_at,
        grant.agreement_signed_at,
        Notification.objects.count(),
    )


@pytest.fixture
def realtime(grant_for):
    return grant_for("realtime", max_records_per_day=100, max_calls_per_day=20)


# --- generation -----------------------------------------------------------------------------


def test_approval_generates_the_agreement_with_every_s19_field(realtime, reviewer):
    grant = realtime
    agreement = Agreement.objects.get(grant=grant)
    generated = agreement.generated_at.astimezone(datetime.UTC).isoformat()
    assert agreement.document == {
        "format": "govshare-dsa/1",
        "uri": f"{SITE}/id/grants/{grant.pk}/agreement",
        "grant": grant.pk,
        "request": grant.request_id,
        "request_reference": str(grant.request_id),
        "generated_at": generated,
        "parties": {
            "provider": {
                "code": "HEALTH",
                "name": "Health Bureau",
                "uri": f"{SITE}/id/departments/HEALTH",
                "function": "provider",
            },
            "recipient": {
                "code": "CIVIL",
                "name": "Civil Affairs Bureau",
                "uri": f"{SITE}/id/departments/CIVIL",
                "function": "recipient",
            },
            "management": {
                "code": "OFFICE",
                "name": "Data Management Office",
                "uri": f"{SITE}/id/departments/OFFICE",
                "function": "management",
            },
        },
        "resource": {
            "identifier": "HEALTH-VACC-001",
            "title": "Vaccination records",
            "version": grant.resource_version,
            "uri": f"{SITE}/id/datasets/HEALTH-VACC-001",
        },
        "purpose": "Check vaccination status for school enrolment.",
        "data_items": [
            {"name": "resident_id", "type": "string", "description": "", "sensitivity": "personal"},
            {
                "name": "dose_number",
                "type": "integer",
                "description": "",
                "sensitivity": "internal",
            },
        ],
        "legal_basis": {"kind": "statute", "citation": "Education Law", "article": "art. 12"},
        "method": "realtime",
        "frequency": "",
        "limits": {"max_records_per_day": 100, "max_calls_per_day": 20},
        "security_measures": ["tls", "access_log", "ledger", "least_items", "role_access"],
        "retention": {
            "until": grant.valid_until.isoformat(),
            "end_of_use": "delete_or_return",
            "attestation_days": 10,
        },
        "breach_and_disputes": {
            "breach_notice_hours": 24,
            "dispute_levels": ["negotiation", "office_decision", "authority_decision"],
            "negotiation_days": 10,
            "office_decision_days": 5,
        },
        "variation": {
            "vary": "new_request",
            "renew": "renewal_request",
            "end": ["expiry", "revocation", "suspension"],
        },
        "period": {"from": grant.valid_from.isoformat(), "until": grant.valid_until.isoformat()},
    }
    assert generated.endswith("+00:00") and "." not in generated  # whole seconds, UTC
    stored = Agreement.objects.get(pk=agreement.pk).document  # as read back from the database
    assert agreement.sha256 == hashlib.sha256(rfc8785.dumps(stored)).hexdigest()
    (entry,) = entries("agreement.generated")
    assert entry["departments"] == ["CIVIL", "HEALTH", "OFFICE"]
    assert entry["actor"] == reviewer.pk
    assert entry["subject"] == {
        "agreement": agreement.pk,
        "grant": grant.pk,
        "request": grant.request_id,
    }
    assert entry["hashes"] == {"agreement_sha256": agreement.sha256}
    assert agreement.ledger_index == entry["index"]
    assert agreement.signed_at is None and grant.agreement_signed_at is None


def test_agreements_generate_command_covers_grants_made_before_agreements_once(grant_for, settings):
    settings.GOVSHARE_HOOKS = {
        **settings.GOVSHARE_HOOKS,
        "grant_created": [],  # as before this feature
    }
    old = grant_for("realtime")
    assert not Agreement.objects.filter(grant=old).exists()
    call_command("agreements_generate")
    agreement = Agreement.objects.get(grant=old)
    assert agreement.document["grant"] == old.pk
    assert len(entries("agreement.generated")) == 1
    call_command("agreements_generate")  # idempotent
    assert Agreement.objects.filter(grant=old).count() == 1
    assert len(entries("agreement.generated")) == 1
    assert Agreement.objects.get(grant=old).sha256 == agreement.sha256


# --- signing --------------------------------------------------------------------------------


def test_both_sign_and_the_grant_becomes_usable(realtime, steward, requester):
    grant = realtime
    agreement = grant.agreement
    assert grant not in usable_grants()
    sign_agreement(grant, steward)
    agreement.refresh_from_db()
    assert (agreement.signed_at, grant.agreement_signed_at) == (None, None)
    assert grant not in usable_grants()
    told = Notification.objects.filter(recipient=requester).order_by("-id").first()
    assert told.subject == f"Grant #{grant.pk}: HEALTH signed the data-sharing agreement"
    sign_agreement(grant, requester)
    agreement.refresh_from_db()
    assert agreement.signed_at is not None
    assert grant.agreement_signed_at == agreement.signed_at
    assert list(usable_grants()) == [grant]
    signatures = list(agreement.signatures.order_by("signed_at"))
    assert [(s.role, s.department.code, s.signer.username) for s in signatures] == [
        ("provider", "HEALTH", "health_steward"),
        ("recipient", "CIVIL", "civil_clerk"),
    ]
    assert {s.agreement_sha256 for s in signatures} == {agreement.sha256}
    signed = entries("agreement.signed")
    assert [(e["actor"], e["detail"]) for e in signed] == [
        (steward.pk, {"department": "HEALTH", "role": "provider", "complete": False}),
        (requester.pk, {"department": "CIVIL", "role": "recipient", "complete": True}),
    ]
    assert all(e["hashes"] == {"agreement_sha256": agreement.sha256} for e in signed)
    assert [s.ledger_index for s in signatures] == [e["index"] for e in signed]
    step = GrantEvent.objects.get(grant=grant, action="agreement")
    assert (step.actor, step.ledger_index) == (requester, signed[1]["index"])
    both = f"Grant #{grant.pk}: the data-sharing agreement is signed by both"
    assert Notification.objects.filter(recipient=steward, subject=both).count() == 1
    assert not Notification.objects.filter(recipient=requester, subject=both).exists()


def test_api_sign_answers_201_with_the_agreement(realtime, steward, requester):
    first = api(steward).post(f"/api/v1/grants/{realtime.pk}/agreement/sign/", {}, format="json")
    assert first.status_code == 201
    assert [s["role"] for s in first.json()["signatures"]] == ["provider"]
    assert first.json()["signed_at"] is None
    second = api(requester).post(
        f"/api/v1/grants/{realtime.pk}/agreement/sign/", {"department": "CIVIL"}, format="json"
    )
    assert second.status_code == 201
    agreement = Agreement.objects.get(grant=realtime)
    assert second.json() == json.loads(json.dumps(agreement_as_dict(agreement)))
    assert second.json()["signed_at"] == agreement.signed_at.isoformat()
    assert [s["signer"] for s in second.json()["signatures"]] == ["health_steward", "civil_clerk"]


def test_api_get_shows_the_agreement_to_each_party_and_404_to_outsiders(
    realtime, steward, requester, reviewer, police
):
    url = f"/api/v1/grants/{realtime.pk}/agreement/"
    for party in (steward, requester, reviewer):
        response = api(party).get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["document"] == realtime.agreement.document
        assert body["sha256"] == realtime.agreement.sha256
        assert (body["signatures"], body["signed_at"]) == ([], None)
    assert api(police).get(url).status_code == 404
    assert api(police).post(url + "sign/", {}, format="json").status_code == 404
    assert APIClient().get(url).status_code == 401
    assert APIClient().post(url + "sign/", {}, format="json").status_code == 401
    assert api(steward).get("/api/v1/grants/999999/agreement/").status_code == 404
    assert AgreementSignature.objects.count() == 0


def test_wrong_role_is_403_and_changes_nothing(realtime, reviewer, owner_requester, departments):
    civil_steward = make_user("civil_steward", departments["CIVIL"], Membership.Role.STEWARD)
    before = state(realtime)
    url = f"/api/v1/grants/{realtime.pk}/agreement/sign/"
    for user in (reviewer, owner_requester, civil_steward):
        response = api(user).post(url, {}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == (
            "Only a data steward of HEALTH (the provider) or a requester of CIVIL (the "
            "recipient) can sign this agreement."
        )
    assert state(realtime) == before


def test_signing_for_a_department_one_does_not_act_for_is_403(realtime, steward):
    before = state(realtime)
    url = f"/api/v1/grants/{realtime.pk}/agreement/sign/"
    response = api(steward).post(url, {"department": "CIVIL"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("You cannot sign this agreement for CIVIL")
    unknown = api(steward).post(url, {"department": "NOPE"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"department": ["No department with the code NOPE."]}
    assert state(realtime) == before


def test_a_second_signature_for_the_same_role_is_409_and_changes_nothing(
    realtime, steward, departments
):
    other_steward = make_user("health_steward_2", departments["HEALTH"], Membership.Role.STEWARD)
    sign_agreement(realtime, steward)
    before = state(realtime)
    url = f"/api/v1/grants/{realtime.pk}/agreement/sign/"
    for user in (steward, other_steward):
        response = api(user).post(url, {}, format="json")
        assert response.status_code == 409
        assert response.json()["detail"].startswith(
            "HEALTH has already signed this agreement as the provider (health_steward, "
        )
    assert state(realtime) == before


def test_one_person_acting_for_both_departments_signs_one_side_only(realtime, steward, departments):
    department_services.membership_grant(
        user=steward, department=departments["CIVIL"], role=Membership.Role.REQUESTER
    )
    url = f"/api/v1/grants/{realtime.pk}/agreement/sign/"
    before = state(realtime)
    ambiguous = api(steward).post(url, {}, format="json")
    assert ambiguous.status_code == 400
    assert ambiguous.json()["errors"] == {
        "department": ["You can sign for CIVIL, HEALTH: say which department you sign for."]
    }
    assert state(realtime) == before
    assert api(steward).post(url, {"department": "HEALTH"}, format="json").status_code == 201
    before = state(realtime)
    both = api(steward).post(url, {"department": "CIVIL"}, format="json")
    assert both.status_code == 403
    assert "the other department signs through another person" in both.json()["detail"]
    assert state(realtime) == before


def test_signing_a_revoked_grant_is_409_and_changes_nothing(realtime, reviewer, steward):
    grant_services.grant_revoke(actor=reviewer, grant=realtime, reason="Misuse.")
    before = state(realtime)
    response = api(steward).post(f"/api/v1/grants/{realtime.pk}/agreement/sign/", format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This grant is revoked: its agreement can no longer be signed."
    )
    assert state(realtime) == before


def test_a_suspended_grant_can_be_signed_and_stays_unusable_until_resumed(
    realtime, reviewer, steward, requester
):
    grant_services.grant_suspend(actor=reviewer, grant=realtime, reason="Audit.")
    sign_agreement(realtime, steward, requester)
    assert realtime.agreement_signed_at is not None
    assert realtime not in usable_grants()
    grant_services.grant_resume(actor=reviewer, grant=realtime, reason="Done.")
    assert list(usable_grants()) == [realtime]


# --- the gate: every data path ----------------------------------------------------------------


def test_unsigned_grant_refuses_records_and_verify_with_who_must_sign(
    grant_for, requester, steward
):
    records = grant_for("realtime")
    checks = grant_for("result_only")
    records_url = f"/api/v1/grants/{records.pk}/records/"
    verify_url = f"/api/v1/grants/{checks.pk}/verify/"
    body = {"match": {"resident_id": "R002"}}
    refused = api(requester).get(records_url, {"resident_id": "R002"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "This grant's data-sharing agreement has not been signed by both departments yet "
        f"({WAITING_BOTH}). Its data can be used once a data steward of the owning department "
        "and a requester of the grantee department have both signed it on the grant's page."
    )
    sign_agreement(checks, steward)
    refused = api(requester).post(verify_url, body, format="json")
    assert refused.status_code == 403
    assert "(waiting for: CIVIL (a requester))" in refused.json()["detail"]
    assert AccessLog.objects.filter(outcome="refused").count() == 2
    sign_agreement(records, steward, requester)
    sign_agreement(checks, requester)
    allowed = api(requester).get(records_url, {"resident_id": "R002"})
    assert allowed.status_code == 200
    assert allowed.json()["count"] == 1
    assert api(requester).post(verify_url, body, format="json").json() == {"result": True}


def test_unsigned_grant_gets_no_periodic_copy_until_both_sign(grant_for, steward, requester):
    grant = grant_for("periodic_copy")
    assert deliveries_dispatch() == []
    # A delivery queued before the gate (or by hand) is refused when it is built.
    queued = Delivery.objects.create(grant=grant, period_key="manual")
    built = delivery_build(queued.pk)
    assert built.status == Delivery.Status.FAILED
    assert "data-sharing agreement is not yet signed by both departments" in built.error
    assert not built.file
    sign_agreement(grant, steward, requester)
    (delivery,) = deliveries_dispatch()
    assert delivery_build(delivery.pk).status == Delivery.Status.SUCCEEDED


def test_unsigned_grant_gets_no_upload_delivery(grant_for, all_methods, steward):
    grant_for("upload")
    catalog_services.release_ingest(
        actor=steward, resource=all_methods, upload=csv_upload(GOOD_CSV)
    )
    assert Delivery.objects.count() == 0
    release = all_methods.releases.order_by("-sequence").first()
    assert deliveries_for_release(release=release) == []


def test_unsigned_grant_refuses_the_download_of_a_delivery(grant_for, requester, steward, settings):
    settings.GRANT_AGREEMENT_REQUIRED = False  # a copy delivered before the gate was turned on
    grant = grant_for("periodic_copy")
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    assert delivery.status == Delivery.Status.SUCCEEDED
    settings.GRANT_AGREEMENT_REQUIRED = True
    url = f"/api/v1/deliveries/{delivery.pk}/download/"
    refused = api(requester).get(url)
    assert refused.status_code == 403
    assert WAITING_BOTH in refused.json()["detail"]
    web = api(requester).get(f"/grants/deliveries/{delivery.pk}/download/", follow=True)
    assert WAITING_BOTH in web.content.decode()
    sign_agreement(grant, steward, requester)
    assert api(requester).get(url).status_code == 200


def test_without_the_gate_an_unsigned_grant_is_usable(grant_for, requester, settings):
    settings.GRANT_AGREEMENT_REQUIRED = False
    grant = grant_for("realtime")
    assert grant.agreement_signed_at is None
    assert list(usable_grants()) == [grant]
    response = api(requester).get(f"/api/v1/grants/{grant.pk}/records/", {"resident_id": "R001"})
    assert response.status_code == 200


# --- the portal -----------------------------------------------------------------------------


def test_grant_page_shows_the_agreement_and_the_steward_signs_there(realtime, steward, police):
    page = api(steward).get(f"/grants/{realtime.pk}/").content.decode()
    assert "Data-sharing agreement" in page
    assert "Awaiting signatures" in page
    assert "Sign for HEALTH" in page
    assert realtime.agreement.sha256 in page
    url = f"/grants/{realtime.pk}/agreement/sign/"
    assert api(police).post(url).status_code == 404
    assert api(steward).get(url).status_code == 405
    response = api(steward).post(url, follow=True)
    # Back on the agreement itself, which now shows the signature and no button for the provider.
    assert response.redirect_chain == [(f"/grants/{realtime.pk}/agreement/", 302)]
    text = response.content.decode()
    assert "You signed for HEALTH. The grant can be used once the other department signs." in text
    assert "Sign as the provider" not in text
    assert "Sign for HEALTH" not in api(steward).get(f"/grants/{realtime.pk}/").content.decode()
    again = api(steward).post(url, follow=True).content.decode()
    assert "HEALTH has already signed this agreement as the provider" in again
    assert AgreementSignature.objects.count() == 1


def test_grant_page_tells_the_grantee_why_its_data_waits(realtime, requester):
    page = api(requester).get(f"/grants/{realtime.pk}/").content.decode()
    assert WAITING_BOTH in page
    assert "Sign for CIVIL" in page


# --- reminders --------------------------------------------------------------------------------


def reminded(user):
    return Notification.objects.filter(recipient=user, key__startswith="agreement:").count()


def test_reminders_go_to_whoever_has_not_signed_once_a_day(
    realtime, steward, requester, owner_requester
):
    today = timezone.localdate()
    assert remind_unsigned_agreements() == 2  # the task calls the service
    assert (reminded(steward), reminded(requester), reminded(owner_requester)) == (1, 1, 0)
    note = Notification.objects.get(recipient=steward, key__startswith="agreement:")
    assert note.subject == f"Grant #{realtime.pk}: sign its data-sharing agreement"
    assert "awaits the signature of HEALTH" in note.body
    assert agreements_remind_unsigned(today=today) == 0  # once a day
    sign_agreement(realtime, steward)
    tomorrow = today + datetime.timedelta(days=1)
    assert agreements_remind_unsigned(today=tomorrow) == 1
    assert (reminded(steward), reminded(requester)) == (1, 2)
    sign_agreement(realtime, requester)
    assert agreements_remind_unsigned(today=tomorrow + datetime.timedelta(days=1)) == 0


def test_no_reminder_for_an_ended_grant(realtime, reviewer):
    grant_services.grant_revoke(actor=reviewer, grant=realtime, reason="Misuse.")
    assert agreements_remind_unsigned() == 0


def test_reminders_run_daily_in_beat(db):
    job = PeriodicTask.objects.select_related("crontab").get(name="agreements-remind-unsigned")
    assert (job.task, job.enabled, job.interval_id) == (
        "standards.tasks.remind_unsigned_agreements",
        True,
        None,
    )
    crontab = job.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year) == (
        "30",
        "7",
        "*",
        "*",
    )
    assert (crontab.day_of_week, str(crontab.timezone)) == ("*", "UTC")


# --- the schema -------------------------------------------------------------------------------


def test_agreement_endpoints_declare_their_answers_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    read = schema["paths"]["/api/v1/grants/{id}/agreement/"]["get"]
    sign = schema["paths"]["/api/v1/grants/{id}/agreement/sign/"]["post"]
    assert {"200", "401", "403", "404"} <= set(read["responses"])
    assert {"201", "400", "401", "403", "404", "409"} <= set(sign["responses"])
    body = sign["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/AgreementSign")
    answer = schema["components"]["schemas"]["Agreement"]
    assert set(answer["properties"]) == {"document", "sha256", "signatures", "signed_at"}
    assert set(answer["required"]) == {"document", "sha256", "signatures", "signed_at"}


def test_web_sign_refuses_bad_department_codes_and_changes_nothing(realtime, steward):
    url = f"/grants/{realtime.pk}/agreement/sign/"
    before = state(realtime)
    for code, message in [
        ("NOPE", "No department with the code NOPE."),
        ("a\x00b", "Null characters are not allowed."),
        ("X" * 40, "Ensure this value has at most 32 characters (it has 40)."),
    ]:
        page = api(steward).post(url, {"department": code}, follow=True).content.decode()
        assert message in page
    assert state(realtime) == before


def test_the_agreement_page_and_pdf_show_both_signatures(realtime, steward, requester):
    from io import BytesIO

    from pypdf import PdfReader

    api(steward).post(f"/grants/{realtime.pk}/agreement/sign/")
    api(requester).post(f"/grants/{realtime.pk}/agreement/sign/")
    page = api(steward).get(f"/grants/{realtime.pk}/agreement/").content.decode()
    assert steward.get_username() in page
    assert requester.get_username() in page
    assert "Sign as the" not in page
    pdf = api(requester).get(f"/grants/{realtime.pk}/agreement.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    assert steward.get_username() in text
    assert requester.get_username() in text
    assert realtime.agreement.sha256 in text.replace("\n", "")
