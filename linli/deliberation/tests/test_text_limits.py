"""Over-long text is refused with a message naming the field and the limit, never cut."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.core.errors import ValidationFailed
from linli.deliberation.models import ReviewNote, Topic, TopicComment
from linli.deliberation.services import (
    review_note_add,
    topic_accept,
    topic_comment,
    topic_propose,
    topic_submit_for_review,
)

pytestmark = pytest.mark.django_db

LONG = "很" * 9000


def propose(w, description="3幢老人多，上下楼困难，建议加装电梯，费用按楼层分摊。"):
    return topic_propose(
        actor=w.user("resident"), community=w.community, title="加装电梯", description=description
    )


def test_a_9000_character_comment_is_refused_through_the_page_and_nothing_is_written(world):
    topic = propose(world)
    topic_accept(actor=world.user("secretary"), topic=topic)
    client = Client()
    client.force_login(world.user("neighbour"))
    page = client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    assert 'name="body" required maxlength="1000"' in page
    resp = client.post(
        reverse("deliberation:topic_comment", args=[topic.pk]), {"body": LONG}, follow=True
    )
    assert not TopicComment.objects.filter(topic=topic).exists()
    assert "1000" in resp.content.decode() and "意见" in resp.content.decode()


def test_comment_service_refuses_rather_than_cuts(world):
    topic = propose(world)
    topic_accept(actor=world.user("secretary"), topic=topic)
    with pytest.raises(ValidationFailed) as e:
        topic_comment(actor=world.user("neighbour"), topic=topic, body=LONG)
    assert e.value.field == "body"
    assert not TopicComment.objects.filter(topic=topic).exists()


def test_a_too_long_topic_description_is_refused_and_the_form_has_maxlength(world):
    before = Topic.objects.count()
    with pytest.raises(ValidationFailed, match="5000") as e:
        propose(world, description=LONG)
    assert e.value.field == "description"
    assert Topic.objects.count() == before
    client = Client()
    client.force_login(world.user("resident"))
    page = client.get(reverse("deliberation:topic_new")).content.decode()
    assert 'name="description" required maxlength="5000"' in page


def test_a_too_long_review_note_is_refused_with_the_limit(world):
    topic = propose(world)
    topic_accept(actor=world.user("secretary"), topic=topic)
    topic_submit_for_review(actor=world.user("secretary"), topic=topic)
    with pytest.raises(ValidationFailed, match="审议意见最多1000字"):
        review_note_add(
            actor=world.user("secretary"), topic=topic, aspect="law", conclusion="ok", body=LONG
        )
    assert not ReviewNote.objects.filter(topic=topic).exists()
