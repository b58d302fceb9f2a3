import pytest

pytestmark = pytest.mark.django_db


def test_pages_render_for_each_role(client, world):
    for key in ["resident", "grid_worker", "secretary", "street_officer", "platform_admin"]:
        client.force_login(world.user(key))
        r = client.get("/", follow=True)
        assert r.status_code == 200, key
        assert "邻里" in r.content.decode()
