#!/usr/bin/env bash
# Runs the web server, a Celery worker and the beat scheduler together. Ctrl-C (or any of the
# three exiting) stops all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8000}
case $port in
  ''|*[!0-9]*) echo "PORT must be a number, not '$port'" >&2; exit 2 ;;
esac
# Links in notifications and the standards' URIs name the address the demo really serves.
export SITE_URL=${SITE_URL:-http://127.0.0.1:$port}
# The settings create the broker folders under var/celery/.
mkdir -p var/media

stop_all() {
  trap - EXIT INT TERM
  kill -TERM $(jobs -p) 2>/dev/null
  wait
}
trap stop_all EXIT INT TERM

# The departments' witnesses (keys made by seed_demo under var/witnesses/): HEALTH's and CIVIL's.
witnesses=()
for pair in health:8101 civil:8102; do
  code=${pair%%:*} port=${pair##*:}
  if [ -f "var/witnesses/$code.key" ]; then
    .venv/bin/python tools/govshare_witness.py serve --key "var/witnesses/$code.key" \
      --log-key "$(cat var/witnesses/log.vkey)" --state "var/witnesses/$code.state" \
      --listen "127.0.0.1:$port" &
    witnesses+=("$(cat "var/witnesses/$code.vkey")=http://127.0.0.1:$port")
  fi
done
if [ ${#witnesses[@]} -gt 0 ] && [ -z "${LEDGER_WITNESSES:-}" ]; then
  LEDGER_WITNESSES=$(IFS=,; echo "${witnesses[*]}")
  export LEDGER_WITNESSES
fi

.venv/bin/celery -A govshare worker --loglevel=INFO --concurrency=1 --hostname=demo@%h &
# beat's DatabaseScheduler (CELERY_BEAT_SCHEDULER): the jobs that migrate seeded, as the office
# edits them in admin (Periodic tasks), picked up without a restart.
.venv/bin/celery -A govshare beat --loglevel=INFO &
.venv/bin/python manage.py runserver --noreload "127.0.0.1:$port" &
echo "govshare demo: http://127.0.0.1:$port  (sign in as health_steward / demo-pass-2026; Ctrl-C stops)"
wait -n
