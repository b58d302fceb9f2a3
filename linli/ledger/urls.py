from django.urls import path

from linli.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.me, name="me"),
    path("accounts/<int:pk>/", views.statement, name="statement"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<int:pk>/redeem/", views.redeem, name="redeem"),
    path("vouchers/", views.vouchers, name="vouchers"),
    path("donate/", views.donate, name="donate"),
    path("timebank/", views.timebank, name="timebank"),
    path("timebank/transfer/", views.hours_transfer, name="hours_transfer"),
    path("timebank/spend/", views.hours_spend, name="hours_spend"),
    path("claims/", views.claims, name="claims"),
    path("claims/new/", views.claim_new, name="claim_new"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
    path("manage/rules/", views.rules_page, name="rules"),
    path("manage/settings/", views.settings_page, name="settings"),
    path("manage/catalogue/", views.catalogue_manage, name="catalogue_manage"),
    path("manage/vouchers/use/", views.voucher_use, name="voucher_use"),
    path("manage/trial-balance/", views.trial_balance, name="trial_balance"),
    path("manage/honours/", views.honours, name="honours"),
    path("manage/transactions/<int:pk>/", views.transaction_reverse, name="transaction_reverse"),
    path("hall-of-fame/", views.hall_of_fame, name="hall_of_fame"),
    path("hall-of-fame/<int:community_id>/", views.hall_of_fame, name="hall_of_fame_for"),
]
