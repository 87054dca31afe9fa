# Sourced by the CI scripts that need the service running: starts the built binary on a
# free port with its own private PostgreSQL (no DATABASE_URL) and the demo data, rate
# limits out of the way; sets BASE, PASSWORD, DATA and SERVICE, and stops it all on exit.
BIN=${CARGO_TARGET_DIR:-target}/debug/cchc-outreach
[ -x "$BIN" ] || cargo build --quiet
DATA=$(mktemp -d /tmp/cchc-ci.XXXXXX)
chmod 755 "$DATA" # the private PostgreSQL may run as another account
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
BASE=http://127.0.0.1:$PORT

env -u DATABASE_URL CCHC_DATA_DIR="$DATA" CCHC_BIND="127.0.0.1:$PORT" CCHC_ADMIN_PASSWORD="$PASSWORD" \
  CCHC_RATE_LIMIT=0 CCHC_RATE_LIMIT_PER_ADDRESS=0 CCHC_PUBLIC_RATE_LIMIT=1000000 CCHC_LOG=warn \
  "$BIN" > "$DATA/service.log" 2>&1 &
SERVICE=$!
cleanup() {
  kill "$SERVICE" 2>/dev/null || true
  wait "$SERVICE" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -sf "$BASE/readyz" > /dev/null && break
  kill -0 "$SERVICE" 2>/dev/null || { cat "$DATA/service.log"; exit 1; }
  sleep 1
done
