from django.urls import path

from submissions import views

app_name = "submissions"

urlpatterns = [
    path("clips/", views.clips, name="clips"),
    path("clips/<uuid:submission_id>/", views.detail, name="detail"),
    path("clips/<uuid:submission_id>/<str:action>/", views.move, name="move"),
]
