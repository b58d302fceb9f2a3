from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "linli.ledger"
    label = "ledger"
    verbose_name = "积分与时间银行"
