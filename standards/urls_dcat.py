"""Filled in by issue #14."""

urlpatterns: list = []
