"""Issue 9, finding 13: a photo whose file is gone from storage is "not found" (404),
not a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage

pytestmark = pytest.mark.django_db


def test_missing_photo_file_is_404_not_500(client: Any, world: Any, submit: Any) -> None:
    from linli.requests.tests.test_services import _jpeg

    req = submit(photos=[_jpeg()])
    photo = req.photos.get()
    default_storage.delete(photo.image.name)
    client.raise_request_exception = False
    client.force_login(world.user("resident"))
    resp = client.get(f"/requests/{req.pk}/photo/{photo.pk}/")
    assert resp.status_code == 404
