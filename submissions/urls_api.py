from django.urls import path

from submissions import api

urlpatterns = [
    path("submissions/", api.SubmissionListCreateApi.as_view(), name="submissions"),
    path("submissions/<uuid:submission_id>/", api.SubmissionDetailApi.as_view(),
         name="submission"),
    path("submissions/<uuid:submission_id>/submit/", api.SubmissionSubmitApi.as_view(),
         name="submission-submit"),
    path("submissions/<uuid:submission_id>/withdraw/", api.SubmissionWithdrawApi.as_view(),
         name="submission-withdraw"),
    path("submissions/<uuid:submission_id>/share/", api.SubmissionShareApi.as_view(),
         name="submission-share"),
    path("submissions/<uuid:submission_id>/media/<str:kind>/", api.SubmissionMediaApi.as_view(),
         name="submission-media"),
    path("generations/", api.GenerationCreateApi.as_view(), name="generations"),
]
