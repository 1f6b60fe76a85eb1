"""Issue #13 acceptance: the request journey in Chinese, in a real browser (Chromium).

A requester signs in in English, switches the header's language control to 简体中文, files a
request with one mistake (a period that ends before it starts), sees the Chinese error and keeps
what they typed, fixes it, saves the draft, and still gets Chinese after signing in again from a
browser without the language cookie (the choice is in their profile). Every page is checked for
Content-Security-Policy violations, and the screenshots are checked for real CJK glyphs.

The Chinese texts asserted are the msgstr of locale/zh_Hans/LC_MESSAGES/django.po (the .mo that
``make venv`` / ``make test`` build from it). See tests/test_browser.py for ``live_server`` and
why the ORM may be used from this thread while the browser is open.
"""

import datetime
import re

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from access_requests.models import Request
from departments.models import Profile
from tests.conftest import CSP_LISTENER, PASSWORD

PERIOD_ERROR = "有效期的结束日期早于开始日期。"  # "The period ends before it starts."
SAVED = "草稿已保存。请检查后提交审核。"  # "Draft saved. Check it, then submit it for review."

# Tells real glyphs from tofu. Chromium draws a character that no installed font covers as the
# primary font's .notdef glyph: the same empty box whatever the character. So each character of
# SAMPLE is drawn alone on a fresh canvas, in the computed font of the page's <h1> (the same font
# stack and fallback as the screenshot), and the pixels are compared with each other and with a
# private-use character (U+E000, which no font here maps: the box itself). Without a CJK font all
# five drawings are the same box and the check fails; with one, each is a different glyph. Its
# widths alone would not do: a box can happen to be one em wide, like a CJK glyph.
SAMPLE = "数据共享"
GLYPH_PROBE = """([sample, tofu]) => {
  const style = getComputedStyle(document.querySelector("h1"));
  const font = `${style.fontWeight} 40px ${style.fontFamily}`;
  const draw = (text) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const context = canvas.getContext("2d");
    context.font = font;
    context.textBaseline = "top";
    context.fillText(text, 8, 8);
    const pixels = context.getImageData(0, 0, 64, 64).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) inked += pixels[i] > 0 ? 1 : 0;
    return {key: canvas.toDataURL(), inked};
  };
  const box = draw(tofu);
  const glyphs = [...sample].map(draw);
  return {
    font,
    distinct: new Set(glyphs.map((g) => g.key)).size,
    likeTheBox: glyphs.filter((g) => g.key === box.key).length,
    blank: glyphs.filter((g) => g.inked === 0).length,
  };
}"""


def assert_cjk_glyphs(page):
    probe = page.evaluate(GLYPH_PROBE, [SAMPLE, "\ue000"])
    tofu = f"boxes, not glyphs (apt-get install fonts-noto-cjk): {probe}"
    assert probe["blank"] == 0, tofu
    assert probe["likeTheBox"] == 0, tofu
    assert probe["distinct"] == len(SAMPLE), tofu


@pytest.fixture
def browser_page(page):
    """``page``, for a test that also uses the ORM while the browser is open. Those queries leave
    a connection open that Django's teardown does not close, and PostgreSQL then refuses to drop
    the test database while it is in use; closed here, before the browser, even if the test
    fails."""
    yield page
    connections.close_all()


def sign_in(page, url, username):
    page.goto(url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")  # the home page
    page.goto(url + "/catalog/")


def no_violations(page, where):
    found = page.evaluate("window.__cspViolations")
    assert found == [], (where, found)


@pytest.mark.browser
def test_a_requester_files_a_request_in_chinese(
    live_server, released, requester, browser_page, artifacts_dir
):
    page = browser_page
    page.context.add_init_script(CSP_LISTENER)
    # Whatever the machine's locale: the person starts in English and chooses Chinese themselves.
    page.set_extra_http_headers({"Accept-Language": "en"})
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    before = Request.objects.count()

    # Signed in in English, the header's switcher: choose 简体中文, press the button.
    sign_in(page, live_server.url, requester.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Data catalog")
    no_violations(page, "catalog (en)")
    page.get_by_label("Language").select_option(label="简体中文")
    page.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(r"/catalog/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("数据目录")  # Data catalog
    nav = page.get_by_role("navigation", name="主导航")  # Main
    for link in ["数据目录", "共享申请", "使用授权", "通知"]:  # Catalog, Requests, Grants, ...
        expect(nav.get_by_role("link", name=link, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()  # Sign out
    expect(page.get_by_label("语言")).to_have_value("zh-hans")  # Language
    no_violations(page, "catalog (zh)")
    assert Profile.objects.get(user=requester).language == "zh-hans"

    # The resource, then its request form, as a person gets there.
    page.get_by_role("link", name="Vaccination records", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/catalog/{released.pk}/$"))
    page.get_by_role("link", name="申请此数据").click()  # Request this data
    expect(page).to_have_url(re.compile(rf"/requests/new/\?resource={released.pk}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("申请Vaccination records")
    no_violations(page, "request form")

    today = timezone.localdate()
    start = today + datetime.timedelta(days=10)
    wrong_end = today + datetime.timedelta(days=3)  # before the start: the one mistake
    reasons = {"resident_id": "用于核对学生身份。", "dose_number": "用于核对接种是否完成。"}
    for name, reason in reasons.items():
        page.get_by_label(name, exact=True).check()
        page.get_by_label(f"需要 {name} 的理由").fill(reason)  # Why %(name)s is needed
    purpose = "核查入学儿童的疫苗接种情况。"
    page.get_by_label("用途").fill(purpose)  # Purpose
    page.get_by_label("法律依据类型").select_option(label="法律")  # Kind of legal basis: Statute
    page.get_by_label("依据名称").fill("中华人民共和国疫苗管理法")  # Citation
    page.get_by_label("条款").fill("第四十八条")  # Article
    page.get_by_label("共享方式").select_option(label="实时接口")  # Sharing method: real time
    page.get_by_label("有效期起").fill(start.isoformat())  # Valid from
    page.get_by_label("有效期至").fill(wrong_end.isoformat())  # Valid until
    page.get_by_role("button", name="保存草稿").click()  # Save draft

    # The form again, in Chinese, with the error at the top and at the field.
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("请更正以下问题")  # Please correct ...
    expect(summary.get_by_role("listitem")).to_have_count(1)
    # The full-width colon of Chinese between the field and its error.
    expect(summary.get_by_role("listitem")).to_have_text(f"有效期至：{PERIOD_ERROR}")
    expect(summary.get_by_role("link", name="有效期至")).to_have_attribute(
        "href", "#id_valid_until"
    )
    field = page.locator(".field-error", has=page.get_by_label("有效期至"))
    expect(field.locator("p.error")).to_have_text(PERIOD_ERROR)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    no_violations(page, "request form with the error")
    assert Request.objects.count() == before

    # Nothing typed is lost.
    expect(page.get_by_label("用途")).to_have_value(purpose)
    expect(page.get_by_label("依据名称")).to_have_value("中华人民共和国疫苗管理法")
    expect(page.get_by_label("条款")).to_have_value("第四十八条")
    expect(page.get_by_label("法律依据类型")).to_have_value("statute")
    expect(page.get_by_label("共享方式")).to_have_value("realtime")
    expect(page.get_by_label("有效期起")).to_have_value(start.isoformat())
    expect(page.get_by_label("有效期至")).to_have_value(wrong_end.isoformat())
    for name, reason in reasons.items():
        expect(page.get_by_label(name, exact=True)).to_be_checked()
        expect(page.get_by_label(f"需要 {name} 的理由")).to_have_value(reason)
    expect(page.get_by_label("birth_date", exact=True)).not_to_be_checked()

    error_shot = artifacts_dir / "request-form-zh-error.png"
    page.screenshot(path=str(error_shot), full_page=True)
    assert_cjk_glyphs(page)

    # Fixed, saved: the draft exists and the page says so in Chinese.
    end = start + datetime.timedelta(days=90)
    page.get_by_label("有效期至").fill(end.isoformat())
    page.get_by_role("button", name="保存草稿").click()
    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    expect(page.get_by_role("status")).to_have_text(SAVED)
    created = Request.objects.get()
    assert Request.objects.count() == before + 1
    assert page.url.endswith(f"/requests/{created.pk}/")
    assert (created.state, created.purpose, created.valid_until) == (
        Request.State.DRAFT,
        purpose,
        end,
    )
    assert created.requested_by_id == requester.pk
    assert sorted(created.items.values_list("name", flat=True)) == sorted(reasons)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"申请 #{created.pk}：Vaccination records"  # Request #%(id)s: %(t)s
    )
    no_violations(page, "request saved")
    saved_shot = artifacts_dir / "request-zh-saved.png"
    page.screenshot(path=str(saved_shot), full_page=True)
    assert_cjk_glyphs(page)
    for shot in (error_shot, saved_shot):
        assert shot.is_file() and shot.stat().st_size > 0

    # The choice is the person's, not the browser's: signed out, without the language cookie
    # (as from another browser), signed in again in English, the pages are Chinese.
    page.get_by_role("button", name="退出登录").click()  # Sign out
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")  # the cookie: Sign in
    page.context.clear_cookies()
    sign_in(page, live_server.url, requester.username)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("数据目录")
    no_violations(page, "catalog after signing in again")

    assert [line for line in console if "Content Security Policy" in line] == []
