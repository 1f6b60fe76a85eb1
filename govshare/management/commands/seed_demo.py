"""The demo world of DESIGN.md. Idempotent: running it again changes nothing but passwords."""

import io
import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import services as catalog_services
from catalog.models import Resource
from rights import services as rights_services
from rights.models import Department, Membership
from rights.permissions import forget_roles

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


def _items(spec):
    return [
        {"name": n, "type": t, "sensitivity": s, "required": r, "description": d}
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


class Command(BaseCommand):
    help = "Create the demo departments, users and HEALTH catalog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--rows", type=int, default=300, help="Rows in the demo release.")

    @transaction.atomic
    def handle(self, *args, password, rows, **options):
        departments = {}
        for code, name, kind in DEPARTMENTS:
            department = Department.objects.filter(code=code).first()
            departments[code] = department or rights_services.department_create(
                code=code, name=name, kind=kind
            )
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
            rights_services.membership_grant(user=user, department=departments[code], role=role)
            forget_roles(user)
            users[username] = user
        admin, _ = User.objects.get_or_create(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.email = "admin@demo.govshare.invalid"
        admin.set_password(password)
        admin.save()

        steward = users["health_steward"]
        self._resource(
            steward,
            departments["HEALTH"],
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
            departments["HEALTH"],
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
            departments["HEALTH"],
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
        self.stdout.write(self.style.SUCCESS("Demo world ready."))
        self.stdout.write(f"Users (password: {password}): admin, {', '.join(u for u, *_ in USERS)}")

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
