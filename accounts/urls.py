from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("invite/", views.redeem, name="redeem"),
    path("invite/<str:code>/", views.redeem, name="redeem_code"),
    path("account/api-token/", views.api_token, name="api_token"),
    path("program/", views.program_admin, name="program_admin"),
    path("program/invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke_view,
         name="invitation_revoke"),
    path("program/users/<int:user_id>/revoke-token/", views.token_revoke_view,
         name="token_revoke"),
]
