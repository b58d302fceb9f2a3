from django.urls import path

from linli.insight import views

app_name = "insight"
urlpatterns = [
    path("suggest/", views.suggest, name="suggest"),
    path("requests/<int:pk>/correct/", views.correct, name="correct"),
]
