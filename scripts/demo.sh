#!/usr/bin/env bash
# Runs the web server, a Celery worker and the beat scheduler together. Ctrl-C (or any of the
# three exiting) stops all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
# The settings create the broker folders under var/celery/.
mkdir -p var/media

stop_all() {
  trap - EXIT INT TERM
  kill -TERM $(jobs -p) 2>/dev/null
  wait
}
trap stop_all EXIT INT TERM

.venv/bin/celery -A govshare worker --loglevel=INFO --concurrency=1 --hostname=demo@%h &
.venv/bin/celery -A govshare beat --loglevel=INFO &
.venv/bin/python manage.py runserver --noreload 127.0.0.1:8000 &
echo "govshare demo: http://127.0.0.1:8000  (sign in as health_steward / demo-pass-2026; Ctrl-C stops)"
wait -n
