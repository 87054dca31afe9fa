#!/usr/bin/env python3
"""Mirror an organisation's feedback records into a local CSV file, incrementally.

Signs in with a service client's id and secret (OAuth 2.0 client credentials), then
pulls GET /api/v1/exports/feedback as NDJSON: everything the first time, afterwards only
what changed since the last run (`updated_since`), with deleted records as tombstones.
The CSV is rewritten atomically and the position is saved only after it, so a run that
stops half-way is simply repeated from the last saved position next time.

Python standard library only. Usage:

    python3 examples/mirror_feedback.py --base-url http://127.0.0.1:8080 \\
        --client-id "$CLIENT_ID" --client-secret="$CLIENT_SECRET" --out feedback.csv

The client needs the `feedback:read` scope (a client that also has `feedback:write`
sees only the records it sent). The position is kept next to the CSV, in
`<out>.state.json`. Settings may also come from CCHC_BASE_URL, CCHC_CLIENT_ID and
CCHC_CLIENT_SECRET.
"""

import argparse
import csv
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

# Changes committed a little late can carry an earlier `updated_at`: ask again for this
# much before the newest change seen. Records seen twice are simply written again.
OVERLAP = timedelta(minutes=1)


def request(url, token=None, data=None):
    headers = {"Accept": "application/x-ndjson, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if data is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(data).encode()
    return urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60)


def sign_in(base, client_id, secret):
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    with request(f"{base}/api/v1/auth/token", data=body) as res:
        return json.load(res)["access_token"]


# The CSV holds cells as written: text that a spreadsheet would run as a formula gets a
# leading "'", and so does text already starting with one (the service's own rule,
# docs/reports.md); numbers and booleans are written as they are.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def to_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return json.dumps(value)


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_atomically(path, write):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".mirror-")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", default=os.environ.get("CCHC_BASE_URL", "http://127.0.0.1:8080"))
    p.add_argument("--client-id", default=os.environ.get("CCHC_CLIENT_ID"))
    p.add_argument("--client-secret", default=os.environ.get("CCHC_CLIENT_SECRET"))
    p.add_argument("--out", default="feedback.csv")
    args = p.parse_args()
    if not args.client_id or not args.client_secret:
        p.error("--client-id and --client-secret (or CCHC_CLIENT_ID, CCHC_CLIENT_SECRET) are required")
    base = args.base_url.rstrip("/")
    state_path = args.out + ".state.json"

    state = {}
    if os.path.exists(state_path):
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
    columns, records = [], {}
    if os.path.exists(args.out) and state.get("since"):
        with open(args.out, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            records = {row["id"]: row for row in reader}

    token = sign_in(base, args.client_id, args.client_secret)
    query = {"format": "ndjson"}
    if state.get("since"):
        query["updated_since"] = state["since"]
    url = f"{base}/api/v1/exports/feedback?{urllib.parse.urlencode(query)}"

    newest, changed, deleted = None, 0, 0
    with request(url, token) as res:
        for line in res:
            if not line.strip():
                continue
            row = json.loads(line)
            stamp = row.get("updated_at") or row.get("deleted_at")
            if stamp and (newest is None or parse_time(stamp) > newest):
                newest = parse_time(stamp)
            if row.get("deleted_at"):
                deleted += records.pop(row["id"], None) is not None
                continue
            for key in row:
                if key not in columns:
                    columns.append(key)
            records[row["id"]] = {k: to_cell(v) for k, v in row.items()}
            changed += 1

    def write_csv(f):
        out = csv.DictWriter(f, fieldnames=columns or ["id"], extrasaction="ignore")
        out.writeheader()
        for key in sorted(records):
            out.writerow(records[key])

    write_atomically(args.out, write_csv)
    if newest is not None:
        since = (newest - OVERLAP).isoformat().replace("+00:00", "Z")
        write_atomically(state_path, lambda f: json.dump({"since": since}, f))
    print(f"{changed} record(s) written, {deleted} removed, {len(records)} in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
