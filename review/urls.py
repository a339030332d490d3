from django.urls import path

from review import views

app_name = "review"

# Included before submissions.urls: that app's ``clips/<id>/<action>/`` would take "appeal".
urlpatterns = [
    path("review/", views.moderate, name="moderate"),
    path("clips/<uuid:submission_id>/appeal/", views.appeal, name="appeal"),
]
