"""The embedded broker (``filesystem://``, what ``make demo`` uses) on a fresh clone: a worker
started by hand creates the transport's folders under var/ and takes tasks."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings


def wait_for_line(log_path, text, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
        if text in log:
            return log
        assert process.poll() is None, f"worker exited with {process.returncode}:\n{log}"
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in the worker's log after {timeout:.0f} s:\n{log}")


def test_a_worker_on_a_fresh_clone_creates_the_filesystem_brokers_folders(tmp_path):
    var = tmp_path / "var"  # nothing there yet, as on a fresh clone
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "DATABASE_URL", "LEDGER_SIGNING_KEY_FILE"}
    }
    env.update(DEBUG="true", GOVSHARE_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "govshare",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_line(log_path, " ready.", worker)
        assert sorted(p.name for p in (var / "celery").iterdir()) == [
            "control",
            "processed",
            "queue",
        ]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "govshare",
                "call",
                "sharing.tasks.sweep_deliveries",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        log = wait_for_line(log_path, "Task sharing.tasks.sweep_deliveries[", worker)
        assert "FileNotFoundError" not in log
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
