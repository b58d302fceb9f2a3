from django.urls import path

from linli.mutualaid import views

app_name = "mutualaid"
urlpatterns = [
    path("", views.home, name="home"),
    path("needs/new/", views.need_new, name="need_new"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/cancel/", views.need_cancel, name="need_cancel"),
    path("needs/<int:pk>/propose/", views.match_propose, name="match_propose"),
    path("matches/<int:pk>/", views.match_act, name="match_act"),
    path("offers/new/", views.offer_new, name="offer_new"),
    path("offers/<int:pk>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
    path("queue/", views.queue, name="queue"),
    path("partners/", views.partners, name="partners"),
    path("partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("contributions/<int:pk>/", views.contribution_act, name="contribution_act"),
    path("public/partners/", views.public_partners, name="public_partners"),
]
