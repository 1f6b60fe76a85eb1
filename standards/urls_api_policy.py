"""The grant's ODRL agreement under the API (included by govshare/api_urls.py)."""

from django.urls import path

from standards.views_policy import GrantPolicyView

urlpatterns = [
    path("grants/<id:pk>/policy/", GrantPolicyView.as_view(), name="grant-policy"),
]
