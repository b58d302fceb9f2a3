"""Extractive summaries: a long request description, a long 商议 discussion."""

from __future__ import annotations

from typing import Any

import pytest

from linli.insight.summaries import stance, summarize_discussion, summarize_text


def test_long_description_keeps_the_point() -> None:
    text = (
        "你好，我是3号楼的老住户了，在这里住了二十年，一直觉得小区挺好的。"
        "今天早上送孩子上学，心情本来不错。"
        "结果电梯又坏了，我们在里面关了二十分钟才出来，按警铃也没人应。"
        "我家老人腿脚不好，住十八楼，根本下不了楼。"
    )
    out = summarize_text(text, max_chars=60)
    assert len(out) <= 60 and "电梯" in out
    assert summarize_text("楼道灯坏了") == "楼道灯坏了"
    assert summarize_text("") == ""


@pytest.mark.django_db
def test_staff_queue_shows_the_summary(client: Any, world: Any, submit: Any, cats: Any) -> None:
    """The staff list shows the sentences that carry a long description's problem, not
    its opening chatter."""
    chatter = "你好，我是3号楼的老住户了，在这里住了二十年，一直觉得小区挺好的。"
    point = "结果电梯又坏了，我们在里面关了二十分钟才出来，按警铃也没人应。"
    submit("fac-elevator", chatter + "今天早上送孩子上学，心情本来不错。" + point)
    client.force_login(world.user("worker"))
    body = client.get("/requests/desk/").content.decode()
    assert "电梯又坏了" in body
    assert chatter[:20] not in body


def test_stance() -> None:
    assert stance("我支持加装电梯，早该装了") == "for"
    assert stance("我不同意，一楼住户不需要") == "against"
    assert stance("费用怎么分摊？") == "other"


@pytest.mark.django_db
def test_discussion_points_with_counts() -> None:
    comments = [
        (1, "我支持加装电梯，老人上下楼太难了"),
        (2, "支持，老年人爬楼梯太辛苦"),
        (3, "同意装电梯，老人出门方便"),
        (4, "反对，一楼住户用不上还要出钱"),
        (5, "不同意，我家一楼不需要电梯还要分摊费用"),
        (6, "担心施工噪音太大，影响休息"),
        (1, "我再补充一句，支持尽快装"),
        (7, "费用怎么分摊？"),
    ]
    s = summarize_discussion(comments)
    assert (s.comments, s.residents) == (8, 7)
    assert (s.for_residents, s.against_residents) == (3, 3)
    assert s.for_points and s.against_points and s.other_points
    assert sum(p.residents for p in s.for_points) >= 3
    for p in s.for_points + s.against_points:
        assert any(p.text in body or body.startswith(p.text[:8]) for _a, body in comments)
