from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.auditor_search, name="search"),
    path("ledger/<int:index>/", views.entry_detail, name="entry_detail"),
    path("ledger/<int:index>/receipt/", views.entry_receipt, name="entry_receipt"),
    path("trail/<str:kind>/<int:pk>/", views.trail_view, name="trail"),
]
