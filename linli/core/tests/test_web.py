from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.session import SessionStorage
from django.test import RequestFactory

from linli.core.errors import Conflict
from linli.core.web import int_or_none, run_service


@pytest.mark.parametrize(
    "raw,expected", [("12", 12), (7, 7), ("", None), (None, None), ("x1", None), ([1], None)]
)
def test_int_or_none(raw: object, expected: int | None) -> None:
    assert int_or_none(raw) == expected


def test_run_service_turns_refusal_into_a_message() -> None:
    request = RequestFactory().post("/")
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    request.session = SessionStore()
    request._messages = SessionStorage(request)  # type: ignore[attr-defined]

    def refuse() -> None:
        raise Conflict("已经处理过了。")

    assert run_service(request, refuse, "好了") is False
    assert run_service(request, lambda: None, "好了") is True
    texts = [(m.level_tag, str(m)) for m in get_messages(request)]
    assert texts == [("error", "已经处理过了。"), ("success", "好了")]


@pytest.mark.parametrize(
    "raw,ok",
    [("2026-11-21", True), ("2026-13-45", False), ("", False), (None, False), ("x", False)],
)
def test_date_or_none_never_raises(raw: object, ok: bool) -> None:
    from linli.core.web import date_or_none, datetime_or_none

    assert (date_or_none(raw) is not None) is ok
    assert datetime_or_none("2026-02-30T10:00:00+08:00") is None
