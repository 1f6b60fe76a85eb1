"""A grant's data-sharing agreement in the portal, under ``/grants/`` (namespace ``agreements``)."""

from django.urls import path

from standards import views_agreement_sign

app_name = "agreements"
urlpatterns = [
    path("<int:pk>/agreement/sign/", views_agreement_sign.agreement_sign, name="agreement_sign"),
]
