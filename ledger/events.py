"""The ledger's event types in words: one mapping for every page that shows an entry.

The codes stay the record (they are inside the signed bytes and the search); people read the
labels. ``tests/test_event_labels.py`` collects every code the services can append, from the
``event=`` arguments and the workflows' transition tables, and fails when one has no label here
(or when a label names a code that nothing appends).
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EVENT_LABELS: dict[str, Promise] = {
    # access requests
    "request.create": _("Request created"),
    "request.edit": _("Request changed"),
    "request.submit": _("Request submitted"),
    "request.route_to_owner": _("Request sent to the owner for review"),
    "request.route_to_office": _("Request sent for decision"),
    "request.endorse": _("Request endorsed by the owner"),
    "request.return": _("Request returned for changes"),
    "request.reject": _("Request rejected"),
    "request.approve": _("Request approved"),
    "request.withdraw": _("Request withdrawn"),
    "request.appeal": _("Request appealed"),
    # grants
    "grant.grant": _("Grant given"),
    "grant.agreement": _("Grant's agreement signed by both departments"),
    "grant.suspend": _("Grant suspended"),
    "grant.resume": _("Grant resumed"),
    "grant.revoke": _("Grant revoked"),
    "grant.expire": _("Grant expired"),
    "attestation.open": _("End-of-use attestation opened"),
    "attestation.attest": _("End of use attested"),
    # data-sharing agreements
    "agreement.generated": _("Data-sharing agreement drawn up"),
    "agreement.signed": _("Data-sharing agreement signed"),
    # the catalog
    "resource.published": _("Catalog entry published"),
    "resource.changed": _("Published catalog entry changed"),
    "resource.retired": _("Catalog entry retired"),
    "resource.stale": _("Catalog entry out of date"),
    "resource.fresh": _("Catalog entry up to date again"),
    "release.accepted": _("Release accepted"),
    # deliveries
    "delivery.succeeded": _("Delivery built"),
    "delivery.purged": _("Delivery file deleted after the retention period"),
    "delivery.invalidated": _("Delivery file found damaged or missing, rebuilt"),
    "delivery.file_removed": _("Delivery file removed"),
    # disputes
    "dispute.raise": _("Dispute raised"),
    "dispute.statement": _("Statement in a dispute"),
    "dispute.settle": _("Dispute settled by agreement"),
    "dispute.escalate": _("Dispute escalated to the management office"),
    "dispute.refer": _("Dispute referred to the supervising authority"),
    "dispute.decide": _("Dispute decided by the management office"),
    "dispute.record_final": _("Final decision of the supervising authority recorded"),
    "dispute.withdraw": _("Dispute withdrawn"),
    # quality reports
    "quality_report.file": _("Quality report filed"),
    "quality_report.acknowledge": _("Quality report acknowledged by the owner"),
    "quality_report.answer": _("Quality report answered"),
    "quality_report.resolve": _("Quality report resolved"),
    "quality_report.confirm": _("Quality report confirmed and closed"),
    "quality_report.reopen": _("Quality report reopened"),
    # demands for data the catalog lacks
    "demand.file": _("Data demand filed"),
    "demand.route": _("Data demand routed to a likely owner"),
    "demand.answer": _("Data demand answered"),
    "demand.decline": _("Data demand declined"),
    "demand.withdraw": _("Data demand withdrawn"),
    "demand.join": _("Data demand joined by another department"),
}


def event_label(code: str) -> str:
    """The event type in words, in the active language (the code itself if it has none:
    an entry older than its label still shows)."""
    label = EVENT_LABELS.get(code)
    return str(label) if label is not None else code
