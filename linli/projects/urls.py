from django.urls import path

from linli.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.micro_list, name="micro_list"),
    path("new/", views.micro_new, name="micro_new"),
    path("<int:pk>/", views.micro_detail, name="micro_detail"),
    path("<int:pk>/cosign/", views.micro_cosign, name="micro_cosign"),
    path("<int:pk>/act/", views.micro_act, name="micro_act"),
    path("workbench/", views.workbench, name="workbench"),
    path("public/", views.public_list, name="public_list"),
    path("p/<int:pk>/", views.project_page, name="project_page"),
    path("<int:pk>/delivery/", views.delivery_post, name="delivery_post"),
]

from linli.projects import views_pb  # noqa: E402

urlpatterns += [
    path("pb/", views_pb.programme_list, name="pb_list"),
    path("pb/new/", views_pb.programme_new, name="pb_new"),
    path("pb/<int:pk>/", views_pb.programme_detail, name="pb_detail"),
    path("pb/<int:pk>/act/", views_pb.programme_act, name="pb_act"),
    path("pb/<int:pk>/propose/", views_pb.project_new, name="pb_project_new"),
    path("pb/<int:pk>/review/", views_pb.review, name="pb_review"),
    path("pb/<int:pk>/vote/", views_pb.vote, name="pb_vote"),
    path("pb/<int:pk>/paper/", views_pb.paper, name="pb_paper"),
    path("pb/<int:pk>/results/", views_pb.results, name="pb_results"),
    path("pb/<int:pk>/override/", views_pb.override, name="pb_override"),
    path("pb/<int:pk>/ballots.pb", views_pb.export_pb, name="pb_export"),
]

from linli.projects import views_fund  # noqa: E402

urlpatterns += [
    path("fund/<int:community>/", views_fund.fund_public, name="fund_public"),
    path("fund/<int:community>/manage/", views_fund.fund_manage, name="fund_manage"),
    path("fund/movements/<int:pk>/approve/", views_fund.fund_approve, name="fund_approve"),
    path("fund/movements/<int:pk>/receipt/", views_fund.receipt, name="fund_receipt"),
    path(
        "fund/<int:community>/<int:year>/q<int:quarter>/",
        views_fund.disclosure_page,
        name="disclosure",
    ),
    path(
        "fund/<int:community>/<int:year>/q<int:quarter>.pdf",
        views_fund.disclosure_pdf,
        name="disclosure_pdf",
    ),
    path(
        "fund/<int:community>/<int:year>/q<int:quarter>.xlsx",
        views_fund.disclosure_xlsx,
        name="disclosure_xlsx",
    ),
]
