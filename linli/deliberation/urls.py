from django.urls import path

from linli.deliberation import views

app_name = "deliberation"
urlpatterns = [
    path("", views.hall, name="hall"),
    path("topics/new/", views.topic_new, name="topic_new"),
    path("topics/<int:pk>/", views.topic_detail, name="topic"),
    path("topics/<int:pk>/comment/", views.topic_comment, name="topic_comment"),
    path("topics/<int:pk>/review/", views.topic_review, name="topic_review"),
    path("topics/<int:pk>/move/", views.topic_move, name="topic_move"),
    path("topics/<int:pk>/vote/", views.topic_vote, name="topic_vote"),
    path("topics/<int:pk>/publicise/", views.topic_publicise, name="topic_publicise"),
    path("topics/<int:pk>/object/", views.topic_object, name="topic_object"),
    path("topics/<int:pk>/actions/", views.action_new, name="action_new"),
    path("objections/<int:pk>/answer/", views.objection_answer, name="objection_answer"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/agenda/", views.meeting_agenda, name="meeting_agenda"),
    path("meetings/<int:pk>/materials/", views.meeting_materials, name="meeting_materials"),
    path("meetings/<int:pk>/notice/", views.meeting_notice, name="meeting_notice"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path("meetings/<int:pk>/conclude/", views.meeting_conclude, name="meeting_conclude"),
    path("council/", views.council_page, name="council"),
    path("council/<int:pk>/add/", views.council_add, name="council_add"),
    path("members/<int:pk>/remove/", views.council_remove, name="council_remove"),
    path("deliberators/", views.deliberators, name="deliberators"),
    path("deliberators/enrol/", views.deliberator_enrol, name="deliberator_enrol"),
    path("deliberators/<int:pk>/", views.deliberator_action, name="deliberator_action"),
    path("actions/", views.actions, name="actions"),
    path("actions/<int:pk>/", views.action_update, name="action_update"),
    path("insights/", views.insights, name="insights"),
    path("insights/propose/", views.insight_propose, name="insight_propose"),
    path("actions/review/", views.supervision_review, name="supervision_review"),
]
