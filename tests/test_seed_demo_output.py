"""seed_demo is quiet by default (#15.9): one summary line, the emails in a file under var/."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from access_requests.models import Request


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_seed_demo_prints_one_summary_line_and_writes_the_emails_to_a_file(var_dir):
    out = io.StringIO()
    call_command("seed_demo", rows=20, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    (line,) = lines
    emails = (var_dir / "demo-emails.txt").read_text(encoding="utf-8")
    subjects = re.findall(r"^Subject: \[govshare\] (.+)$", emails, re.M)
    assert len(subjects) > 10
    assert line.startswith("Demo world ready: created 4 departments, 6 users, 3 catalog entries, ")
    assert (
        f"{Request.objects.count()} requests" in line
        and "Sign in as admin, office, auditor, health_steward, civil_clerk, police_clerk with "
        "the password demo-pass-2026."
        in line
    )
    assert line.endswith(
        f"{len(subjects)} emails written to {var_dir / 'demo-emails.txt'}; -v 2 prints everything."
    )
    assert "kept" not in line
    assert mail.outbox == []  # nothing went to the configured backend

    again = io.StringIO()
    call_command("seed_demo", rows=20, stdout=again)
    (second,) = again.getvalue().splitlines()
    assert second.startswith("Demo world ready: created nothing; kept 4 departments, 6 users, ")
    assert second.endswith("No emails this time; -v 2 prints everything.")
    assert (var_dir / "demo-emails.txt").read_text(encoding="utf-8") == emails  # kept


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("option", [{"verbosity": 2}, {"verbose": True}])
def test_seed_demo_verbose_prints_every_step_and_sends_the_emails(var_dir, option):
    out = io.StringIO()
    call_command("seed_demo", rows=20, stdout=out, **option)
    assert out.getvalue() == (
        "Demo world ready.\n"
        "Users (password: demo-pass-2026): admin, office, auditor, health_steward, civil_clerk, "
        "police_clerk\n"
    )
    assert len(mail.outbox) > 10  # the configured backend (the console in development)
    assert not (var_dir / "demo-emails.txt").exists()
