"""The language switcher: Django's set_language, remembered per person in their profile."""

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
