"""Placeholder module until its views land."""

urlpatterns: list = []
