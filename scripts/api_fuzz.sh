#!/usr/bin/env bash
# schemathesis over the project's own OpenAPI schema (issue #12), as CI's gate after lint: the
# portal under gunicorn on 127.0.0.1 with a freshly seeded PostgreSQL database, one run per
# persona token and one with none, bounded by FUZZ_MAX_EXAMPLES per operation; then schemathesis's
# coverage phase (every boundary and malformed value the schema implies, about 3,600 cases) once,
# as the office. Fails on any 5xx, any status the schema does not declare, any content type or
# body that does not match it.
#
#   FUZZ_DATABASE_URL  the database it drops and seeds (default .../govshare_fuzz on 127.0.0.1)
#   FUZZ_PORT          gunicorn's port on 127.0.0.1 (default: a free one the system picks)
#   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 20)
#   FUZZ_SEED          schemathesis's seed, fixed so a failure reproduces (default below)
#   FUZZ_PERSONAS      the demo users whose tokens it uses (default: one per role)
#   FUZZ_COVERAGE_AS   the one whose token the coverage phase uses (default office; "" skips it)
set -euo pipefail
cd "$(dirname "$0")/.."

database=${FUZZ_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/govshare_fuzz}
# A port nobody holds: with a fixed one, a second run on the machine (another checkout's CI) would
# have this run's requests answered by the other's portal, database and tokens.
port=${FUZZ_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
examples=${FUZZ_MAX_EXAMPLES:-20}
seed=${FUZZ_SEED:-20261202}
personas=${FUZZ_PERSONAS:-civil_clerk health_steward office auditor admin}
coverage_as=${FUZZ_COVERAGE_AS-office}
started=$SECONDS

work=$(mktemp -d)
gunicorn_pid=""
cleanup() {
  if [ -n "$gunicorn_pid" ]; then kill -TERM "$gunicorn_pid" 2>/dev/null || true; wait "$gunicorn_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The demo world's settings, on its own database and folders, with no worker: a queued delivery
# stays pending. The API's rate limits are raised so the fuzzer tests the operations, not them
# (tests/test_api_throttling.py tests the limits).
export DEBUG=true DATABASE_URL="$database" GOVSHARE_VAR_DIR="$work/var"
export API_THROTTLE_FAILED_AUTH=1000000/minute API_THROTTLE_DATA_USER=1000000/minute \
  API_THROTTLE_DATA_GRANT=1000000/minute
unset CELERY_BROKER_URL LEDGER_WITNESSES

name=${database##*/}
base=${database%/*}
psql "$base/postgres" -qtAc "DROP DATABASE IF EXISTS \"$name\"" >/dev/null
psql "$base/postgres" -qtAc "CREATE DATABASE \"$name\"" >/dev/null
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --rows 20 >/dev/null
.venv/bin/python manage.py shell -v0 -c "
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
for username in '$personas'.split():
    user = get_user_model().objects.get(username=username)
    print(username, Token.objects.get_or_create(user=user)[0].key)
" >"$work/tokens"

.venv/bin/gunicorn govshare.wsgi --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --error-logfile "$work/gunicorn.log" --capture-output --access-logfile /dev/null &
gunicorn_pid=$!
sleep 2
if ! kill -0 "$gunicorn_pid" 2>/dev/null; then
  echo "gunicorn did not start on 127.0.0.1:$port:"
  cat "$work/gunicorn.log"
  exit 1
fi

failed=0
failures=()
run() {  # run LABEL PHASES [schemathesis options...]
  local label=$1 phases=$2
  shift 2
  echo "-- schemathesis as $label ($phases)"
  if ! .venv/bin/schemathesis run "http://127.0.0.1:$port/api/schema/" --wait-for-schema 30 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases "$phases" --max-examples "$examples" --seed "$seed" \
    --no-shrink --workers 2 --request-timeout 30 --output-truncate true "$@" >"$work/$label-$phases.log" 2>&1; then
    failed=1
    failures+=("$work/$label-$phases.log")
  fi
  grep -E "generated|^=+ .* in [0-9.]+s =+$" "$work/$label-$phases.log" | tail -2
}

run anonymous examples,fuzzing
while read -r username token; do
  run "$username" examples,fuzzing --header "Authorization: Token $token"
  if [ "$username" = "$coverage_as" ]; then
    run "$username" coverage --header "Authorization: Token $token"
  fi
done <"$work/tokens"

# What failed comes last, where CI's log tail shows it: each failing run's whole report, then the
# portal's tracebacks (gunicorn's log holds the workers' stderr too, --capture-output).
for log in "${failures[@]}"; do
  echo "== failed: $(basename "$log" .log)"
  cat "$log"
done
if grep -q "Traceback" "$work/gunicorn.log"; then
  echo "== gunicorn logged a traceback:"
  grep -v -E "WARNING django.request (Not Found|Bad Request|Forbidden|Unauthorized|Conflict|Method Not Allowed|Unsupported Media Type|Request Entity Too Large|Too Many Requests|Unprocessable)" \
    "$work/gunicorn.log"
  failed=1
fi
[ "$failed" = 0 ] || echo "api fuzz FAILED: ${#failures[@]} run(s) failed (reports above)"
echo "api fuzz: $((SECONDS - started)) s, $examples examples per operation, seed $seed"
exit $failed
