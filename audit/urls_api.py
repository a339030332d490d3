"""The research API (see API.md "Research")."""

from django.urls import include, path

urlpatterns = [
    path("research/", include("audit.research.urls_api")),
]
