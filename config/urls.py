"""The platform's URLs: web pages, the v1 API, its schema and docs, the Django admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as account_views
from core import views as core_views
from submissions import views as submission_views

api_v1 = [
    path("", include("accounts.urls_api")),
    path("", include("submissions.urls_api")),
    path("", include("review.urls_api")),
    path("", include("audit.urls_api")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="home", permanent=False)),
    path("home/", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("review.urls")),  # before submissions.urls (see review/urls.py)
    path("", include("submissions.urls")),
    path("s/<str:token>/", submission_views.share_page, name="share-page"),
    path("s/<str:token>/video/", submission_views.share_video, name="share-video"),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[]),
         name="api-docs"),
    path("admin/", admin.site.urls),
    path("healthz/", core_views.healthz, name="healthz"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
