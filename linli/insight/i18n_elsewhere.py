"""Strings that insight put into other apps' templates and code (the 高频诉求 page's
meaning clusters, the report form and topic pages): named here so that
``make messages APP=insight`` keeps their English in insight's own catalogue instead
of editing the other apps' catalogues. Django looks a msgid up in every catalogue."""

from django.utils.translation import gettext_noop

STRINGS = [
    gettext_noop("相似问题"),
    gettext_noop("趋势"),
    gettext_noop("新出现"),
    gettext_noop("上升"),
    gettext_noop("下降"),
    gettext_noop("持平"),
    gettext_noop("同类问题集中：%(s)s"),
    gettext_noop("近%(d)s天 %(a)s 件，之前%(d)s天 %(b)s 件"),
]
