"""The demo world of DESIGN.md. Idempotent: running it again changes nothing but passwords.

``--lang zh-hans`` builds the same world with its human texts in Chinese (_demo_texts.py holds
them, one table per language) and sets the demo users' language to zh-hans.
"""

import io
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone, translation

from access_requests import services as request_services
from access_requests.models import Request
from catalog import services as catalog_services
from catalog.models import Resource
from departments import services as department_services
from departments.models import Department, Membership
from departments.permissions import forget_roles
from governance.models import Demand, Dispute, QualityReport
from governance.services import demands as demand_services
from governance.services import freshness as freshness_services
from ledger import keys
from ledger.services import ledger_checkpoint_sign
from rights.models import Grant
from sharing.deliveries import deliveries_dispatch, delivery_build
from sharing.models import Delivery
from standards.agreements import agreement_sign

from ._demo_texts import TEXTS

# The demo's witnesses: HEALTH's and CIVIL's, on loopback (scripts/demo.sh starts them).
DEMO_WITNESSES = [("HEALTH", 8101), ("CIVIL", 8102)]
DEFAULT_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo only, printed by the command

EMAILS_FILE = "demo-emails.txt"  # under VAR_DIR: the emails of the last quiet seeding


class DemoMailBackend(ConsoleEmailBackend):
    """The console backend's text, into the file of ``_emails_to_file`` (opened, and so
    emptied, at the first email: a seeding that sends none keeps the last one's)."""

    path: Path | None = None
    opened: io.TextIOBase | None = None
    sent = 0

    def send_messages(self, email_messages):
        cls = DemoMailBackend
        if cls.opened is None:
            assert cls.path is not None, "DemoMailBackend outside _emails_to_file"
            cls.path.parent.mkdir(parents=True, exist_ok=True)
            cls.opened = cls.path.open("w", encoding="utf-8")
        self.stream = cls.opened
        count = super().send_messages(email_messages)
        cls.sent += count
        return count


@contextmanager
def _emails_to_file(path: Path) -> Iterator[None]:
    """While seeding quietly, every email goes to ``path`` instead of the configured backend
    (the console, in development)."""
    backend = settings.EMAIL_BACKEND
    DemoMailBackend.path, DemoMailBackend.opened, DemoMailBackend.sent = path, None, 0
    settings.EMAIL_BACKEND = f"{__name__}.DemoMailBackend"
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend
        if DemoMailBackend.opened is not None:
            DemoMailBackend.opened.close()
        DemoMailBackend.path = DemoMailBackend.opened = None


# What the summary counts: (model, its name in the summary line, one and more).
COUNTED = [
    (Department, "department", "departments"),
    (get_user_model(), "user", "users"),
    (Resource, "catalog entry", "catalog entries"),
    (Request, "request", "requests"),
    (Grant, "grant", "grants"),
    (Delivery, "delivery", "deliveries"),
    (Dispute, "dispute", "disputes"),
    (QualityReport, "quality report", "quality reports"),
    (Demand, "demand", "demands"),
]


def _counted(number: int, one: str, more: str) -> str:
    return f"{number} {one if number == 1 else more}"


# The world's structure; its names and other texts are in _demo_texts.TEXTS[lang].
DEPARTMENTS = [
    ("OFFICE", Department.Kind.OFFICE),
    ("HEALTH", Department.Kind.ORDINARY),
    ("CIVIL", Department.Kind.ORDINARY),
    ("POLICE", Department.Kind.ORDINARY),
]
USERS = [
    ("office", "OFFICE", Membership.Role.REVIEWER, True),
    ("auditor", "OFFICE", Membership.Role.AUDITOR, True),
    ("health_steward", "HEALTH", Membership.Role.STEWARD, False),
    ("civil_clerk", "CIVIL", Membership.Role.REQUESTER, False),
    ("police_clerk", "POLICE", Membership.Role.REQUESTER, False),
]
VACCINATION_ITEMS = [
    ("resident_id", "string", "personal", True),
    ("birth_date", "date", "personal", True),
    ("vaccine_code", "string", "internal", True),
    ("dose_number", "integer", "internal", True),
    ("vaccination_date", "date", "internal", True),
    ("clinic_code", "string", "public", True),
    ("lot_fee", "decimal", "internal", False),
    ("adverse_event", "boolean", "sensitive", False),
]
CLINIC_ITEMS = [
    ("clinic_code", "string", "public", True),
    ("clinic_name", "string", "public", True),
    ("district", "string", "public", True),
    ("licensed_until", "date", "public", True),
]
PSY_ITEMS = [("case_id", "string", "sensitive", True)]


def _sign(request, *signers):
    """The demo's departments sign the new grant's data-sharing agreement (each signer for the
    department they act for), so its data can be used (GRANT_AGREEMENT_REQUIRED)."""
    agreement = Grant.objects.get(request=request).agreement
    for signer in signers:
        agreement_sign(actor=signer, agreement=agreement)


def _items(spec, descriptions, lookup_keys=("resident_id", "clinic_code")):
    return [
        {
            "name": n,
            "type": t,
            "sensitivity": s,
            "required": r,
            "description": descriptions[n],
            "lookup_key": n in lookup_keys,
        }
        for n, t, s, r in spec
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


def clinics_csv(texts):
    """40 clinics; their names and districts (prose cells) in the world's language."""
    names, districts = texts["clinic_names"], texts["districts"]
    lines = ["clinic_code,clinic_name,district,licensed_until"]
    for n in range(1, 41):
        lines.append(f"CL-{n:03d},{names[n - 1]},{districts[n % 6]},2027-12-31")
    return ("\n".join(lines) + "\n").encode("utf-8")


# The items a vaccination request names, in this order (slices pick some of them).
VACC_REQUEST_ITEMS = ["resident_id", "vaccine_code", "dose_number", "birth_date"]


def _reasons(texts, resource, names):
    """(item, why) pairs: each item with its reason of _demo_texts' "item_reasons"."""
    return [(name, texts["item_reasons"][f"{resource}.{name}"]) for name in names]


def _request_basis(texts):
    return {"legal_basis_kind": "statute", **texts["request_basis"]}


class _RequestFiler:
    """Files a demo request as a draft: ``file(user, dept, resource, items, method=...)``."""

    def __init__(self, departments, texts):
        self.departments = departments
        self.texts = texts
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
                "purpose": extra.pop("purpose", self.texts["purposes"]["default"]),
                **_request_basis(self.texts),
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
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="Print every step and every email, as -v 2 does (by default: one summary "
            f"line, and the emails in VAR_DIR/{EMAILS_FILE}).",
        )
        parser.add_argument("--rows", type=int, default=300, help="Rows in the demo release.")
        parser.add_argument(
            "--lang",
            choices=sorted(TEXTS),
            default="en",
            help="Language of the world's names and texts (zh-hans: Chinese, and the demo "
            "users see the portal in Chinese). Only what does not exist yet is created in it.",
        )

    def handle(self, *args, password, rows, lang="en", verbose=False, **options):
        self.texts = TEXTS[lang]
        self.verbose = verbose or options.get("verbosity", 1) >= 2
        self.notes: list[str] = []  # said in the summary line when quiet
        language = self.texts["profile_language"]
        before = {model: model._default_manager.count() for model, *_ in COUNTED}
        emails = Path(settings.VAR_DIR) / EMAILS_FILE
        # Texts the services write into the world as they go (reasons they word themselves) are in
        # its language; notifications follow each recipient's profile language anyway. The emails
        # go out when the build commits, inside the mail context.
        mails = nullcontext() if self.verbose else _emails_to_file(emails)
        words = translation.override(language) if language else nullcontext()
        with mails, words:
            self._build(password, rows)
        users = ", ".join(["admin", *(u for u, *_ in USERS)])
        if self.verbose:
            self.stdout.write(self.style.SUCCESS("Demo world ready."))
            self.stdout.write(f"Users (password: {password}): {users}")
            if language:
                self.stdout.write(f"Their language: {language}.")
            return
        self.stdout.write(
            self._summary(before, users, password, emails, DemoMailBackend.sent, language)
        )

    def _summary(self, before, users, password, emails, sent, language):
        """One line: what was created and kept, who signs in, where the emails went."""
        created, kept = [], []
        for model, one, more in COUNTED:
            now = model._default_manager.count()
            if now > before[model]:
                created.append(_counted(now - before[model], one, more))
            if before[model]:
                kept.append(_counted(before[model], one, more))
        done = f"created {', '.join(created)}" if created else "created nothing"
        if kept:
            done += f"; kept {', '.join(kept)}"
        base = Path(settings.BASE_DIR)
        where = emails.relative_to(base) if emails.is_relative_to(base) else emails
        words = [
            f"Demo world ready: {done}.",
            f"Sign in as {users} with the password {password}"
            + (f" (language {language})." if language else "."),
            f"{_counted(sent, 'email', 'emails')} written to {where}; -v 2 prints everything."
            if sent
            else "No emails this time; -v 2 prints everything.",
            *self.notes,
        ]
        return " ".join(words)

    @transaction.atomic
    def _build(self, password, rows):
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

    def _say(self, line):
        """A step's line, printed with -v 2 (the quiet summary says what matters)."""
        if self.verbose:
            self.stdout.write(line)

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
            self._say(f"Witness of {code}: {vkey.read_text().strip()} on port {port}")

    def _departments(self):
        departments, named, kept = {}, self.texts["departments"], []
        for code, kind in DEPARTMENTS:
            department = Department.objects.filter(code=code).first()
            if department is not None and department.name != named[code]:
                kept.append(f"{code} “{department.name}”")
            departments[code] = department or department_services.department_create(
                code=code, name=named[code], kind=kind
            )
        if kept:
            note = (
                f"Kept as seeded before: {', '.join(kept)}. A world keeps its texts; start from "
                "an empty database for another --lang."
            )
            self._say(note)
            if not self.verbose:
                self.notes.append(note)
        return departments

    def _users(self, departments, password):
        User = get_user_model()
        users = {}
        view_perms = Permission.objects.filter(codename__startswith="view_")
        language = self.texts["profile_language"]
        for username, code, role, staff in USERS:
            user, _ = User.objects.get_or_create(username=username, defaults=self._name(username))
            user.set_password(password)
            user.is_staff = staff
            user.email = f"{username}@demo.govshare.invalid"
            user.save()
            if staff:
                user.user_permissions.add(*view_perms)
            department_services.membership_grant(user=user, department=departments[code], role=role)
            forget_roles(user)
            users[username] = user
        admin, _ = User.objects.get_or_create(username="admin", defaults=self._name("admin"))
        admin.is_staff = admin.is_superuser = True
        admin.email = "admin@demo.govshare.invalid"
        admin.set_password(password)
        admin.save()
        if language:  # before the workflow, so their notifications are worded in it too
            for user in [*users.values(), admin]:
                department_services.profile_set_language(user=user, language=language)
        return users

    def _name(self, username):
        first, last = self.texts["users"][username]
        return {"first_name": first, "last_name": last}

    def _catalog(self, steward, health, rows):
        """HEALTH's three entries: conditional (with a release), unconditional, not shareable."""
        self._resource(
            steward,
            health,
            identifier="HEALTH-VACC-001",
            sharing_type="conditional",
            methods=["periodic_copy", "realtime", "result_only"],
            update_cycle="daily",
            spec=VACCINATION_ITEMS,
            csv=vaccination_csv(rows),
        )
        self._resource(
            steward,
            health,
            identifier="HEALTH-CLINIC-001",
            sharing_type="unconditional",
            methods=["periodic_copy", "upload", "realtime"],
            update_cycle="monthly",
            spec=CLINIC_ITEMS,
            csv=clinics_csv(self.texts),
        )
        self._resource(
            steward,
            health,
            identifier="HEALTH-PSY-001",
            sharing_type="not_shareable",
            methods=[],
            update_cycle="irregular",
            spec=PSY_ITEMS,
            csv=None,
        )

    def _workflow(self, users, departments):
        """One request in each interesting state, and an active grant of each method."""
        file = _RequestFiler(departments, self.texts)
        self._approved_realtime(users, file)
        self._under_review(users, file)
        self._returned_and_rejected(users, file)
        self._other_methods(users, file)
        # A draft not yet submitted.
        file(
            users["civil_clerk"],
            "CIVIL",
            file.vaccination,
            _reasons(self.texts, "vaccination", VACC_REQUEST_ITEMS[2:3]),
            purpose=self.texts["purposes"]["draft"],
        )

    def _approved_realtime(self, users, file):
        """Approved, partially: an active real-time grant for CIVIL."""
        civil, steward, office = users["civil_clerk"], users["health_steward"], users["office"]
        reasons = self.texts["reasons"]
        approved = file(
            civil,
            "CIVIL",
            file.vaccination,
            _reasons(self.texts, "vaccination", VACC_REQUEST_ITEMS),
        )
        request_services.request_submit(actor=civil, request=approved)
        request_services.request_endorse(actor=steward, request=approved, reason=reasons["endorse"])
        request_services.request_approve(
            actor=office,
            request=approved,
            reason=reasons["approve_partly"],
            fields=["resident_id", "vaccine_code", "dose_number"],
            max_records_per_day=5000,
            max_calls_per_day=2000,
        )
        _sign(approved, steward, civil)

    def _under_review(self, users, file):
        """One waiting for the owner's opinion, one (unconditional) straight at the office."""
        civil, police = users["civil_clerk"], users["police_clerk"]
        purposes = self.texts["purposes"]
        owner_review = file(
            police,
            "POLICE",
            file.vaccination,
            _reasons(self.texts, "vaccination", VACC_REQUEST_ITEMS[:2]),
            purpose=purposes["detainee_screening"],
        )
        request_services.request_submit(actor=police, request=owner_review)
        office_review = file(
            civil,
            "CIVIL",
            file.clinics,
            _reasons(self.texts, "clinics", ["clinic_code", "clinic_name"]),
            method="periodic_copy",
            frequency="monthly",
            purpose=purposes["clinic_register"],
        )
        request_services.request_submit(actor=civil, request=office_review)

    def _returned_and_rejected(self, users, file):
        """Returned by the owner for changes; rejected by the office (appealable once)."""
        civil, police = users["civil_clerk"], users["police_clerk"]
        steward, office = users["health_steward"], users["office"]
        purposes, reasons = self.texts["purposes"], self.texts["reasons"]
        returned = file(
            police,
            "POLICE",
            file.vaccination,
            _reasons(self.texts, "vaccination", VACC_REQUEST_ITEMS),
            purpose=purposes["statistics"],
        )
        request_services.request_submit(actor=police, request=returned)
        request_services.request_return(actor=steward, request=returned, reason=reasons["return"])
        rejected = file(
            civil,
            "CIVIL",
            file.vaccination,
            _reasons(self.texts, "vaccination", VACC_REQUEST_ITEMS[:1]),
            purpose=purposes["research"],
        )
        request_services.request_submit(actor=civil, request=rejected)
        request_services.request_endorse(actor=steward, request=rejected)
        request_services.request_reject(actor=office, request=rejected, reason=reasons["reject"])

    def _other_methods(self, users, file):
        """A daily periodic copy for CIVIL and a result-only check for POLICE, both approved."""
        steward, office = users["health_steward"], users["office"]
        purposes = self.texts["purposes"]
        for user, dept, method, frequency, items, purpose in [
            (
                users["civil_clerk"],
                "CIVIL",
                "periodic_copy",
                "daily",
                VACC_REQUEST_ITEMS[1:3],
                purposes["daily_copy"],
            ),
            (
                users["police_clerk"],
                "POLICE",
                "result_only",
                "",
                VACC_REQUEST_ITEMS[:3],
                purposes["result_only"],
            ),
        ]:
            request = file(
                user,
                dept,
                file.vaccination,
                _reasons(self.texts, "vaccination", items),
                method=method,
                frequency=frequency,
                purpose=purpose,
            )
            request_services.request_submit(actor=user, request=request)
            request_services.request_endorse(actor=steward, request=request)
            request_services.request_approve(
                actor=office,
                request=request,
                reason=self.texts["reasons"]["approve"],
                max_calls_per_day=500,
            )
            # POLICE's result-only grant is left awaiting POLICE's signature: the agreement
            # flow can be seen (and finished by police_clerk) in the demo.
            _sign(request, steward, *([user] if dept != "POLICE" else []))

    def _governance(self, users, departments):
        """One acknowledged quality report and one routed demand that a second department joined."""
        from governance.models import Demand, QualityReport
        from governance.services import quality as governance

        if not QualityReport.objects.exists():
            texts = self.texts["quality_report"]
            report = governance.quality_report_file(
                actor=users["civil_clerk"],
                department=departments["CIVIL"],
                resource=Resource.objects.get(identifier="HEALTH-VACC-001"),
                kind="wrong_value",
                item="dose_number",
                lines=[2, 3],
                description=texts["description"],
            )
            governance.quality_report_acknowledge(
                actor=users["health_steward"], report=report, reason=texts["acknowledge"]
            )
        if not Demand.objects.exists():
            texts = self.texts["demand"]
            demand = demand_services.demand_file(
                actor=users["civil_clerk"],
                department=departments["CIVIL"],
                data={
                    key: texts[key] for key in ("title", "description", "purpose", "legal_basis")
                },
                items=list(texts["items"]),
            )
            demand_services.demand_join(
                actor=users["police_clerk"],
                demand=demand,
                department=departments["POLICE"],
                purpose=texts["join_purpose"],
            )
            demand_services.demand_route(
                actor=users["office"],
                demand=demand,
                department=departments["HEALTH"],
                reason=texts["route_reason"],
            )
        freshness_services.resources_flag_stale()

    def _dispute_and_attestation(self, users, departments):
        """One dispute escalated to the office, and one ended grant awaiting its attestation."""
        from governance.services import disputes
        from rights import services as rights_services_
        from rights.attestations import attestations_open_due

        civil, steward, office = users["civil_clerk"], users["health_steward"], users["office"]
        texts = self.texts["dispute"]
        realtime = Grant.objects.filter(
            grantee_department__code="CIVIL", method="realtime", status=Grant.Status.ACTIVE
        ).first()
        dispute = disputes.dispute_raise(
            actor=civil,
            kind="grant",
            grant=realtime,
            disputed=texts["disputed"],
            asked=texts["asked"],
        )
        disputes.dispute_statement(actor=steward, dispute=dispute, text=texts["statement"])
        disputes.dispute_escalate(actor=civil, dispute=dispute, reason=texts["escalate"])
        # End of use: a one-off clinic check, approved and then revoked once done.
        today = timezone.localdate()
        ended = request_services.request_create(
            actor=civil,
            department=departments["CIVIL"],
            resource=Resource.objects.get(identifier="HEALTH-CLINIC-001"),
            data={
                "purpose": self.texts["purposes"]["licence_check"],
                **_request_basis(self.texts),
                "method": "realtime",
                "frequency": "",
                "valid_from": today,
                "valid_until": today + timedelta(days=30),
            },
            items=[
                {"name": name, "reason": reason}
                for name, reason in _reasons(self.texts, "licence_check", ["clinic_code"])
            ],
        )
        request_services.request_submit(actor=civil, request=ended)
        request_services.request_approve(
            actor=office, request=ended, reason=self.texts["reasons"]["approve"]
        )
        _sign(ended, steward, civil)
        rights_services_.grant_revoke(
            actor=office,
            grant=Grant.objects.get(request=ended),
            reason=self.texts["reasons"]["revoke"],
        )
        attestations_open_due()

    def _resource(self, steward, owner, *, identifier, methods, spec, csv, **data):
        """One catalog entry: its texts are ``self.texts["resources"][identifier]``."""
        texts = dict(self.texts["resources"][identifier])
        legal_basis, descriptions = texts.pop("legal_basis"), texts.pop("items")
        resource = Resource.objects.filter(identifier=identifier).first()
        if resource is None:
            resource = catalog_services.resource_create(
                actor=steward,
                owner_department=owner,
                data={
                    "identifier": identifier,
                    "collection_legal_basis": legal_basis,
                    "format": "CSV",
                    **texts,
                    **data,
                },
                methods=methods,
                items=_items(spec, descriptions),
            )
        if csv and not resource.releases.exists():
            upload = SimpleUploadedFile(f"{identifier}.csv", csv, content_type="text/csv")
            catalog_services.release_ingest(actor=steward, resource=resource, upload=upload)
        if resource.status == Resource.Status.DRAFT:
            catalog_services.resource_publish(actor=steward, resource=resource)
        return resource
