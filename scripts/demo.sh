#!/usr/bin/env bash
# Runs the web server, a Celery worker and the beat scheduler together; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/celery/queue var/celery/processed var/media
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
.venv/bin/celery -A govshare worker --loglevel=INFO --concurrency=1 --hostname=demo@%h &
.venv/bin/celery -A govshare beat --loglevel=INFO &
echo "govshare demo: http://127.0.0.1:8000  (sign in as health_steward / demo-pass-2026; Ctrl-C stops)"
"$PY" manage.py runserver 127.0.0.1:8000
