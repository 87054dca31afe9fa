//! The OpenAPI 3.1 document, derived from the handlers (utoipa + utoipa-actix-web).
//!
//! After collection, `conventions` adds what the shared machinery does to every
//! operation — the access rule from `auth::permissions`, the security requirement, the
//! problem answers of the conventions (400/401/403/404/408/409/412/413/415/422/429/503,
//! each written once in `components/responses`), `Accept-Language` and the headers
//! answers carry — so each handler only documents what is its own. Then parameters
//! written alike by several operations move to `components/parameters`.
use actix_web::{App, http::Method};
use utoipa::{
    OpenApi,
    openapi::{
        self, Content, Ref, RefOr, ResponseBuilder,
        path::{Operation, ParameterIn, PathItem},
        security::{
            ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityRequirement,
            SecurityScheme,
        },
    },
};
use utoipa_actix_web::{AppExt, scope};

use crate::{
    auth::{
        Scope,
        permissions::{Access, access_of, describe},
    },
    error::{PROBLEM_JSON, Problem, ProblemField},
    http::{pagination::Tombstone, problem::RouteTable},
    routes,
};

const INTRO: &str = "Administrative-reform communication plans (*kế hoạch tuyên truyền cải cách hành chính*) \
of Vietnamese public bodies: plans, their items and targets, department assignments, communication \
activities with evidence, and citizen feedback.\n\n\
**Conventions.** JSON in UTF-8 with `snake_case` fields; RFC 3339 timestamps; UUID v7 ids. Lists are \
keyset-paginated (`limit` ≤ 200, opaque `cursor`, `Link: rel=\"next\"`); `updated_since` gives an \
incremental feed with tombstones. Records carry `version`, sent as the `ETag`; `If-Match` on PATCH and \
DELETE prevents lost updates (412). `Idempotency-Key` makes a creating POST safe to retry. Every error is \
RFC 9457 `application/problem+json` with a stable `code`, in Vietnamese (default) or English \
(`Accept-Language: en`), and every answer carries `X-Request-Id`.\n\n\
**Signing in.** `POST /api/v1/auth/token` with `grant_type=password` (people) or \
`grant_type=client_credentials` (service clients), then `Authorization: Bearer <access_token>`. In Swagger \
UI, use *Authorize*: either paste a token under `bearer`, or sign in with username and password under `oauth2`.\n\n\
**Oversight.** Who may `oversee` reads an organisation below theirs by adding `organization_id=<its id>` to \
any `GET` (lists and single records alike): the request then acts on that organisation with only the reads \
oversight covers (plans, items, indicators, assignments, duties, activities, evidence lists, reports and \
feedback statistics; never a feedback record or a file, never a write), is in that organisation's audit trail, \
and answers 404 for an organisation not below the caller's. The parameter is not repeated on each operation.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cchc-outreach",
        description = INTRO,
        license(name = "MIT"),
    ),
    components(schemas(Problem, ProblemField, Tombstone, crate::routes::data_protection::DataRequestData)),
    tags(
        (name = "auth", description = "Tokens and the caller."),
        (name = "organizations", description = "Organisations: the province, its departments (Sở), boards."),
        (name = "departments", description = "Departments (phòng) of an organisation."),
        (name = "users", description = "People and their roles."),
        (name = "service-clients", description = "Other e-government systems that call this API."),
        (name = "documents", description = "Legal texts that plans cite or implement."),
        (name = "plans", description = "Plans issued by a decision, and importing a whole plan."),
        (name = "plan-items", description = "The tree of a plan's parts, sections, objectives, content, channels and tasks."),
        (name = "indicators", description = "Measurable targets, their measurements and status."),
        (name = "assignments", description = "Department assignments, reporting duties and progress reports."),
        (name = "activities", description = "Communication activities that carried the plan out, and staff reach."),
        (name = "evidence", description = "Evidence files of activities."),
        (name = "budget", description = "The plan's budget (plan III.5): lines with their estimate, allocations by decision, spending with invoices or receipts, settlement. Whole đồng, integers."),
        (name = "data-protection", description = "Citizens' personal data as Decree 13/2023/NĐ-CP asks: the register of processing, a person's access, restriction and erasure, retention, the erasure log, legal holds and consent. See docs/data-protection.md."),
        (name = "feedback", description = "Feedback and hotline records (phản ánh, kiến nghị): categories, holidays, records, answers, satisfaction, publication."),
        (name = "public", description = "Published feedback results, readable without signing in; rate limited per client address."),
        (name = "reports", description = "Reports of plans and feedback as JSON, CSV or XLSX, and frozen snapshots."),
        (name = "exports", description = "Whole collections for scripts, streamed as CSV or NDJSON."),
        (name = "audit", description = "The audit trail."),
        (name = "events", description = "The event feed: every change as a domain event, in an order a consumer that follows the cursor misses nothing in."),
        (name = "webhooks", description = "Webhook subscriptions: the events of the organisation POSTed to a receiver, signed as Standard Webhooks specifies and retried until delivered; their deliveries. The event types and their bodies are in `webhooks` at the top of this document."),
        (name = "open311", description = "Open311 GeoReport v2: the feedback records as the civic-reporting standard has them, in JSON or XML by the path's extension, with the standard's own errors (`[{\"code\", \"description\"}]`, `<errors>`), not problem+json. See docs/open311.md."),
        (name = "health", description = "Liveness and readiness."),
    )
)]
struct ApiDoc;

/// The document, as served at `/api-docs/openapi.json`.
pub fn build() -> openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/api/v1").configure(routes::api))
        .service(scope::scope("/open311/v2").configure(routes::open311::routes))
        .configure(routes::root)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    conventions(&mut api);
    open311_form(&mut api);
    shared_parameters(&mut api);
    webhooks(&mut api);
    api
}

/// The top-level `webhooks` section (OpenAPI 3.1): one entry per event type of
/// `domain::events::CATALOG`, the body a subscription receives — the feed's `Event`
/// with its `type` and `subject.type` fixed and the fields `data` may hold named from
/// the resource's own schema (less what events withhold) — and the Standard Webhooks
/// headers it is signed with.
fn webhooks(api: &mut openapi::OpenApi) {
    use serde_json::json;
    let components = api.components.get_or_insert_with(Default::default);
    let headers = [
        (
            "webhook-id",
            "The event's id: the same on every attempt, so a receiver that has seen it can ignore a repeat.",
        ),
        ("webhook-timestamp", "When this attempt was signed, in seconds since 1970 (UTC); refuse ones far from now."),
        (
            "webhook-signature",
            "`v1,<base64 of HMAC-SHA256(secret, \"{webhook-id}.{webhook-timestamp}.{body}\")>`, where the key is the \
             base64 after `whsec_` of the subscription's secret; during a rotation's overlap, two signatures separated by a \
             space (either one verifies). Any Standard Webhooks library checks it.",
        ),
    ];
    for (name, description) in headers {
        let param = json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}});
        components.parameters.insert(name.to_owned(), serde_json::from_value(param).expect("a header parameter"));
    }
    let fields_of = |schema: &str| -> Vec<String> {
        let value = components.schemas.get(schema).map(|s| serde_json::to_value(s).expect("a schema"));
        let properties = value.as_ref().and_then(|v| v.get("properties")).and_then(|p| p.as_object());
        properties.into_iter().flat_map(|p| p.keys()).filter(|f| !crate::domain::events::withheld(f)).cloned().collect()
    };
    // One body schema per subject: the feed's `Event` with the types about it.
    let mut bodies: std::collections::BTreeMap<&str, (Vec<&str>, &str)> = Default::default();
    for (kind, subject, schema, _) in crate::domain::events::CATALOG {
        bodies.entry(schema).or_insert_with(|| (Vec::new(), subject)).0.push(kind);
    }
    let mut made = Vec::new();
    for (schema, (kinds, subject)) in bodies {
        let fields = fields_of(schema);
        assert!(!fields.is_empty(), "the schema {schema} is in the document");
        let body = json!({"allOf": [
            {"$ref": "#/components/schemas/Event"},
            {"type": "object", "properties": {
                "type": {"type": "string", "enum": kinds},
                "subject": {"type": "object", "properties": {"type": {"type": "string", "enum": [subject]}}},
                "data": {
                    "type": "object",
                    "description": format!("The fields of the `{schema}` that the change set, as they are after it \
                        (`null` where deleted); never personal data, internal notes or secrets — read the subject for \
                        those, with your own rights. Empty in a ping."),
                    "propertyNames": {"type": "string", "enum": fields},
                },
            }},
        ]});
        made.push((format!("EventAbout.{schema}"), serde_json::from_value(body).expect("a schema")));
    }
    components.schemas.extend(made);
    let responses = [
        (
            "WebhookReceived",
            "Received. Anything else (no answer in time, a redirect, another status) is tried again on the schedule of `CCHC_WEBHOOK_RETRY_SECONDS`.",
        ),
        ("WebhookGone", "Gone: the service turns the subscription off at once."),
    ];
    for (name, description) in responses {
        components
            .responses
            .insert(name.to_owned(), serde_json::from_value(json!({"description": description})).expect("a response"));
    }
    let parameters: Vec<_> =
        headers.iter().map(|(name, _)| json!({"$ref": format!("#/components/parameters/{name}")})).collect();
    let mut section = serde_json::Map::new();
    for (kind, _, schema, meaning) in crate::domain::events::CATALOG {
        let body = json!({"$ref": format!("#/components/schemas/EventAbout.{schema}")});
        let operation = json!({
            "tags": ["webhooks"],
            "summary": meaning,
            "parameters": parameters,
            "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
            "responses": {
                "2XX": {"$ref": "#/components/responses/WebhookReceived"},
                "410": {"$ref": "#/components/responses/WebhookGone"},
            },
        });
        section.insert((*kind).to_owned(), json!({"post": operation}));
    }
    api.webhooks = Some(serde_json::from_value(serde_json::Value::Object(section)).expect("the webhooks section"));
}

/// The exact bytes served and committed as `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&build()).expect("the document serialises");
    text.push('\n');
    text
}

/// The paths and methods, for 405 answers.
pub fn route_table(api: &openapi::OpenApi) -> RouteTable {
    let mut entries: Vec<(&str, Vec<Method>)> = api
        .paths
        .paths
        .iter()
        .map(|(path, item)| (path.as_str(), operations(item).map(|(m, _)| m).collect()))
        .collect();
    entries.push(("/api-docs/openapi.json", vec![Method::GET]));
    RouteTable::new(entries)
}

fn operations(item: &PathItem) -> impl Iterator<Item = (Method, &Operation)> {
    [
        (Method::GET, item.get.as_ref()),
        (Method::POST, item.post.as_ref()),
        (Method::PUT, item.put.as_ref()),
        (Method::PATCH, item.patch.as_ref()),
        (Method::DELETE, item.delete.as_ref()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

fn conventions(api: &mut openapi::OpenApi) {
    exclude_nul(api);
    write_rules(api);
    let components = api.components.get_or_insert_with(Default::default);
    shared_components(components);
    listed_by_reference(components);
    problem_codes(components);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A token from `POST /api/v1/auth/token`."))
                .build(),
        ),
    );
    let scopes = || Scopes::from_iter(Scope::ALL.iter().map(|s| (s.as_str(), s.as_str())));
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::with_description(
            [
                Flow::Password(Password::new("/api/v1/auth/token", Scopes::new())),
                Flow::ClientCredentials(ClientCredentials::new("/api/v1/auth/token", scopes())),
            ],
            "Sign in from Swagger UI: username and password for people, client id and secret for service clients.",
        )),
    );

    for (path, item) in api.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        for (method, op) in operations_mut(item) {
            // What `If-Match` accepts, so that a generator of valid requests sends that.
            // What `If-Match`, `cursor` and `period` accept, so that a generator of valid requests
            // sends that; the patterns live with the code that reads them.
            for param in op.parameters.iter_mut().flatten() {
                let RefOr::T(param) = param else { continue };
                let pattern = match param.name.as_str() {
                    "If-Match" => crate::http::etag::IF_MATCH_PATTERN,
                    "cursor" => crate::http::pagination::CURSOR_PATTERN,
                    "period" => crate::domain::plans::PERIOD_PATTERN,
                    _ => continue,
                };
                param.schema = Some(RefOr::T(openapi::Schema::Object(
                    openapi::ObjectBuilder::new()
                        .schema_type(openapi::schema::Type::String)
                        .pattern(Some(pattern))
                        .build(),
                )));
            }
            let id = op.operation_id.clone().unwrap_or_default();
            match id.as_str() {
                "download_evidence" => {
                    file_types(op, crate::domain::activities::EVIDENCE_TYPES.iter().map(|(m, _)| *m))
                }
                // A receipt is a document or a picture of one: no video.
                "download_budget_receipt" => file_types(
                    op,
                    crate::domain::activities::EVIDENCE_TYPES.iter().map(|(m, _)| *m).filter(|m| *m != "video/mp4"),
                ),
                "download_feedback_attachment" | "download_public_attachment" => {
                    file_types(op, crate::routes::feedback::attachments::ACCEPTED.iter().copied())
                }
                _ => {}
            }
            if id == "export_collection" {
                collections(op);
            }
            let access = access_of(&id).unwrap_or_else(|| {
                panic!("operation {id} is not in auth::permissions::OPERATIONS: decide who may call it")
            });
            let text = describe(access);
            op.description = Some(match op.description.take() {
                Some(d) if !d.is_empty() => format!("{d}\n\n{text}"),
                _ => text,
            });
            if path.starts_with("/open311/") {
                // The standard's own errors, which each handler documents; and an outage.
                open311_errors(op);
                decorate(op, false);
                continue;
            }
            let public = matches!(access, Access::Public);
            if !public {
                op.security = Some(vec![
                    SecurityRequirement::new("bearer", Vec::<String>::new()),
                    SecurityRequirement::new("oauth2", Vec::<String>::new()),
                ]);
                add(op, 401);
            }
            if matches!(access, Access::Needs(_) | Access::Rule(..) | Access::PersonOnly(_) | Access::Export) {
                add(op, 403);
            }
            if has_id {
                add(op, 404);
            }
            let named = |name: &str| op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == name));
            let (is_list, if_match, keyed, org_param) =
                (named("limit"), named("If-Match"), named("Idempotency-Key"), named("organization_id"));
            let has_query = op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
            // The token endpoint answers RFC 6749's errors, which its handler documents.
            let body = op.request_body.is_some() && id != "issue_token";
            if has_query || body || if_match || keyed {
                add(op, 400);
            }
            if is_list || has_query || body || org_param || keyed {
                add(op, 422);
            }
            if path.starts_with("/api/v1/") {
                add(op, 429);
            }
            if body {
                add(op, 408);
                add(op, 413);
                add(op, 415);
            }
            if method == Method::PATCH || method == Method::DELETE || if_match {
                add(op, 400);
                add(op, 412);
            }
            if keyed {
                add(op, 409);
            }
            if id != "healthz" {
                add(op, 503);
            }
            decorate(op, path.starts_with("/api/v1/"));
        }
    }
}

/// What every operation shares: `Accept-Language`, parameters that are absent rather
/// than `null`, and the headers of its own answers (`X-Request-Id`, `ETag` by
/// reference; under `/api/v1` the rate limit's on success, and `Retry-After` on 429).
fn decorate(op: &mut Operation, limited: bool) {
    let parameters = op.parameters.get_or_insert_with(Vec::new);
    for param in parameters.iter_mut() {
        let RefOr::T(param) = param else { continue };
        if let Some(RefOr::T(openapi::Schema::Object(schema))) = &mut param.schema
            && let openapi::schema::SchemaType::Array(types) = &schema.schema_type
            && let [one] = types.iter().filter(|t| **t != openapi::schema::Type::Null).collect::<Vec<_>>()[..]
        {
            schema.schema_type = openapi::schema::SchemaType::Type(one.clone());
        }
    }
    parameters.push(RefOr::Ref(Ref::new("#/components/parameters/Accept-Language")));
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        response.headers.entry("X-Request-Id".to_owned()).or_insert_with(|| header_ref("X-Request-Id"));
        if status == "429" {
            response.headers.entry("Retry-After".to_owned()).or_insert_with(|| header_ref("Retry-After"));
        }
        if let Some(RefOr::T(_)) = response.headers.get("ETag") {
            response.headers.insert("ETag".to_owned(), header_ref("ETag"));
        }
        // Errors carry the request id in their body as well; the limits matter to what worked.
        if limited && status.starts_with('2') {
            for name in RATE_LIMIT_HEADERS {
                response.headers.entry(name.to_owned()).or_insert_with(|| header_ref(name));
            }
        }
    }
}

/// A parameter written the same way by several operations (`limit`, `cursor`,
/// `If-Match`, `Idempotency-Key`, a path's `id` …) is written once, in
/// `components/parameters`, and referred to.
fn shared_parameters(api: &mut openapi::OpenApi) {
    use std::collections::BTreeMap;
    let key = |p: &openapi::path::Parameter| serde_json::to_string(p).expect("a parameter serialises");
    let mut seen: BTreeMap<String, (usize, openapi::path::Parameter)> = BTreeMap::new();
    for item in api.paths.paths.values_mut() {
        for (_, op) in operations_mut(item) {
            for param in op.parameters.iter().flatten() {
                if let RefOr::T(param) = param {
                    seen.entry(key(param)).or_insert_with(|| (0, param.clone())).0 += 1;
                }
            }
        }
    }
    // Named by the parameter (and where, when two places share a name), numbered when
    // several forms share both.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let components = api.components.get_or_insert_with(Default::default);
    for (text, (count, param)) in &seen {
        if *count < 2 {
            continue;
        }
        let base = match param.parameter_in {
            ParameterIn::Path => format!("path.{}", param.name),
            _ => param.name.clone(),
        };
        let n = taken.entry(base.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}.{n}") };
        components.parameters.insert(name.clone(), RefOr::T(param.clone()));
        names.insert(text.clone(), name);
    }
    for item in api.paths.paths.values_mut() {
        for (_, op) in operations_mut(item) {
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(inline) = param
                    && let Some(name) = names.get(&key(inline))
                {
                    *param = RefOr::Ref(Ref::new(format!("#/components/parameters/{name}")));
                }
            }
        }
    }
}

/// The export's `collection` is one of a fixed set.
fn collections(op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        if let RefOr::T(param) = param
            && param.name == "collection"
        {
            param.schema = Some(RefOr::T(openapi::Schema::Object(
                openapi::ObjectBuilder::new()
                    .schema_type(openapi::schema::Type::String)
                    .enum_values(Some(crate::routes::exports::collection_names()))
                    .build(),
            )));
        }
    }
}

/// A file comes back in its own type, one of those accepted: its bytes as they are
/// (a binary string, which generated clients read as a file).
fn file_types<'a>(op: &mut Operation, types: impl Iterator<Item = &'a str> + Clone) {
    let binary = openapi::ObjectBuilder::new()
        .schema_type(openapi::schema::Type::String)
        .format(Some(openapi::SchemaFormat::KnownFormat(openapi::KnownFormat::Binary)))
        .build();
    for status in ["200", "206"] {
        if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status)
            && response.content.shift_remove_index(0).is_some()
        {
            for mime in types.clone() {
                response.content.insert(mime.to_owned(), RefOr::T(Content::new(Some(binary.clone()))));
            }
        }
    }
}

/// Open311's form takes its own fields and any `attribute[…]` (ignored here), nothing
/// else; as a multipart form (`NewServiceRequestWithMedia`), its files in `media` too.
fn open311_form(api: &mut openapi::OpenApi) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    let Some(RefOr::T(openapi::Schema::Object(form))) = schemas.get("NewServiceRequest").cloned() else { return };
    let string = || openapi::ObjectBuilder::new().schema_type(openapi::schema::Type::String);
    let names = |extra: &[&str]| {
        let mut names: Vec<&str> = routes::open311::FORM_FIELDS.to_vec();
        names.extend(extra);
        Box::new(openapi::Schema::AnyOf(
            openapi::schema::AnyOfBuilder::new()
                .item(string().enum_values(Some(names)))
                .item(string().pattern(Some(routes::open311::ATTRIBUTE_PATTERN)))
                .build(),
        ))
    };
    let mut plain = form.clone();
    plain.property_names = Some(names(&[]));
    let mut with_media = form;
    let file = || {
        openapi::schema::ArrayBuilder::new()
            .items(string().format(Some(openapi::SchemaFormat::KnownFormat(openapi::KnownFormat::Binary))))
            .max_items(Some(10))
    };
    with_media
        .properties
        .insert("media".to_owned(), RefOr::T(file().description(Some("Photos or PDFs.")).build().into()));
    with_media.property_names = Some(names(routes::open311::FILE_FIELDS));
    schemas.insert("NewServiceRequest".to_owned(), RefOr::T(openapi::Schema::Object(plain)));
    schemas.insert("NewServiceRequestWithMedia".to_owned(), RefOr::T(openapi::Schema::Object(with_media)));
    for item in api.paths.paths.values_mut() {
        for (_, op) in operations_mut(item) {
            if op.operation_id.as_deref() != Some("create_request") {
                continue;
            }
            if let Some(RefOr::T(body)) = op.request_body.as_mut()
                && let Some(RefOr::T(multipart)) = body.content.get_mut("multipart/form-data")
            {
                multipart.schema = Some(RefOr::Ref(Ref::from_schema_name("NewServiceRequestWithMedia")));
            }
        }
    }
}

/// The errors every Open311 operation may answer, in the standard's shape (JSON or
/// XML), unless the operation says more of one.
fn open311_errors(op: &mut Operation) {
    let errors = || Content::new(Some(Ref::from_schema_name("Open311Errors")));
    let text = || Content::new(Some(openapi::ObjectBuilder::new().schema_type(openapi::schema::Type::String).build()));
    for (status, description) in [
        ("400", "A parameter missing or not valid, or an unknown one (errors name each)."),
        ("404", "An unknown jurisdiction, resource or format."),
        ("429", "Too many requests from this address (`Retry-After` says how long to wait)."),
        ("503", "The database is unavailable; try again later."),
    ] {
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/json", errors())
            .content("text/xml", text())
            .build();
        op.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
    }
}

/// Writes the rules between fields of request bodies (`http::rules`) into their schemas,
/// as one `allOf` of `if`/`then` each.
fn write_rules(api: &mut openapi::OpenApi) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    let mut names: Vec<&str> = crate::http::rules::RULES.iter().map(|r| r.schema).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let Some(RefOr::T(openapi::Schema::Object(object))) = schemas.get_mut(name) else {
            panic!("http::rules names {name}, which is not an object schema of the document");
        };
        let all: Vec<serde_json::Value> =
            crate::http::rules::RULES.iter().filter(|r| r.schema == name).map(|r| r.json_schema()).collect();
        // The only key added, so that the document's bytes do not depend on hash order.
        object.extensions.get_or_insert_with(Default::default).insert("allOf".to_owned(), all.into());
    }
}

/// What every string the service reads must match: PostgreSQL text cannot hold NUL,
/// so the service refuses it in any body field or parameter (a 400).
pub const NO_NUL_PATTERN: &str = r"^[^\x00]*$";

/// Writes `NO_NUL_PATTERN` into every free-text string schema that a request can carry —
/// parameters, bodies, and the components they use — so that the document refuses what
/// the server refuses.
fn exclude_nul(api: &mut openapi::OpenApi) {
    let mut wanted = std::collections::BTreeSet::new();
    for item in api.paths.paths.values_mut() {
        for (_, op) in operations_mut(item) {
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && let Some(schema) = param.schema.as_mut()
                {
                    no_nul(schema, &mut wanted);
                }
            }
            let bodies = op.request_body.iter_mut().filter_map(|body| match body {
                RefOr::T(body) => Some(body),
                RefOr::Ref(_) => None,
            });
            for content in bodies.flat_map(|body| body.content.values_mut()) {
                if let RefOr::T(content) = content
                    && let Some(schema) = content.schema.as_mut()
                {
                    no_nul(schema, &mut wanted);
                }
            }
        }
    }
    let Some(components) = api.components.as_mut() else { return };
    let mut done = std::collections::BTreeSet::new();
    while let Some(name) = wanted.iter().find(|n| !done.contains(*n)).cloned() {
        done.insert(name.clone());
        if let Some(schema) = components.schemas.get_mut(&name) {
            no_nul(schema, &mut wanted);
        }
    }
}

fn no_nul(schema: &mut RefOr<openapi::Schema>, refs: &mut std::collections::BTreeSet<String>) {
    use openapi::schema::{ArrayItems, Schema, SchemaType, Type};
    let schema = match schema {
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                refs.insert(name.to_owned());
            }
            return;
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::Object(object) => {
            let string = match &object.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(types) => types.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if string && object.pattern.is_none() && object.format.is_none() && object.enum_values.is_none() {
                object.pattern = Some(NO_NUL_PATTERN.to_owned());
            }
            for property in object.properties.values_mut() {
                no_nul(property, refs);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                no_nul(items, refs);
            }
        }
        Schema::OneOf(of) => of.items.iter_mut().for_each(|s| no_nul(s, refs)),
        Schema::AllOf(of) => of.items.iter_mut().for_each(|s| no_nul(s, refs)),
        Schema::AnyOf(of) => of.items.iter_mut().for_each(|s| no_nul(s, refs)),
        _ => {}
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// The problem answers the shared conventions give, each written once in
/// `components/responses`: (status, name, description).
const SHARED_RESPONSES: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Malformed: a query parameter invalid, unknown or repeated; a body not JSON or with a missing, invalid, unknown or server-owned field; a malformed `If-Match`, `Idempotency-Key` or cursor. `errors` names each field or parameter.",
    ),
    (401, "Unauthenticated", "No token, or an invalid, expired or revoked one."),
    (
        403,
        "Forbidden",
        "Signed in, but without what the operation's **Access** names: the permission (`forbidden`), the service client's scope (`forbidden`), or the department (`other_department`).",
    ),
    (404, "NotFound", "No such record, or it belongs to another organisation."),
    (408, "RequestTimeout", "The body did not arrive within `CCHC_REQUEST_TIMEOUT_SECONDS` (`request_timeout`)."),
    (
        409,
        "IdempotencyInProgress",
        "A request with this `Idempotency-Key` is still running (`idempotency_in_progress`).",
    ),
    (
        412,
        "PreconditionFailed",
        "`If-Match` names an old version (`version_mismatch`); the answer's `ETag` is the current one.",
    ),
    (413, "PayloadTooLarge", "The body is larger than allowed (`payload_too_large`)."),
    (415, "UnsupportedMediaType", "The body is not JSON (`unsupported_media_type`)."),
    (
        422,
        "Unprocessable",
        "Well-formed, but: breaks a rule the schema cannot state (`rule_violated`, with the fields); names a record that does not exist or is another organisation's (`reference_invalid`); a cursor this list did not issue (`unknown_cursor`); the system administrator did not name the organisation (`organization_required`); or this `Idempotency-Key` was used with another request (`idempotency_key_reused`).",
    ),
    (
        429,
        "TooManyRequests",
        "Too many requests from this token or address (`rate_limited`); `Retry-After` says when to try again.",
    ),
    (503, "Unavailable", "The database is unavailable (`database_unavailable`); retry after `Retry-After` seconds."),
];

/// The headers answers carry, written once in `components/headers`.
const SHARED_HEADERS: &[(&str, openapi::schema::Type, &str)] = &[
    (
        "X-Request-Id",
        openapi::schema::Type::String,
        "The request's id (yours if you sent a valid one); quote it when reporting a problem.",
    ),
    ("Retry-After", openapi::schema::Type::Integer, "Seconds to wait before trying again."),
    ("RateLimit-Limit", openapi::schema::Type::Integer, "Requests allowed per minute to this token (or address)."),
    ("RateLimit-Remaining", openapi::schema::Type::Integer, "Requests left now."),
    ("RateLimit-Reset", openapi::schema::Type::Integer, "Seconds until the whole allowance is back."),
    ("ETag", openapi::schema::Type::String, "The record's current version, quoted (`\"3\"`)."),
];

const RATE_LIMIT_HEADERS: [&str; 3] = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

fn header_ref(name: &str) -> RefOr<openapi::Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

/// Writes the shared responses, headers and the `Accept-Language` parameter into the
/// components.
fn shared_components(components: &mut openapi::Components) {
    for (name, kind, description) in SHARED_HEADERS {
        let schema = openapi::ObjectBuilder::new().schema_type(kind.clone()).build();
        let header = openapi::HeaderBuilder::new().schema(Some(schema)).description(Some(*description)).build();
        components.headers.insert((*name).to_owned(), RefOr::T(header));
    }
    for (status, name, description) in SHARED_RESPONSES {
        let mut response = ResponseBuilder::new()
            .description(*description)
            .content(PROBLEM_JSON, Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))))
            .build();
        let mut headers = vec!["X-Request-Id"];
        match status {
            429 => headers.extend(["Retry-After"].into_iter().chain(RATE_LIMIT_HEADERS)),
            503 => headers.push("Retry-After"),
            412 => headers.push("ETag"),
            _ => {}
        }
        for header in headers {
            response.headers.insert(header.to_owned(), header_ref(header));
        }
        components.responses.insert((*name).to_owned(), RefOr::T(response));
    }
    let language = openapi::path::ParameterBuilder::new()
        .name("Accept-Language")
        .parameter_in(ParameterIn::Header)
        .required(openapi::Required::False)
        .description(Some(
            "`vi` (the default) or `en`, with q-values (`en-US,en;q=0.9`): the language of problem titles, details and field messages. Any other value means `vi`.",
        ))
        .schema(Some(
            openapi::ObjectBuilder::new()
                .schema_type(openapi::schema::Type::String)
                .examples(["en"])
                .build(),
        ))
        .build();
    components.parameters.insert("Accept-Language".to_owned(), RefOr::T(language));
}

/// A list's item refers to the record's own schema instead of repeating it.
fn listed_by_reference(components: &mut openapi::Components) {
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Listed_") else { continue };
        if !components.schemas.contains_key(item) {
            continue;
        }
        if let Some(RefOr::T(openapi::Schema::OneOf(one_of))) = components.schemas.get_mut(&name)
            && let Some(first) = one_of.items.first_mut()
        {
            *first = RefOr::Ref(Ref::from_schema_name(item));
        }
    }
}

/// `Problem.code` lists the codes the server uses (`i18n`'s problem table).
fn problem_codes(components: &mut openapi::Components) {
    if let Some(RefOr::T(openapi::Schema::Object(problem))) = components.schemas.get_mut("Problem")
        && let Some(RefOr::T(openapi::Schema::Object(code))) = problem.properties.get_mut("code")
    {
        code.enum_values = Some(crate::i18n::problem_codes().map(serde_json::Value::from).collect());
    }
}

/// Adds the shared problem answer for `status` unless the handler documented that
/// status itself.
fn add(op: &mut Operation, status: u16) {
    let (_, name, _) =
        SHARED_RESPONSES.iter().find(|(s, _, _)| *s == status).expect("a shared response for each status added");
    op.responses.responses.entry(status.to_string()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
}
