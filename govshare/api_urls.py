from django.urls import include, path, re_path, register_converter

from access_requests.api import RequestViewSet
from audit import api as ledger_api
from catalog.api import ResourceViewSet
from core.routing import IdConverter, IdRouter, api_not_found
from governance.api.demands import DemandViewSet
from governance.api.disputes import DisputeViewSet
from governance.api.quality import QualityReportViewSet
from rights.api import AttestationViewSet, GrantViewSet
from sharing.api import DeliveryViewSet, GrantDataViewSet
from transparency.register import RegisterAPIView
from transparency.views import ScoreboardAPIView

register_converter(IdConverter, "id")

router = IdRouter()
router.register("resources", ResourceViewSet, basename="resource")
router.register("requests", RequestViewSet, basename="request")
router.register("grants", GrantViewSet, basename="grant")
router.register("grants", GrantDataViewSet, basename="grant-data")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("quality-reports", QualityReportViewSet, basename="quality-report")
router.register("demands", DemandViewSet, basename="demand")
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("attestations", AttestationViewSet, basename="attestation")

urlpatterns = [
    path("ledger/key/", ledger_api.LedgerKeyView.as_view(), name="ledger-key"),
    path("ledger/keys/", ledger_api.LedgerKeysView.as_view(), name="ledger-keys"),
    path("ledger/checkpoint/", ledger_api.LedgerCheckpointView.as_view(), name="ledger-checkpoint"),
    path("ledger/entries/<id:index>/", ledger_api.LedgerEntryView.as_view(), name="ledger-entry"),
    path(
        "ledger/entries/<id:index>/receipt/",
        ledger_api.LedgerReceiptView.as_view(),
        name="ledger-receipt",
    ),
    path(
        "ledger/consistency/",
        ledger_api.LedgerConsistencyView.as_view(),
        name="ledger-consistency",
    ),
    path("register/", RegisterAPIView.as_view(), name="api-register"),
    path("scoreboard/", ScoreboardAPIView.as_view(), name="api-scoreboard"),
    path("", include("standards.urls_api_policy")),
    path("", include("standards.urls_api_agreement")),
    *router.urls,
    # Last: a JSON 404 for any other path under the API. Only paths ending in a slash, so
    # CommonMiddleware still redirects /api/v1/grants to /api/v1/grants/ (APPEND_SLASH).
    # [\s\S], not ".": a path with a newline in it (%0A) is a JSON 404 too.
    re_path(r"^(?:[\s\S]*/)?$", api_not_found, name="api-not-found"),
]
