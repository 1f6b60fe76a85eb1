"""The language switcher: Django's set_language, remembered per person in their profile."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from departments.models import Profile


def html_lang(response):
    text = response.content.decode()
    start = text.index('<html lang="') + len('<html lang="')
    return text[start : text.index('"', start)]


@pytest.mark.django_db
def test_a_visitor_gets_the_browsers_language_and_the_switcher():
    client = Client()
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert html_lang(page) == "zh-hans"
    assert 'action="/i18n/setlang/"' in page.content.decode()
    assert html_lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


@pytest.mark.django_db
def test_a_visitors_choice_is_a_cookie_only():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert html_lang(client.get("/accounts/login/")) == "zh-hans"
    assert Profile.objects.count() == 0


@pytest.mark.django_db
def test_a_signed_in_persons_choice_follows_them_to_another_browser(requester):
    first = Client()
    first.force_login(requester)
    response = first.post("/i18n/setlang/", {"language": "zh-hans", "next": "/catalog/"})
    assert response.status_code == 302 and response["Location"] == "/catalog/"
    assert Profile.objects.get(user=requester).language == "zh-hans"

    other = Client()  # no language cookie, an English browser
    other.force_login(requester)
    page = other.get("/catalog/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(page) == "zh-hans"
    assert page["Content-Language"] == "zh-hans"

    first.post("/i18n/setlang/", {"language": "en", "next": "/catalog/"})
    assert Profile.objects.get(user=requester).language == "en"
    third = Client()  # the next sign-in anywhere takes the new choice
    third.force_login(requester)
    assert html_lang(third.get("/catalog/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == "en"


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(requester):
    client = Client()
    client.force_login(requester)
    client.post("/i18n/setlang/", {"language": "zh-hans"})
    response = client.post("/i18n/setlang/", {"language": "xx-evil", "next": "/catalog/"})
    assert response.status_code == 302
    assert Profile.objects.get(user=requester).language == "zh-hans"
    assert client.get("/i18n/setlang/").status_code == 405  # POST only


@pytest.mark.django_db
def test_the_next_address_must_be_this_site(requester):
    client = Client()
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "https://evil.example/"}, HTTP_REFERER=""
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.django_db
def test_notifications_and_emails_go_out_in_each_recipients_language(
    requester, steward, mailoutbox, django_capture_on_commit_callbacks
):
    """A Localized message is worded per recipient (a msgid Django itself translates, so the
    test does not depend on the project's catalog)."""
    from departments.services import profile_set_language
    from notifications.models import Notification
    from notifications.services import Localized, notify

    profile_set_language(user=requester, language="zh-hans")
    requester.email, steward.email = "r@example.gov", "s@example.gov"
    requester.save(update_fields=["email"])
    steward.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[requester, steward],
            subject=Localized("This field is required."),
            body=Localized("%(model_name)s with this %(field_label)s already exists.",
                           {"model_name": "Grant", "field_label": "number"}),
        )  # fmt: skip
    chinese = Notification.objects.get(recipient=requester)
    english = Notification.objects.get(recipient=steward)
    assert chinese.subject == "该字段是必填项。"
    from django.utils import translation

    msgid = "%(model_name)s with this %(field_label)s already exists."
    with translation.override("zh-hans"):
        worded = translation.gettext(msgid)
    assert worded != msgid  # Django's own catalog has it
    assert chinese.body == worded % {"model_name": "Grant", "field_label": "number"}
    assert english.subject == "This field is required."
    assert english.body == "Grant with this number already exists."
    mails = {m.to[0]: m for m in mailoutbox}
    assert mails["r@example.gov"].subject == "[govshare] 该字段是必填项。"
    assert mails["s@example.gov"].subject == "[govshare] This field is required."


@pytest.mark.django_db
def test_workflow_notifications_are_worded_for_each_recipient(
    request_draft, requester, steward, django_capture_on_commit_callbacks
):
    """The services' notifications (here a request submitted in English and returned with a
    reason) reach a steward who chose Chinese in Chinese; the reason goes as it was written."""
    from access_requests import services as request_services
    from departments.services import profile_set_language
    from notifications.models import Notification

    profile_set_language(user=steward, language="zh-hans")
    number, title = request_draft.pk, request_draft.resource.title
    with django_capture_on_commit_callbacks(execute=True):
        request = request_services.request_submit(actor=requester, request=request_draft)
    assert request.state == request.State.OWNER_REVIEW
    to_steward = Notification.objects.get(recipient=steward)
    assert to_steward.subject == f"申请 #{number}（{title}）待数源部门提出意见"
    assert to_steward.body == to_steward.subject

    reason = "Name the school year in the purpose."
    with django_capture_on_commit_callbacks(execute=True):
        request_services.request_return(actor=steward, request=request, reason=reason)
    to_requester = Notification.objects.filter(recipient=requester).latest("pk")
    assert to_requester.subject == f"Request #{number} for {title} was returned"
    assert to_requester.body == reason


@pytest.mark.django_db
def test_the_office_gets_admin_in_chinese():
    """The office works in Django admin; with Chinese chosen, admin's own words (Django's
    catalog), the site titles and the project's model names (this catalog) are Chinese."""
    from django.apps import apps
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from departments.services import profile_set_language

    office = get_user_model().objects.create_superuser("office_admin", "oa@example.gov", "x")
    profile_set_language(user=office, language="zh-hans")
    client = Client()
    client.force_login(office)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert html_lang(response) == "zh-hans"
    text = response.content.decode()
    assert "数据管理机构" in text  # index_title
    # The project's own apps: folders at the top of the repository (not the venv's packages).
    ours = {c.label for c in apps.get_app_configs() if Path(c.path).parent == settings.BASE_DIR}
    with translation.override("zh-hans"):
        names = [
            (str(model._meta.verbose_name_plural), model._meta.verbose_name_plural)
            for model in admin.site._registry
            if model._meta.app_label in ours
        ]
    shown = [chinese for chinese, _ in names if chinese in text]
    assert shown, "the index lists the project's models"
    for chinese, lazy in names:
        with translation.override("en"):
            english = str(lazy)
        assert chinese != english, f"{english} has no Chinese name"
    assert "Data management office" not in text


@pytest.mark.django_db
def test_dates_follow_the_language(request_draft, requester):
    """English keeps ISO 8601; Chinese writes 2026年12月2日 (govshare/formats/)."""
    from django.utils import timezone

    from departments.services import profile_set_language

    moment = timezone.localtime(request_draft.steps.order_by("pk").first().at)
    client = Client()
    client.force_login(requester)
    english = client.get(request_draft.get_absolute_url()).content.decode()
    assert moment.strftime("%Y-%m-%d %H:%M") in english
    profile_set_language(user=requester, language="zh-hans")
    client.force_login(requester)
    chinese = client.get(request_draft.get_absolute_url()).content.decode()
    assert f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}" in chinese
    assert moment.strftime("%Y-%m-%d %H:%M") not in chinese
