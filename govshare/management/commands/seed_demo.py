"""The demo world of DESIGN.md. Idempotent: running it again changes nothing but passwords."""

import io
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from access_requests import services as request_services
from access_requests.models import Request
from catalog import services as catalog_services
from catalog.models import Resource
from departments import services as department_services
from departments.models import Department, Membership
from departments.permissions import forget_roles
from governance.models import Dispute
from governance.services import demands as demand_services
from governance.services import freshness as freshness_services
from ledger import keys
from ledger.services import ledger_checkpoint_sign
from sharing.deliveries import deliveries_dispatch, delivery_build

# The demo's witnesses: HEALTH's and CIVIL's, on loopback (scripts/demo.sh starts them).
DEMO_WITNESSES = [("HEALTH", 8101), ("CIVIL", 8102)]
DEFAULT_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo only, printed by the command

DEPARTMENTS = [
    ("OFFICE", "Data Management Office", Department.Kind.OFFICE),
    ("HEALTH", "Health Bureau", Department.Kind.ORDINARY),
    ("CIVIL", "Civil Affairs Bureau", Department.Kind.ORDINARY),
    ("POLICE", "Public Security Bureau", Department.Kind.ORDINARY),
]
USERS = [
    ("office", "OFFICE", Membership.Role.REVIEWER, True),
    ("auditor", "OFFICE", Membership.Role.AUDITOR, True),
    ("health_steward", "HEALTH", Membership.Role.STEWARD, False),
    ("civil_clerk", "CIVIL", Membership.Role.REQUESTER, False),
    ("police_clerk", "POLICE", Membership.Role.REQUESTER, False),
]
VACCINATION_ITEMS = [
    ("resident_id", "string", "personal", True, "Resident identity number (pseudonymised)"),
    ("birth_date", "date", "personal", True, "Date of birth"),
    ("vaccine_code", "string", "internal", True, "National vaccine product code"),
    ("dose_number", "integer", "internal", True, "Dose in the schedule (1, 2, ...)"),
    ("vaccination_date", "date", "internal", True, "Date the dose was given"),
    ("clinic_code", "string", "public", True, "Registered clinic that gave the dose"),
    ("lot_fee", "decimal", "internal", False, "Fee charged for the lot, if any"),
    ("adverse_event", "boolean", "sensitive", False, "An adverse event was reported"),
]
CLINIC_ITEMS = [
    ("clinic_code", "string", "public", True, "Registered clinic code"),
    ("clinic_name", "string", "public", True, "Registered name"),
    ("district", "string", "public", True, "District"),
    ("licensed_until", "date", "public", True, "End of the current licence"),
]


def _items(spec, lookup_keys=("resident_id", "clinic_code")):
    return [
        {
            "name": n,
            "type": t,
            "sensitivity": s,
            "required": r,
            "description": d,
            "lookup_key": n in lookup_keys,
        }
        for n, t, s, r, d in spec
    ]


def vaccination_csv(rows, seed=2026):
    rng = random.Random(seed)
    out = io.StringIO()
    out.write(",".join(name for name, *_ in VACCINATION_ITEMS) + "\n")
    start = date(2024, 1, 1)
    for n in range(rows):
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000))
        given = start + timedelta(days=rng.randrange(0, 700))
        fee = f"{rng.randrange(0, 5000) / 100:.2f}" if rng.random() < 0.3 else ""
        out.write(
            f"R{100000 + n:07d},{birth.isoformat()},VX-{rng.choice(['MMR', 'HPV', 'FLU', 'HEPB'])}"
            f",{rng.randint(1, 3)},{given.isoformat()},CL-{rng.randint(1, 40):03d},{fee},"
            f"{'true' if rng.random() < 0.02 else 'false'}\n"
        )
    return out.getvalue().encode("utf-8")


def clinics_csv():
    lines = ["clinic_code,clinic_name,district,licensed_until"]
    for n in range(1, 41):
        lines.append(f"CL-{n:03d},Community Clinic {n},District {1 + n % 6},2027-12-31")
    return ("\n".join(lines) + "\n").encode("utf-8")


VACC_REQUEST_ITEMS = [
    ("resident_id", "To match the pupil to the record."),
    ("vaccine_code", "To check which vaccines were given."),
    ("dose_number", "To check the schedule is complete."),
    ("birth_date", "To confirm identity."),
]
REQUEST_BASIS = {
    "legal_basis_kind": "statute",
    "legal_basis_citation": "Education Law",
    "legal_basis_article": "art. 12",
    "legal_basis_text": "Schools verify immunisation records before enrolment.",
}


class _RequestFiler:
    """Files a demo request as a draft: ``file(user, dept, resource, items, method=...)``."""

    def __init__(self, departments):
        self.departments = departments
        self.vaccination = Resource.objects.get(identifier="HEALTH-VACC-001")
        self.clinics = Resource.objects.get(identifier="HEALTH-CLINIC-001")
        self.today = timezone.localdate()

    def __call__(
        self, user, dept, resource, items, method="realtime", frequency="", days=180, **extra
    ):
        return request_services.request_create(
            actor=user,
            department=self.departments[dept],
            resource=resource,
            data={
                "purpose": extra.pop("purpose", "Verify vaccination status at school entry."),
                **REQUEST_BASIS,
                "method": method,
                "frequency": frequency,
                "valid_from": self.today,
                "valid_until": self.today + timedelta(days=days),
                **extra,
            },
            items=[{"name": n, "reason": r} for n, r in items],
        )


class Command(BaseCommand):
    help = "Create the demo departments, users and HEALTH catalog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--rows", type=int, default=300, help="Rows in the demo release.")

    @transaction.atomic
    def handle(self, *args, password, rows, **options):
        departments = self._departments()
        users = self._users(departments, password)
        self._catalog(users["health_steward"], departments["HEALTH"], rows)
        if not Request.objects.exists():
            self._workflow(users, departments)
        if not Dispute.objects.exists():
            self._dispute_and_attestation(users, departments)
        self._governance(users, departments)
        for delivery in deliveries_dispatch():  # the first period now; beat delivers the next
            delivery_build(delivery.pk)
        ledger_checkpoint_sign()
        if settings.DEBUG:
            self._witness_keys()
        self.stdout.write(self.style.SUCCESS("Demo world ready."))
        self.stdout.write(f"Users (password: {password}): admin, {', '.join(u for u, *_ in USERS)}")

    def _witness_keys(self):
        """HEALTH's and CIVIL's witness keys for the demo (scripts/demo.sh runs the witnesses).

        Each department would make its own on its own host; the demo keeps them under
        ``var/witnesses/`` with the log's verifier key the witnesses trust.
        """
        folder = Path(settings.VAR_DIR) / "witnesses"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "log.vkey").write_text(keys.verifier_key() + "\n", encoding="utf-8")
        tool = Path(settings.BASE_DIR) / "tools" / "govshare_witness.py"
        for code, port in DEMO_WITNESSES:
            key, vkey = folder / f"{code.lower()}.key", folder / f"{code.lower()}.vkey"
            if not key.exists():
                made = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
                    [
                        sys.executable,
                        str(tool),
                        "keygen",
                        f"{code.lower()}.demo.gov/witness",
                        "--out",
                        str(key),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                vkey.write_text(made.stdout.strip().splitlines()[-1] + "\n", encoding="utf-8")
            self.stdout.write(f"Witness of {code}: {vkey.read_text().strip()} on port {port}")

    def _departments(self):
        departments = {}
        for code, name, kind in DEPARTMENTS:
            department = Department.objects.filter(code=code).first()
            departments[code] = department or department_services.department_create(
                code=code, name=name, kind=kind
            )
        return departments

    def _users(self, departments, password):
        User = get_user_model()
        users = {}
        view_perms = Permission.objects.filter(codename__startswith="view_")
        for username, code, role, staff in USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = staff
            user.email = f"{username}@demo.govshare.invalid"
            user.save()
            if staff:
                user.user_permissions.add(*view_perms)
            department_services.membership_grant(user=user, department=departments[code], role=role)
            forget_roles(user)
            users[username] = user
        admin, _ = User.objects.get_or_create(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.email = "admin@demo.govshare.invalid"
        admin.set_password(password)
        admin.save()
        return users

    def _catalog(self, steward, health, rows):
        """HEALTH's three entries: conditional (with a release), unconditional, not shareable."""
        self._resource(
            steward,
            health,
            identifier="HEALTH-VACC-001",
            title="Vaccination records",
            abstract="Every vaccine dose given in the city's clinics, one row per dose, "
            "for checking vaccination status and planning campaigns.",
            classification="Health / Immunisation",
            sharing_type="conditional",
            sharing_conditions="Only for statutory duties that need vaccination status; "
            "personal items only with a legal basis naming them.",
            methods=["periodic_copy", "realtime", "result_only"],
            legal_basis="Vaccine Administration Law, art. 36 (immunisation records).",
            update_cycle="daily",
            items=_items(VACCINATION_ITEMS),
            csv=vaccination_csv(rows),
        )
        self._resource(
            steward,
            health,
            identifier="HEALTH-CLINIC-001",
            title="Licensed clinics",
            abstract="Registered clinics with their licence period.",
            classification="Health / Facilities",
            sharing_type="unconditional",
            methods=["periodic_copy", "upload", "realtime"],
            legal_basis="Medical Institutions Regulation, art. 15 (registration).",
            update_cycle="monthly",
            items=_items(CLINIC_ITEMS),
            csv=clinics_csv(),
        )
        self._resource(
            steward,
            health,
            identifier="HEALTH-PSY-001",
            title="Psychiatric case notes",
            abstract="Clinical notes of psychiatric treatment.",
            classification="Health / Clinical",
            sharing_type="not_shareable",
            not_shareable_reason="Clinical notes are confidential medical records.",
            not_shareable_law="Mental Health Law, art. 4 (confidentiality of patient records).",
            methods=[],
            legal_basis="Mental Health Law, art. 47 (case records).",
            update_cycle="irregular",
            items=_items([("case_id", "string", "sensitive", True, "Case number")]),
            csv=None,
        )

    def _workflow(self, users, departments):
        """One request in each interesting state, and an active grant of each method."""
        file = _RequestFiler(departments)
        self._approved_realtime(users, file)
        self._under_review(users, file)
        self._returned_and_rejected(users, file)
        self._other_methods(users, file)
        # A draft not yet submitted.
        file(
            users["civil_clerk"],
            "CIVIL",
            file.vaccination,
            VACC_REQUEST_ITEMS[2:3],
            purpose="Draft: dose completeness.",
        )

    def _approved_realtime(self, users, file):
        """Approved, partially: an active real-time grant for CIVIL."""
        civil, steward, office = users["civil_clerk"], users["health_steward"], users["office"]
        approved = file(civil, "CIVIL", file.vaccination, VACC_REQUEST_ITEMS)
        request_services.request_submit(actor=civil, request=approved)
        request_services.request_endorse(
            actor=steward, request=approved, reason="Lawful purpose; items are necessary."
        )
        request_services.request_approve(
            actor=office,
            request=approved,
            reason="Approved without birth dates: the resident id suffices.",
            fields=["resident_id", "vaccine_code", "dose_number"],
            max_records_per_day=5000,
            max_calls_per_day=2000,
        )

    def _under_review(self, users, file):
        """One waiting for the owner's opinion, one (unconditional) straight at the office."""
        civil, police = users["civil_clerk"], users["police_clerk"]
        owner_review = file(
            police,
            "POLICE",
            file.vaccination,
            VACC_REQUEST_ITEMS[:2],
            purpose="Check vaccination of detainees for the health screening.",
        )
        request_services.request_submit(actor=police, request=owner_review)
        office_review = file(
            civil,
            "CIVIL",
            file.clinics,
            [("clinic_code", "To link records to clinics."), ("clinic_name", "To show names.")],
            method="periodic_copy",
            frequency="monthly",
            purpose="Keep the list of licensed clinics in the school health register.",
        )
        request_services.request_submit(actor=civil, request=office_review)

    def _returned_and_rejected(self, users, file):
        """Returned by the owner for changes; rejected by the office (appealable once)."""
        civil, police = users["civil_clerk"], users["police_clerk"]
        steward, office = users["health_steward"], users["office"]
        returned = file(
            police, "POLICE", file.vaccination, VACC_REQUEST_ITEMS, purpose="Statistics."
        )
        request_services.request_submit(actor=police, request=returned)
        request_services.request_return(
            actor=steward,
            request=returned,
            reason="State which statistics, and why they need personal items.",
        )
        rejected = file(
            civil, "CIVIL", file.vaccination, VACC_REQUEST_ITEMS[:1], purpose="General research."
        )
        request_services.request_submit(actor=civil, request=rejected)
        request_services.request_endorse(actor=steward, request=rejected)
        request_services.request_reject(
            actor=office,
            request=rejected,
            reason="Research is not a statutory duty of the Civil Affairs Bureau.",
        )

    def _other_methods(self, users, file):
        """A daily periodic copy for CIVIL and a result-only check for POLICE, both approved."""
        steward, office = users["health_steward"], users["office"]
        for user, dept, method, frequency, items, purpose in [
            (
                users["civil_clerk"],
                "CIVIL",
                "periodic_copy",
                "daily",
                VACC_REQUEST_ITEMS[1:3],
                "Daily copy of doses for the school health register.",
            ),
            (
                users["police_clerk"],
                "POLICE",
                "result_only",
                "",
                VACC_REQUEST_ITEMS[:3],
                "Confirm a detainee's vaccination without seeing the record.",
            ),
        ]:
            request = file(
                user,
                dept,
                file.vaccination,
                items,
                method=method,
                frequency=frequency,
                purpose=purpose,
            )
            request_services.request_submit(actor=user, request=request)
            request_services.request_endorse(actor=steward, request=request)
            request_services.request_approve(
                actor=office, request=request, reason="Approved.", max_calls_per_day=500
            )

    def _governance(self, users, departments):
        """One acknowledged quality report and one routed demand that a second department joined."""
        from governance.models import Demand, QualityReport
        from governance.services import quality as governance

        if not QualityReport.objects.exists():
            report = governance.quality_report_file(
                actor=users["civil_clerk"],
                department=departments["CIVIL"],
                resource=Resource.objects.get(identifier="HEALTH-VACC-001"),
                kind="wrong_value",
                item="dose_number",
                lines=[2, 3],
                description="Second courses restart at dose 1; the schedule check expects 3.",
            )
            governance.quality_report_acknowledge(
                actor=users["health_steward"], report=report, reason="Checking with the clinics."
            )
        if not Demand.objects.exists():
            demand = demand_services.demand_file(
                actor=users["civil_clerk"],
                department=departments["CIVIL"],
                data={
                    "title": "Births recorded in hospitals",
                    "description": "Births recorded by the city's hospitals, to register newborns "
                    "without asking parents for the hospital certificate.",
                    "purpose": "Register births on the hospital's record.",
                    "legal_basis": "Civil Registration Regulation, art. 9 (birth registration).",
                },
                items=["mother resident_id", "birth date", "hospital code"],
            )
            demand_services.demand_join(
                actor=users["police_clerk"],
                demand=demand,
                department=departments["POLICE"],
                purpose="Issue identity numbers to newborns.",
            )
            demand_services.demand_route(
                actor=users["office"],
                demand=demand,
                department=departments["HEALTH"],
                reason="Hospitals report births to the health bureau.",
            )
        freshness_services.resources_flag_stale()

    def _dispute_and_attestation(self, users, departments):
        """One dispute escalated to the office, and one ended grant awaiting its attestation."""
        from governance.services import disputes
        from rights import services as rights_services_
        from rights.attestations import attestations_open_due
        from rights.models import Grant

        civil, steward, office = users["civil_clerk"], users["health_steward"], users["office"]
        realtime = Grant.objects.filter(
            grantee_department__code="CIVIL", method="realtime", status=Grant.Status.ACTIVE
        ).first()
        dispute = disputes.dispute_raise(
            actor=civil,
            kind="grant",
            grant=realtime,
            disputed="The real-time interface stops answering after 2,000 calls a day; during "
            "school enrolment week our clerks need about 3,500.",
            asked="Raise the daily call limit to 4,000 for the first two weeks of September.",
        )
        disputes.dispute_statement(
            actor=steward,
            dispute=dispute,
            text="The limit protects the clinics' system; we can deliver a one-off copy instead.",
        )
        disputes.dispute_escalate(
            actor=civil, dispute=dispute, reason="A copy would hold more personal data than needed."
        )
        # End of use: a one-off clinic check, approved and then revoked once done.
        today = timezone.localdate()
        ended = request_services.request_create(
            actor=civil,
            department=departments["CIVIL"],
            resource=Resource.objects.get(identifier="HEALTH-CLINIC-001"),
            data={
                "purpose": "One-off check of clinic licences for the 2026 school year.",
                "legal_basis_kind": "statute",
                "legal_basis_citation": "Education Law",
                "legal_basis_article": "art. 12",
                "legal_basis_text": "Schools verify immunisation records before enrolment.",
                "method": "realtime",
                "frequency": "",
                "valid_from": today,
                "valid_until": today + timedelta(days=30),
            },
            items=[{"name": "clinic_code", "reason": "To check the clinic's licence."}],
        )
        request_services.request_submit(actor=civil, request=ended)
        request_services.request_approve(actor=office, request=ended, reason="Approved.")
        rights_services_.grant_revoke(
            actor=office,
            grant=Grant.objects.get(request=ended),
            reason="The licence check is done: the purpose is fulfilled.",
        )
        attestations_open_due()

    def _resource(self, steward, owner, *, identifier, methods, items, csv, legal_basis, **data):
        resource = Resource.objects.filter(identifier=identifier).first()
        if resource is None:
            resource = catalog_services.resource_create(
                actor=steward,
                owner_department=owner,
                data={
                    "identifier": identifier,
                    "collection_legal_basis": legal_basis,
                    "format": "CSV",
                    **data,
                },
                methods=methods,
                items=items,
            )
        if csv and not resource.releases.exists():
            upload = SimpleUploadedFile(f"{identifier}.csv", csv, content_type="text/csv")
            catalog_services.release_ingest(actor=steward, resource=resource, upload=upload)
        if resource.status == Resource.Status.DRAFT:
            catalog_services.resource_publish(actor=steward, resource=resource)
        return resource
