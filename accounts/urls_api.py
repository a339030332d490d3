from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("program/", api.ProgramApi.as_view(), name="program"),
    path("program/suspend/", api.ProgramSuspendApi.as_view(), name="program-suspend"),
    path("program/pause/", api.ProgramPauseApi.as_view(), name="program-pause"),
    path("program/resume/", api.ProgramResumeApi.as_view(), name="program-resume"),
    path("invitations/", api.InvitationListCreateApi.as_view(), name="invitations"),
    path("invitations/redeem/", api.InvitationRedeemApi.as_view(), name="invitation-redeem"),
    path("invitations/<uuid:invitation_id>/revoke/", api.InvitationRevokeApi.as_view(),
         name="invitation-revoke"),
    path("cohorts/", api.CohortListApi.as_view(), name="cohorts"),
]
