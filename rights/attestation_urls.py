from django.urls import path

from rights import views

app_name = "attestations"
urlpatterns = [
    path("", views.attestation_list, name="attestation_list"),
    path("<int:pk>/", views.attestation_detail, name="attestation_detail"),
    path("<int:pk>/attest/", views.attestation_attest, name="attestation_attest"),
]
