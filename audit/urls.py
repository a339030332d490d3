"""Research web pages (the dashboard)."""

urlpatterns: list = []
