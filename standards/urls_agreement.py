"""A grant's data-sharing agreement in the portal, under ``/grants/`` (namespace ``agreements``):
the printable page, the PDF and the signing."""

from django.urls import path

from standards import views_agreement, views_agreement_sign

app_name = "agreements"
urlpatterns = [
    path("<int:pk>/agreement/", views_agreement.agreement_detail, name="agreement_detail"),
    path("<int:pk>/agreement.pdf", views_agreement.agreement_pdf_download, name="agreement_pdf"),
    path("<int:pk>/agreement/sign/", views_agreement_sign.agreement_sign, name="agreement_sign"),
]
