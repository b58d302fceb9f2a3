from django.urls import path

from linli.propertyco import views

app_name = "propertyco"
urlpatterns = [
    # public (no login)
    path("", views.board, name="board"),
    path("register/", views.register_page, name="register"),
    path("register/<int:pk>/", views.entry_detail, name="entry"),
    path("criteria/", views.criteria_page, name="criteria"),
    # staff
    path("staff/", views.staff, name="staff"),
    path("staff/boards/<int:pk>/", views.board_detail, name="board_detail"),
    path("staff/boards/<int:pk>/publish/", views.board_publish, name="board_publish"),
    path("staff/boards/<int:pk>/export.xlsx", views.board_export, name="board_export"),
    path("staff/scores/<int:pk>/", views.score_detail, name="score"),
    path("staff/inspections/", views.inspection_list, name="inspections"),
    path("staff/inspections/new/", views.inspection_new, name="inspection_new"),
    path("staff/inspections/<int:pk>/photo/", views.inspection_photo, name="inspection_photo"),
    path("register/<int:pk>/<slug:action>/", views.entry_action, name="entry_action"),
    path("company/", views.company, name="company"),
]
