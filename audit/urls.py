"""Research web pages (the dashboard)."""

from django.urls import path

from audit import views

urlpatterns = [
    path("research/", views.dashboard, name="research-dashboard"),
]
