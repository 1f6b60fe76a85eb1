"""A grant's data-sharing agreement: the printable page and the PDF (under /grants/)."""

from django.urls import path

from standards import views_agreement

app_name = "agreements"

urlpatterns = [
    path("<int:pk>/agreement/", views_agreement.agreement_detail, name="agreement_detail"),
    path("<int:pk>/agreement.pdf", views_agreement.agreement_pdf_download, name="agreement_pdf"),
]
