"""``/api/v1/grants/{id}/agreement/`` and its ``sign/`` (included before the router)."""

from django.urls import path

from standards.views_agreement_api import AgreementSignView, AgreementView

urlpatterns = [
    path("grants/<id:pk>/agreement/", AgreementView.as_view(), name="grant-agreement"),
    path(
        "grants/<id:pk>/agreement/sign/", AgreementSignView.as_view(), name="grant-agreement-sign"
    ),
]
