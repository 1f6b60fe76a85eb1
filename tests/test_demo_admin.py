"""seed_demo, the office's admin, history, and the Celery broker."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from catalog.models import Release, Resource
from departments.models import Department, Membership


def sign_in(client, username):
    """Sign in with the demo password. django-axes checks every password sign-in against its
    lockouts and needs the request for that (the client's own login passes none)."""
    request = RequestFactory().post("/accounts/login/")
    assert client.login(request=request, username=username, password="demo-pass-2026")


@pytest.fixture
def demo(db):
    call_command("seed_demo", rows=50, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seed_demo_builds_the_demo_world(demo):
    assert set(Department.objects.values_list("code", flat=True)) == {
        "OFFICE",
        "HEALTH",
        "CIVIL",
        "POLICE",
    }
    assert set(Membership.objects.values_list("user__username", "department__code", "role")) == {
        ("office", "OFFICE", "reviewer"),
        ("auditor", "OFFICE", "auditor"),
        ("health_steward", "HEALTH", "steward"),
        ("civil_clerk", "CIVIL", "requester"),
        ("police_clerk", "POLICE", "requester"),
    }
    vaccination = Resource.objects.get(identifier="HEALTH-VACC-001")
    assert vaccination.status == "published"
    assert vaccination.sharing_type == "conditional"
    assert vaccination.releases.get().row_count == 50
    assert get_user_model().objects.get(username="admin").is_superuser
    assert get_user_model().objects.get(username="civil_clerk").check_password("demo-pass-2026")


def test_seed_demo_is_idempotent(demo):
    counts = (
        Department.objects.count(),
        Membership.objects.count(),
        Resource.objects.count(),
        Release.objects.count(),
        Resource.history.count(),
    )
    call_command("seed_demo", rows=50, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == (
        Department.objects.count(),
        Membership.objects.count(),
        Resource.objects.count(),
        Release.objects.count(),
        Resource.history.count(),
    )


def test_health_steward_sees_the_resource_with_its_release(client, demo):
    sign_in(client, "health_steward")
    vaccination = Resource.objects.get(identifier="HEALTH-VACC-001")
    page = client.get(f"/catalog/{vaccination.pk}/")
    assert page.status_code == 200
    assert b"Vaccination records" in page.content
    assert vaccination.releases.get().sha256.encode() in page.content
    assert b"Steward actions" in page.content


@pytest.mark.parametrize(
    "path",
    [
        "/admin/departments/department/",
        "/admin/departments/membership/",
        "/admin/catalog/resource/",
        "/admin/catalog/release/",
        "/admin/catalog/dataitem/",
    ],
)
def test_office_reviewer_browses_the_admin(client, demo, path):
    sign_in(client, "office")
    assert client.get(path).status_code == 200
    assert client.get(path, {"q": "HEALTH"}).status_code == 200


def test_admin_shows_resource_history_and_object_permissions(client, demo):
    sign_in(client, "admin")
    resource = Resource.objects.get(identifier="HEALTH-VACC-001")
    history = client.get(f"/admin/catalog/resource/{resource.pk}/history/")
    assert history.status_code == 200
    assert b"health_steward" in history.content
    perms = client.get(f"/admin/catalog/resource/{resource.pk}/permissions/")
    assert perms.status_code == 200
    assert b"department:HEALTH" in perms.content


def test_requester_cannot_open_the_admin(client, demo):
    sign_in(client, "civil_clerk")
    response = client.get("/admin/catalog/resource/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_membership_changes_keep_the_department_group_in_step(client, demo):
    sign_in(client, "admin")
    user = get_user_model().objects.get(username="police_clerk")
    police = Department.objects.get(code="POLICE")
    membership = Membership.objects.get(user=user, department=police)
    response = client.post(
        f"/admin/departments/membership/{membership.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not user.groups.filter(pk=police.group_id).exists()


@pytest.mark.redis
def test_celery_reaches_the_redis_broker():
    from govshare.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        assert conn.connected
        assert conn.transport_cls == "redis" or "redis" in type(conn.transport).__module__
