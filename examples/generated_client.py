#!/usr/bin/env python3
"""A smoke run of a client generated from openapi/openapi.json (openapi-python-client).

CI (.ci/client) generates the package `cchc_outreach_client` into a build folder and
runs this against a live service; nothing here is written by hand but the calls. It
signs in as the administrator to make a service client and two plans, signs in as that
client with the client-credentials grant, lists plans a page at a time following the
cursors, files feedback with an Idempotency-Key (twice: the second is a replay), reads
it back and streams an export.

    CCHC_BASE_URL=http://127.0.0.1:8080 CCHC_ADMIN_PASSWORD=… python3 examples/generated_client.py
"""
import os
import secrets
import sys
import uuid

from cchc_outreach_client import AuthenticatedClient, Client
from cchc_outreach_client.api.auth import issue_token
from cchc_outreach_client.api.feedback import create_feedback, get_feedback
from cchc_outreach_client.api.organizations import list_organizations
from cchc_outreach_client.api.plans import create_plan, list_plans
from cchc_outreach_client.api.service_clients import create_service_client
from cchc_outreach_client.models import (
    CreateFeedback,
    CreatePlan,
    CreateServiceClient,
    ExportCollectionCollection,
    ExportCollectionFormat,
    FeedbackChannel,
    FeedbackFiled,
    FeedbackKind,
    Location,
    Scope,
    SenderType,
    TokenRequest,
    TokenResponse,
)
from cchc_outreach_client.types import UNSET


def check(condition, what):
    if not condition:
        sys.exit(f"generated client smoke: {what}")
    print(f"ok: {what}")


def token(base, **grant):
    res = issue_token.sync_detailed(client=Client(base_url=base), body=TokenRequest(**grant))
    check(res.status_code == 200 and isinstance(res.parsed, TokenResponse), f"{grant['grant_type']} grant ({res.status_code})")
    return res.parsed.access_token


def main():
    base = os.environ["CCHC_BASE_URL"]
    admin = AuthenticatedClient(base_url=base, token=token(base, grant_type="password", username="admin",
                                                             password=os.environ["CCHC_ADMIN_PASSWORD"]))

    orgs = list_organizations.sync(client=admin, code="KDPM")
    check(orgs is not None and len(orgs.items) == 1, "the demo organisation is listed")
    made = create_service_client.sync_detailed(client=admin, body=CreateServiceClient(
        name="Cổng dịch vụ công (smoke)", scopes=[Scope.PLANSREAD, Scope.FEEDBACKWRITE],
        organization_id=orgs.items[0].id), idempotency_key=str(uuid.uuid4()))
    check(made.status_code == 201 and made.parsed.client_secret, "a service client is made, its secret shown once")

    # Two more plans, so that listing them takes several pages.
    for n in (1, 2):
        res = create_plan.sync_detailed(client=admin, body=CreatePlan(
            code=f"SMOKE-{secrets.token_hex(3)}-{n}", year=2027, title=f"Kế hoạch thử {n}", organization_id=orgs.items[0].id))
        check(res.status_code == 201, f"plan {n} made")

    # Signing in with client credentials.
    portal = AuthenticatedClient(base_url=base, token=token(
        base, grant_type="client_credentials", client_id=str(made.parsed.id), client_secret=made.parsed.client_secret))

    # Plans, following the cursors to the end, one a page.
    seen, cursor, pages = [], UNSET, 0
    while True:
        page = list_plans.sync(client=portal, limit=1, cursor=cursor)
        check(page is not None, f"page {pages + 1} of plans")
        seen.extend(p.id for p in page.items)
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    check(len(seen) == len(set(seen)) and len(seen) >= 3 and pages == len(seen),
          f"{len(seen)} plans over {pages} pages, none twice")

    # Feedback filed with an Idempotency-Key; the same key again replays it.
    key = secrets.token_urlsafe(16)
    body = CreateFeedback(channel=FeedbackChannel.PORTAL, kind=FeedbackKind.QUESTION, sender_type=SenderType.CITIZEN,
                          sender_name="Nguyễn Văn An", sender_phone="0912345678",
                          subject="Hỏi tiến độ giải phóng mặt bằng", content="Đề nghị Ban cho biết tiến độ.",
                          location=Location(lat=12.2388, long=109.1967))
    first = create_feedback.sync_detailed(client=portal, body=body, idempotency_key=key)
    check(first.status_code == 201 and isinstance(first.parsed, FeedbackFiled), "feedback filed (201)")
    again = create_feedback.sync_detailed(client=portal, body=body, idempotency_key=key)
    check(again.status_code == 201 and again.headers.get("idempotency-replayed") == "true"
          and again.parsed.id == first.parsed.id, "the same key replays the first answer")
    read = get_feedback.sync(first.parsed.id, client=portal)
    check(read is not None and read.code == first.parsed.code and read.location.lat == 12.2388,
          f"{read.code} read back with its place")

    # An export, streamed through the client's own session (the generated functions read
    # whole answers). openapi-python-client 0.29.1 cannot call `export_collection`: its
    # query parameter `headers` shadows the function's own local of that name.
    lines = 0
    path = f"/api/v1/exports/{ExportCollectionCollection.FEEDBACK}"
    with portal.get_httpx_client().stream("GET", path, params={"format": str(ExportCollectionFormat.NDJSON)}) as res:
        check(res.status_code == 200, "the export answers 200")
        for line in res.iter_lines():
            lines += bool(line.strip())
    check(lines >= 1, f"the export streamed {lines} record(s) the client filed")


if __name__ == "__main__":
    main()
