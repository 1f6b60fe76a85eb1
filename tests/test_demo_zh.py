"""seed_demo --lang zh-hans: the same demo world, its texts in Chinese (issue #13, point 4)."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from access_requests.models import Request
from catalog.models import DataItem, Resource
from departments.models import Department, Profile
from governance.models import Demand, Dispute, QualityReport
from govshare.management.commands._demo_texts import EN, TEXTS, ZH_HANS
from ledger.models import LedgerEntry
from notifications.models import Notification
from rights.models import Attestation, Grant
from sharing.models import Delivery

DEMO_USERS = ["office", "auditor", "health_steward", "civil_clerk", "police_clerk", "admin"]


def seed(*lang):
    out = StringIO()
    call_command("seed_demo", *lang, "--rows", "20", stdout=out)
    return out.getvalue()


def world_shape():
    """Everything about the world but its texts."""
    return {
        "departments": sorted(Department.objects.values_list("code", "kind")),
        "users": sorted(get_user_model().objects.values_list("username", "is_staff")),
        "resources": sorted(
            Resource.objects.values_list("identifier", "sharing_type", "status", "update_cycle")
        ),
        "items": sorted(
            DataItem.objects.values_list("resource__identifier", "name", "type", "sensitivity")
        ),
        "releases": sorted(
            (identifier, rows, str(columns))
            for identifier, rows, columns in Resource.objects.values_list(
                "identifier", "releases__row_count", "releases__columns"
            )
        ),
        "requests": Counter(
            Request.objects.values_list("state", "method", "requesting_department__code")
        ),
        "grants": Counter(
            (status, method, tuple(fields))
            for status, method, fields in Grant.objects.values_list("status", "method", "fields")
        ),
        "deliveries": Counter(Delivery.objects.values_list("status", flat=True)),
        "ledger": Counter(LedgerEntry.objects.values_list("entry_type", flat=True)),
        "attestations": Counter(Attestation.objects.values_list("state", flat=True)),
        "demands": Demand.objects.count(),
        "disputes": Dispute.objects.count(),
        "reports": QualityReport.objects.count(),
        "notifications": Counter(
            Notification.objects.values_list("recipient__username", flat=True)
        ),
    }


def keys_of(table):
    """The structure of a text table: its keys, nested, and the length of its lists."""
    if isinstance(table, dict):
        return {key: keys_of(value) for key, value in table.items()}
    if isinstance(table, list | tuple):
        return ("list", len(table))
    return "text"


def test_the_language_tables_have_the_same_keys():
    assert set(TEXTS) == {"en", "zh-hans"}
    assert keys_of(ZH_HANS) == keys_of(EN)


@pytest.fixture
def english_shape(db):
    """The English world's shape, seeded in a savepoint that is then rolled back."""
    with transaction.atomic():
        seed()
        shape = world_shape()
        transaction.set_rollback(True)
    assert not Department.objects.exists()
    return shape


@pytest.fixture
def zh_world(english_shape):
    output = seed("--lang", "zh-hans")
    assert output.startswith("Demo world ready: created 4 departments, ")
    assert "with the password demo-pass-2026 (language zh-hans)." in output
    return english_shape


def test_the_chinese_world_is_the_english_world_in_chinese(zh_world):
    assert world_shape() == zh_world
    assert dict(Department.objects.values_list("code", "name")) == {
        "OFFICE": "大数据管理局",
        "HEALTH": "卫生健康委员会",
        "CIVIL": "民政局",
        "POLICE": "公安局",
    }
    vaccination = Resource.objects.get(identifier="HEALTH-VACC-001")
    assert vaccination.title == "新生儿疫苗接种记录"
    clinics = Resource.objects.get(identifier="HEALTH-CLINIC-001")
    assert clinics.title == "医疗机构执业许可信息"
    descriptions = dict(vaccination.data_items.values_list("name", "description"))
    assert descriptions["resident_id"] == "居民身份号码（已假名化）"
    assert descriptions["birth_date"] == "出生日期"
    for resource in Resource.objects.all():
        for description in resource.data_items.values_list("description", flat=True):
            assert not description.isascii(), (resource, description)
    legal_bases = [
        *Resource.objects.values_list("collection_legal_basis", flat=True),
        *Request.objects.values_list("legal_basis_citation", flat=True),
        *Demand.objects.values_list("legal_basis", flat=True),
    ]
    assert any("《政务信息资源共享管理暂行办法》" in basis for basis in legal_bases)
    assert set(Request.objects.values_list("legal_basis_citation", flat=True)) == {
        "《中华人民共和国疫苗管理法》"
    }


def test_no_english_text_remains(zh_world):
    english_titles = {texts["title"] for texts in EN["resources"].values()}
    assert not Resource.objects.filter(title__in=english_titles).exists()
    assert not Department.objects.filter(name__in=EN["departments"].values()).exists()
    assert not Request.objects.filter(purpose__in=EN["purposes"].values()).exists()
    assert not Demand.objects.filter(title=EN["demand"]["title"]).exists()
    assert set(Resource.objects.values_list("title", flat=True)) == {
        texts["title"] for texts in ZH_HANS["resources"].values()
    }
    for text in [
        *Resource.objects.values_list("abstract", flat=True),
        *Request.objects.values_list("purpose", flat=True),
        *Dispute.objects.values_list("disputed", "asked"),
        *QualityReport.objects.values_list("description", flat=True),
    ]:
        assert not str(text).isascii(), text


def test_the_demo_users_have_chinese_names_and_see_the_portal_in_chinese(client, zh_world):
    users = get_user_model().objects.filter(username__in=DEMO_USERS)
    assert users.count() == len(DEMO_USERS)
    for user in users:
        assert not user.last_name.isascii() and not user.first_name.isascii(), user
    assert dict(Profile.objects.values_list("user__username", "language")) == {
        username: "zh-hans" for username in DEMO_USERS
    }
    # Worded in the users' language as the world was built.
    assert Notification.objects.exists()
    assert not Notification.objects.filter(subject__startswith="Request #").exists()
    # django-axes checks every password sign-in and needs the request for that.
    request = RequestFactory().post("/accounts/login/")
    assert client.login(request=request, username="civil_clerk", password="demo-pass-2026")
    page = client.get("/catalog/", {"search": "疫苗"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "新生儿疫苗接种记录" in html
    assert "医疗机构执业许可信息" not in html


def test_the_clinics_csv_names_the_clinics_in_chinese(zh_world):
    from catalog.models import Release

    release = Release.objects.get(resource__identifier="HEALTH-CLINIC-001")
    assert release.row_count == 40
    names = ZH_HANS["clinic_names"]
    assert len(names) == len(set(names)) == 40
    assert names[0] == "市第一人民医院"
    assert all(not name.isascii() for name in [*names, *ZH_HANS["districts"]])


def test_seeding_the_chinese_world_again_changes_nothing(zh_world):
    shape = world_shape()
    names = dict(Department.objects.values_list("code", "name"))
    output = seed("--lang", "zh-hans")
    assert "Kept" not in output
    assert world_shape() == shape
    assert dict(Department.objects.values_list("code", "name")) == names


def test_an_english_world_is_kept_when_seeded_again_in_chinese(db):
    seed()
    output = seed("--lang", "zh-hans")
    assert "Kept as seeded before: OFFICE “Data Management Office”, HEALTH" in output
    assert Resource.objects.get(identifier="HEALTH-VACC-001").title == "Vaccination records"
