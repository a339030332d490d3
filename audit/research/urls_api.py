"""Research endpoints, one module per concern."""

from audit.research import checkpoints_api, exports_api, metrics_api

urlpatterns = [
    *checkpoints_api.urlpatterns,
    *exports_api.urlpatterns,
    *metrics_api.urlpatterns,
]
