#!/usr/bin/env bash
# Renders a plan's official report document (.docx) to PDF and to a PNG of its first
# page with LibreOffice, as officials would print it. Outside the test suite.
#
#   docs/render-report.sh [PLAN_CODE] [PERIOD] [OUT_DIR]
#
# Defaults: the demo plan KH-TTCCHC-2021, 2021-Q2, ./target/report. The service must
# be running (BASE, default http://127.0.0.1:8080); sign in with CCHC_USER and
# CCHC_PASSWORD (default admin and $CCHC_ADMIN_PASSWORD), or give TOKEN.
# Needs curl, jq, LibreOffice (soffice) and poppler-utils (pdftoppm); on Debian:
#   apt-get install --no-install-recommends libreoffice-writer-nogui poppler-utils fonts-liberation
# (Liberation Serif stands in for Times New Roman, with the same metrics.)
set -euo pipefail
PLAN_CODE=${1:-KH-TTCCHC-2021}
PERIOD=${2:-2021-Q2}
OUT=${3:-target/report}
BASE=${BASE:-http://127.0.0.1:8080}
API=$BASE/api/v1
mkdir -p "$OUT"
if [ -z "${TOKEN:-}" ]; then
  TOKEN=$(curl -sf "$API/auth/token" -d grant_type=password \
    -d username="${CCHC_USER:-admin}" --data-urlencode password="${CCHC_PASSWORD:-${CCHC_ADMIN_PASSWORD:?set CCHC_PASSWORD or TOKEN}}" |
    jq -r .access_token)
fi
PLAN=$(curl -sf "$API/plans?limit=200" -H "Authorization: Bearer $TOKEN" |
  jq -r --arg code "$PLAN_CODE" '.items[] | select(.code == $code) | .id' | head -1)
[ -n "$PLAN" ] || { echo "no plan $PLAN_CODE" >&2; exit 1; }
NAME="bao-cao_${PLAN_CODE}_${PERIOD}"
curl -sf "$API/reports/plans/$PLAN?period=$PERIOD&format=docx" -H "Authorization: Bearer $TOKEN" -o "$OUT/$NAME.docx"
soffice --headless --convert-to pdf --outdir "$OUT" "$OUT/$NAME.docx" >/dev/null
pdftoppm -r 90 -png -f 1 -l 1 -singlefile "$OUT/$NAME.pdf" "$OUT/$NAME"
echo "$OUT/$NAME.docx"
echo "$OUT/$NAME.pdf"
echo "$OUT/$NAME.png"
