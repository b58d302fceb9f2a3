from django.urls import path

from linli.resources import views

app_name = "resources"
urlpatterns = [
    path("", views.resource_list, name="list"),
    path("new/", views.resource_new, name="new"),
    path("manage/", views.manage, name="manage"),
    path("mine/", views.my_bookings, name="my_bookings"),
    path("<int:pk>/", views.resource_detail, name="detail"),
    path("<int:pk>/week/", views.resource_week, name="week"),
    path("<int:pk>/book/", views.book, name="book"),
    path("<int:pk>/series/", views.series, name="series"),
    path("<int:pk>/edit/", views.resource_edit, name="edit"),
    path("<int:pk>/status/", views.resource_status, name="status"),
    path("photos/<int:pk>/", views.resource_photo, name="photo"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking"),
    path("bookings/<int:pk>/<str:action>/", views.booking_action, name="booking_action"),
    path("booking-photos/<int:pk>/", views.booking_photo, name="booking_photo"),
]
