"""A release upload shows its progress in a real browser (issue #15.4; Chromium via Playwright).

Two journeys, by what the database allows:

- PostgreSQL (``postgres`` marker): the task's ``delay`` starts a thread in the test process
  that runs the job as a Celery worker would (``release_uploads.release_upload_run``, with its
  own database connection), so the live server answers the page's polls meanwhile. The file the
  worker reads stops at a gate after 120,000 of its 200,000 records until the test has seen the
  progress, so the rows checked that the page shows mid-way are exact, and no assertion depends
  on timing.
- Any database: tasks run eagerly, in the live server's request, as with
  ``CELERY_TASK_ALWAYS_EAGER``. SQLite takes one writer at a time (and the test database is
  shared in memory, where a reader waits on the writer's tables too), so no page can be read
  while the ingest runs: this journey follows the upload's progress, then the result.
"""

import re
import threading

import pytest
from playwright.sync_api import expect

from catalog import tasks
from catalog.models import ReleaseUpload
from tests.conftest import CSP_LISTENER, GOOD_CSV, PASSWORD
from tests.test_release_uploads import (
    gate_after,
    gated,
    generated_csv,
    run_and_close,
    upload_folders,
)

__all__ = ["gated"]  # the fixture, imported for this module's tests

ROWS, GATE = 200_000, 120_000


@pytest.fixture
def thread_worker(monkeypatch):
    """``release_upload_run.delay`` runs the job in a thread, as a worker process would."""
    threads = []

    def delay(job_id):
        thread = threading.Thread(target=run_and_close, args=(job_id,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.release_upload_run, "delay", delay)
    yield threads
    for thread in threads:
        thread.join(timeout=60)


def sign_in_and_open_the_form(page, live_server, steward, released):
    page.add_init_script(CSP_LISTENER)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(steward.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Sign-in lands on the home page (the task list).
    expect(page).to_have_url(live_server.url + "/")
    form_url = f"{live_server.url}/catalog/{released.pk}/releases/new/"
    page.goto(form_url)
    return form_url


def send(page, csv):
    progress = page.locator("#release-upload-progress")
    expect(progress).to_be_hidden()
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and validate").click()
    expect(progress).to_be_visible()


def bar(page, element_id):
    """A <progress> element's [value, max]."""
    return page.evaluate(
        "(id) => { const bar = document.getElementById(id); return [bar.value, bar.max]; }",
        element_id,
    )


def assert_accepted(page, live_server, released):
    # The database only once the page shows the end: a reader would wait on the worker's tables.
    expect(page).to_have_url(re.compile(r"/releases/uploads/\d+/$"), timeout=60_000)
    job = ReleaseUpload.objects.get()
    assert page.url == f"{live_server.url}{job.get_absolute_url()}"
    expect(page.get_by_text(f"Release 2 accepted: {ROWS} rows.")).to_be_visible()
    expect(page.locator("[data-progress-text]")).to_have_text(f"{ROWS:,} rows checked and loaded.")
    assert bar(page, "check-bar") == [ROWS, ROWS]
    job.refresh_from_db()
    assert (job.state, job.rows_checked, job.release.row_count) == ("succeeded", ROWS, ROWS)
    assert released.releases.count() == 2
    assert upload_folders() == []
    assert page.evaluate("window.__cspViolations") == []


@pytest.mark.browser
def test_a_release_upload_shows_the_upload_then_the_accepted_release(
    live_server, released, steward, page, artifacts_dir, tmp_path, release_worker
):
    csv = tmp_path / "vaccinations-200k.csv"
    csv.write_text(generated_csv(ROWS))
    form_url = sign_in_and_open_the_form(page, live_server, steward, released)
    # The job ends within the upload's request here; the script's first poll is held until the
    # test has seen the form's page with the file sent.
    held = []

    def hold(route):
        held.append(route)

    page.route(re.compile(r"/status/$"), hold)
    send(page, csv)
    # The eager job runs inside the upload's request: on a busy machine the answer can take a while.
    expect(page.locator("[data-progress-text]")).to_have_text(
        "The file is sent; waiting for the check to start.", timeout=60_000
    )
    assert page.url == form_url
    sent, total = bar(page, "upload-bar")
    assert sent == total and total >= csv.stat().st_size  # the whole body was sent
    (poll,) = held
    poll.continue_()
    assert_accepted(page, live_server, released)
    page.screenshot(path=str(artifacts_dir / "release-upload-accepted.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.postgres
def test_a_release_upload_shows_the_rows_checked_while_the_worker_runs(
    live_server, released, steward, page, artifacts_dir, tmp_path, gated, thread_worker
):
    text = generated_csv(ROWS)
    csv = tmp_path / "vaccinations-200k.csv"
    csv.write_text(text)
    gated["gate"] = gate_after(text, GATE)
    form_url = sign_in_and_open_the_form(page, live_server, steward, released)
    send(page, csv)

    assert gated["ready"].wait(timeout=60), "the worker never opened the file"
    assert gated["file"].reached.wait(timeout=60), "the worker never reached the gate"
    expect(page.locator("[data-progress-text]")).to_have_text(
        f"{GATE:,} of {ROWS:,} rows checked; 0 problems so far.", timeout=30_000
    )
    # Still the form's page: the script sent the file and follows the check from here.
    assert page.url == form_url
    sent, total = bar(page, "upload-bar")
    assert sent == total and total >= csv.stat().st_size  # the whole body was sent
    assert bar(page, "check-bar") == [GATE, ROWS]
    page.screenshot(path=str(artifacts_dir / "release-upload-progress.png"), full_page=True)

    gated["file"].opened.set()
    assert_accepted(page, live_server, released)


@pytest.mark.browser
def test_a_file_over_the_limit_is_posted_plainly_and_gets_the_413_page(
    live_server, released, steward, page, tmp_path, settings
):
    """The script leaves a file over RELEASE_MAX_BYTES to the plain post: the server's page
    names the limit, as it does without JavaScript."""
    settings.RELEASE_MAX_BYTES = 100
    csv = tmp_path / "too-big.csv"
    csv.write_text(GOOD_CSV)
    sign_in_and_open_the_form(page, live_server, steward, released)
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and validate").click()
    expect(page.get_by_text("The file is larger than 100\xa0bytes", exact=False)).to_be_visible()
    assert not ReleaseUpload.objects.exists()
    assert released.releases.count() == 1
