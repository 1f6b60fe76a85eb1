"""Write paths for the catalog: one function per state change (see STYLE.md).

Every function checks who may act, locks the row it changes, and records history with the actor.
The lifecycle draft → published → retired moves through the workflow engine (``RESOURCES``).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm

from catalog import release_store
from catalog.models import DataItem, Method, Release, Resource, SharingType
from catalog.release_validation import Column, Report, ReportDict
from core.exceptions import DomainError, IllegalTransition, PayloadTooLarge
from core.hooks import run_hooks
from core.search import index_text
from departments.models import Department
from departments.permissions import can_manage_resource, is_steward_of
from ledger.models import LedgerEntry
from ledger.services import ledger_append, text_sha256
from workflow.engine import Workflow

RESOURCE_FIELDS = (
    "identifier",
    "title",
    "abstract",
    "classification",
    "management_right_holder",
    "format",
    "sharing_type",
    "sharing_conditions",
    "not_shareable_reason",
    "not_shareable_law",
    "collection_legal_basis",
    "update_cycle",
)
ITEM_FIELDS = ("name", "type", "description", "sensitivity", "required", "lookup_key")
OWNER_PERMISSIONS = ("change_resource", "publish_resource", "upload_release")

S = Resource.Status
# action: (states it may start from, state it leads to)
TRANSITIONS = {
    "publish": ({S.DRAFT}, S.PUBLISHED),
    "retire": ({S.PUBLISHED}, S.RETIRED),
}
RESOURCES = Workflow(
    model=Resource,
    transitions=TRANSITIONS,
    noun=gettext_lazy("resource"),
    past={"publish": gettext_lazy("published"), "retire": gettext_lazy("retired")},
    state_field="status",
    refusals={
        "publish": gettext_lazy("Only a draft can be published; this resource is %(status)s."),
        "retire": gettext_lazy("Only a published resource can be retired; this one is %(status)s."),
    },
)

Data = Mapping[str, Any]
Item = dict[str, Any]


class ReleaseRejected(DomainError):
    """The file failed validation; ``report`` lists the problems by line and column."""

    status_code = 400

    def __init__(self, report: ReportDict) -> None:
        self.report = report
        count = len(report["errors"])
        more = (
            _(" (and more; only the first %(n)d are listed)") % {"n": count}
            if (report["error_count_capped"])
            else ""
        )
        super().__init__(
            _("The file was refused: %(count)d problem(s) found%(more)s. Nothing was changed.")
            % {"count": count, "more": more}
        )
        self.extra = {"report": report}


def resource_problems(data: Data, methods: Sequence[str]) -> dict[str, list[str]]:
    """The cross-field rules' complaints about an entry's metadata, by field (none: ``{}``), so
    a form whose other fields did not parse shows these in the same pass."""
    try:
        _check_sharing_rules(data, methods)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _check_sharing_rules(data: Data, methods: Sequence[str]) -> None:
    """The cross-field rules of a catalog entry, as ValidationError by field."""
    errors: dict[str, str] = {}
    sharing_type = data.get("sharing_type")
    if sharing_type == SharingType.CONDITIONAL and not data.get("sharing_conditions", "").strip():
        errors["sharing_conditions"] = _("A conditional resource must state its conditions.")
    if sharing_type == SharingType.NOT_SHAREABLE:
        if not data.get("not_shareable_reason", "").strip():
            errors["not_shareable_reason"] = _("Say why the resource cannot be shared.")
        if not data.get("not_shareable_law", "").strip():
            errors["not_shareable_law"] = _("Name the law that forbids sharing it.")
        if methods:
            errors["methods"] = _("A resource that is not shareable allows no sharing method.")
    elif not methods:
        errors["methods"] = _("Choose at least one sharing method.")
    unknown = set(methods) - set(Method.values)
    if unknown:
        errors["methods"] = _("Unknown sharing method(s): %(m)s.") % {
            "m": ", ".join(sorted(unknown))
        }
    if errors:
        raise ValidationError(errors)


def _check_items(items: Sequence[Data]) -> None:
    errors: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        name = item.get("name", "")
        if name in seen:
            errors.append(
                _("Item %(n)d: the name %(name)s is used twice.") % {"n": index, "name": name}
            )
        seen.add(name)
        probe = DataItem(resource_id=0, **{k: item.get(k) for k in ITEM_FIELDS if k in item})
        try:
            probe.full_clean(exclude=["resource", "position"], validate_unique=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.extend(
                    _("Item %(n)d (%(field)s): %(message)s")
                    % {"n": index, "field": field, "message": m}
                    for m in messages
                )
    if errors:
        raise ValidationError({"data_items": errors})


def _normal_items(items: Iterable[Data]) -> list[Item]:
    """Items as plain dicts with every field present, in the given order."""
    return [
        {
            "name": (item.get("name") or "").strip(),
            "type": item.get("type"),
            "description": (item.get("description") or "").strip(),
            "sensitivity": item.get("sensitivity"),
            "required": bool(item.get("required", False)),
            "lookup_key": bool(item.get("lookup_key", False)),
        }
        for item in items
    ]


def _search_text(resource: Resource, items: Iterable[Data]) -> str:
    parts = [resource.identifier, resource.title, resource.abstract, resource.classification]
    for item in items:
        parts.append(item["name"].replace("_", " "))
        parts.append(item["name"])
        parts.append(item.get("description", ""))
    return index_text("\n".join(p for p in parts if p))


def _apply(resource: Resource, data: Data, methods: Sequence[str]) -> None:
    for field in RESOURCE_FIELDS:
        if field in data:
            setattr(resource, field, data[field])
    for method, field in Resource.METHOD_FIELDS.items():
        setattr(resource, field, method in methods)


def _replace_items(resource: Resource, items: Sequence[Data], actor: User) -> None:
    """Make the resource's items exactly ``items`` (matched by name), keeping history per item."""
    existing = {item.name: item for item in resource.data_items.all()}
    wanted: set[str] = set()
    for position, data in enumerate(items):
        wanted.add(data["name"])
        item = existing.get(data["name"]) or DataItem(resource=resource, name=data["name"])
        changed = (
            item.pk is None
            or item.position != position
            or any(getattr(item, k) != data.get(k, getattr(item, k)) for k in ITEM_FIELDS)
        )
        if changed:
            for key in ITEM_FIELDS:
                if key in data:
                    setattr(item, key, data[key])
            item.position = position
            item._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
            item.save()
    for name, item in existing.items():
        if name not in wanted:
            item._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
            item.delete()


def _resolve_related(resource: Resource, related: Iterable[Resource] | None) -> None:
    if related is None:
        return
    ids = {r.pk for r in related} - {resource.pk}
    resource.related_resources.set(ids)


@transaction.atomic
def resource_create(
    *,
    actor: User,
    owner_department: Department,
    data: Data,
    methods: Sequence[str],
    items: Iterable[Data],
    related: Iterable[Resource] | None = None,
) -> Resource:
    """Create a draft entry owned by ``owner_department``; only its stewards may.

    The owning department's group receives the object permissions to edit, publish and upload.
    """
    if not is_steward_of(actor, owner_department.pk):
        raise PermissionDenied(
            _("Only a data steward of %(dept)s can create its resources.")
            % {"dept": owner_department.code}
        )
    fields = dict(data)
    normal = _normal_items(items)
    if not fields.get("management_right_holder"):
        fields["management_right_holder"] = _default_management_holder()
    resource = Resource(owner_department=owner_department)
    _apply(resource, fields, methods)
    resource.full_clean(exclude=["related_resources"])
    _check_sharing_rules(fields | {"sharing_type": resource.sharing_type}, methods)
    _check_items(normal)
    resource.search_text = _search_text(resource, normal)
    resource._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    resource.save()
    _replace_items(resource, normal, actor)
    _resolve_related(resource, related)
    for perm in OWNER_PERMISSIONS:
        assign_perm(f"catalog.{perm}", owner_department.group, resource)
    return resource


def _default_management_holder() -> Department:
    holder = Department.objects.filter(kind=Department.Kind.OFFICE, is_active=True).first()
    if holder is None:
        raise ValidationError(
            {"management_right_holder": _("No data management office exists; name the holder.")}
        )
    return holder


def _locked_for_steward(actor: User, resource: Resource, perm: str) -> Resource:
    """The resource re-read and locked, if ``actor`` may manage it with ``perm`` (403 otherwise)."""
    resource = RESOURCES.lock(resource.pk)
    if not can_manage_resource(actor, resource, perm):
        raise PermissionDenied(
            _("Only a data steward of %(dept)s can do this.")
            % {"dept": resource.owner_department.code}
        )
    return resource


@transaction.atomic
def resource_update(
    *,
    actor: User,
    resource: Resource,
    data: Data,
    methods: Sequence[str] | None = None,
    items: Iterable[Data] | None = None,
    related: Iterable[Resource] | None = None,
) -> Resource:
    """Change a draft or published entry. A change to a published entry raises its version."""
    resource = _locked_for_steward(actor, resource, "catalog.change_resource")
    if resource.status == Resource.Status.RETIRED:
        raise IllegalTransition(_("A retired resource can no longer be changed."))
    if methods is None:
        methods = resource.methods
    current_items = [{k: getattr(i, k) for k in ITEM_FIELDS} for i in resource.data_items.all()]
    wanted = current_items if items is None else _normal_items(items)
    before = {f: getattr(resource, f) for f in RESOURCE_FIELDS} | {"methods": resource.methods}
    _apply(resource, data, methods)
    resource.full_clean(exclude=["related_resources"])
    merged = {f: getattr(resource, f) for f in RESOURCE_FIELDS}
    _check_sharing_rules(merged, methods)
    _check_items(wanted)
    if resource.status == Resource.Status.PUBLISHED and not wanted:
        raise ValidationError({"data_items": _("A published resource needs at least one item.")})
    after = merged | {"methods": resource.methods}
    items_changed = wanted != current_items
    related_before = set(resource.related_resources.values_list("pk", flat=True))
    related_changed = (
        related is not None and {r.pk for r in related} - {resource.pk} != related_before
    )
    if before == after and not items_changed and not related_changed:
        return resource  # nothing to record
    if resource.status == Resource.Status.PUBLISHED:
        resource.version += 1
    resource.search_text = _search_text(resource, wanted)
    resource._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    resource.save()
    _replace_items(resource, wanted, actor)
    _resolve_related(resource, related)
    if resource.status == Resource.Status.PUBLISHED:
        _ledger(resource, "resource.changed", actor)
    return resource


def _ledger(
    resource: Resource, event: str, actor: User, hashes: Mapping[str, str] | None = None
) -> LedgerEntry:
    """The ledger entry of a catalog transaction (drafts are the owner's business: none)."""
    return RESOURCES.record(
        None,
        event=event,
        actor=actor,
        departments=[resource.owner_department, resource.management_right_holder],
        subject={"resource": resource.pk},
        hashes=hashes,
        detail={"identifier": resource.identifier, "version": resource.version},
    )


@transaction.atomic
def resource_publish(*, actor: User, resource: Resource) -> Resource:
    """Draft → published. The entry must have data items and complete sharing metadata.

    Who may act is checked before the state; a refusal (``PermissionDenied``,
    ``IllegalTransition`` or ``ValidationError``) changes nothing.
    """
    resource = _locked_for_steward(actor, resource, "catalog.publish_resource")
    RESOURCES.check(resource, "publish")
    if not resource.data_items.exists():
        raise ValidationError({"data_items": _("Add at least one data item before publishing.")})
    resource.published_at = timezone.now()
    RESOURCES.move(resource, "publish", actor=actor, change_reason="published")
    _ledger(resource, "resource.published", actor)
    return resource


@transaction.atomic
def resource_retire(*, actor: User, resource: Resource, reason: str) -> Resource:
    """Published → retired, with the reason on record. Retired entries stay readable.

    The ledger holds the reason's SHA-256, never its text; a refusal changes nothing.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for retiring the resource.")})
    resource = _locked_for_steward(actor, resource, "catalog.publish_resource")
    RESOURCES.check(resource, "retire")
    resource.retired_at = timezone.now()
    RESOURCES.move(
        resource, "retire", actor=actor, change_reason=f"retired: {reason.strip()}"[:100]
    )
    _ledger(
        resource, "resource.retired", actor, hashes={"reason_sha256": text_sha256(reason.strip())}
    )
    return resource


def release_upload_columns(actor: User, resource: Resource, upload: File) -> list[Column]:
    """The release table's columns, once who may upload, the state and the size are checked.

    Raises ``PermissionDenied``, ``IllegalTransition`` (retired), ``PayloadTooLarge`` or
    ``ValidationError`` (no data items): the checks a file passes before it is read."""
    if not can_manage_resource(actor, resource, "catalog.upload_release"):
        raise PermissionDenied(
            _("Only a data steward of %(dept)s can upload releases.")
            % {"dept": resource.owner_department.code}
        )
    _refuse_if_retired(resource)
    limit = settings.RELEASE_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise PayloadTooLarge(
            _("The file is %(size)s; a release file may be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    columns: list[Column] = [
        {"name": i.name, "type": i.type, "required": i.required, "lookup_key": i.lookup_key}
        for i in resource.data_items.all()
    ]
    if not columns:
        raise ValidationError(_("Define the resource's data items before uploading a release."))
    return columns


def _refuse_if_retired(resource: Resource) -> None:
    if resource.status == Resource.Status.RETIRED:
        raise IllegalTransition(_("A retired resource takes no new releases."))


def _release_load(
    actor: User, resource: Resource, columns: list[Column], upload: File, report: Report
) -> Release:
    """Load the file into the next release's table; the release is returned unsaved, without
    its file. A file with a problem raises ``ReleaseRejected`` (the caller rolls back)."""
    sequence = (resource.releases.aggregate(n=Max("sequence"))["n"] or 0) + 1
    table = release_store.table_name_for(resource.pk, sequence)
    # One pass: every cell is parsed once, checked and loaded; the first problem stops
    # the loading, the reading goes on to list problems, and a refusal rolls it all back.
    release_store.create_table(table, columns)
    release_store.load_release(table, columns, upload, report)
    if not report.ok:
        raise ReleaseRejected(report.as_dict())
    release = Release(
        resource=resource,
        sequence=sequence,
        original_name=(upload.name or "release.csv")[:255],
        size_bytes=report.size_bytes,
        sha256=report.sha256,
        row_count=report.row_count,
        columns=columns,
        report=report.as_dict(),
        table_name=table,
        uploaded_by=actor,
    )
    release_store.create_indexes(table, [c["name"] for c in columns if c["lookup_key"]])
    return release


def release_ingest(
    *, actor: User, resource: Resource, upload: File, report: Report | None = None
) -> Release:
    """Validate ``upload`` against the resource's items and, if it is clean, store it.

    A refused file raises ``ReleaseRejected`` with a row-level report and changes nothing; a file
    over ``RELEASE_MAX_BYTES`` raises ``PayloadTooLarge`` before it is read. An accepted file
    becomes release n+1 with its SHA-256, row count, report and a typed table of its rows.
    ``report``, if given (empty, capped at ``RELEASE_MAX_ERRORS``), fills as the file is read, so
    another thread can follow the rows checked and the problems found (catalog.release_uploads).
    """
    columns = release_upload_columns(actor, resource, upload)
    if report is None:
        report = Report(max_errors=settings.RELEASE_MAX_ERRORS)
    stored_name = None
    try:
        with transaction.atomic():
            resource = RESOURCES.lock(resource.pk)
            _refuse_if_retired(resource)
            release = _release_load(actor, resource, columns, upload, report)
            upload.seek(0)
            release.file.save(release.original_name, upload, save=False)
            stored_name = release.file.name
            release._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
            release.save()
            # Upload-method grants get the new release (sharing.deliveries_for_release).
            run_hooks("release_accepted", release=release)
            ledger_append(
                event="release.accepted",
                actor=actor,
                departments=[resource.owner_department, resource.management_right_holder],
                subject={"resource": resource.pk, "release": release.pk},
                hashes={"sha256": release.sha256},
                detail={"sequence": release.sequence, "rows": release.row_count},
            )
    except BaseException:
        # Files are not transactional: a rolled-back release leaves no file behind.
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return release
