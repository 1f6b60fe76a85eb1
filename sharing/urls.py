"""Delivery downloads, mounted under ``/grants/`` in the ``grants`` namespace by the project's
URLs (the grant page links to them)."""

from django.urls import path

from sharing import views

urlpatterns = [
    path("deliveries/<int:pk>/download/", views.delivery_download, name="delivery_download"),
]
