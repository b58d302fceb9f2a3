from django.urls import path

from linli.voting import views

app_name = "voting"
urlpatterns = [
    path("", views.ballot_list, name="ballot_list"),
    path("new/", views.ballot_new, name="ballot_new"),
    path("<int:pk>/", views.ballot_detail, name="ballot_detail"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/result/", views.result, name="result"),
    path("<int:pk>/roll/", views.roll, name="roll"),
    path("<int:pk>/receipts.txt", views.receipts_txt, name="receipts_txt"),
    path("<int:pk>/verify/", views.verify, name="verify"),
    path("<int:pk>/open/", views.ballot_open, name="ballot_open"),
    path("<int:pk>/close/", views.ballot_close, name="ballot_close"),
    path("<int:pk>/cancel/", views.ballot_cancel, name="ballot_cancel"),
    path("<int:pk>/paper/", views.paper_vote, name="paper_vote"),
    path("<int:pk>/proxies/", views.proxies, name="proxies"),
    path("<int:pk>/proxies/<int:gid>/revoke/", views.proxy_revoke, name="proxy_revoke"),
    path("<int:pk>/ratify/", views.ratify, name="ratify"),
]
