from django.urls import path

from review import api

urlpatterns = [
    path("review/reasons/", api.ReasonListApi.as_view(), name="review-reasons"),
    path("review/queue/", api.QueueApi.as_view(), name="review-queue"),
    path("review/claims/", api.ClaimCreateApi.as_view(), name="review-claims"),
    path("review/claims/<uuid:claim_id>/renew/", api.ClaimRenewApi.as_view(),
         name="review-claim-renew"),
    path("review/claims/<uuid:claim_id>/release/", api.ClaimReleaseApi.as_view(),
         name="review-claim-release"),
    path("review/claims/<uuid:claim_id>/decide/", api.ClaimDecideApi.as_view(),
         name="review-claim-decide"),
    path("submissions/<uuid:submission_id>/appeal/", api.AppealApi.as_view(),
         name="submission-appeal"),
]
