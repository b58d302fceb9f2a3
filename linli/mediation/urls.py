from django.urls import path

from linli.mediation import views

app_name = "mediation"
urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("new/", views.case_new, name="case_new"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/do/<slug:action>/", views.case_action, name="case_action"),
    path("<int:pk>/agreement/", views.agreement_edit, name="agreement_edit"),
    path("<int:pk>/agreement/sign/", views.agreement_sign, name="agreement_sign"),
    path("<int:pk>/agreement/print/", views.agreement_print, name="agreement_print"),
    path("<int:pk>/agreement.pdf", views.agreement_pdf, name="agreement_pdf"),
    path("<int:pk>/evidence/<int:eid>/", views.evidence_download, name="evidence"),
    path("from-request/<int:rid>/", views.from_request, name="from_request"),
    path("mediators/", views.roster, name="roster"),
    path("stats/", views.stats, name="stats"),
]
