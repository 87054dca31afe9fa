//! Triage, as help for staff: possible duplicates of a record (with their reasons),
//! merging one record into another about the same matter, and the categories and
//! departments past records suggest for a record that came without them — routed by
//! them only where the organisation turned that on.
use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use diesel::{Connection, OptionalExtension, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::records::{Feedback, client_scope, load_for};
use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        audit::{self, Actor, Event},
        feedback::{self as store, FeedbackChanges, FeedbackRecord},
        triage::{self as sql, MergeRow, Probe, SuggestionRow},
    },
    domain::{
        feedback::FeedbackStatus,
        triage::{Basis, DUPLICATE_THRESHOLD, Neighbour, Reason, Signals, Suggested, duplicate_score, vote},
    },
    error::ApiError,
    http::{ApiJson, IfMatch, RequestContext, etag::ok_with_etag},
    routes::crud,
    state::AppState,
};

/// A record that may be about the same matter.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SimilarRecord {
    pub feedback_id: Uuid,
    #[schema(example = "PAKN-2021-000118")]
    pub code: String,
    pub status: FeedbackStatus,
    /// How likely it is about the same matter, 0–1.
    #[schema(example = 0.72)]
    pub score: f64,
    /// Why: never the text or the sender of either record.
    pub reasons: Vec<Reason>,
}

/// Up to five open records of the organisation likely about the same matter, most
/// likely first.
#[derive(Serialize, ToSchema)]
pub struct Similar {
    pub items: Vec<SimilarRecord>,
    /// Records received this many days before or after were compared
    /// (`CCHC_DUPLICATE_WINDOW_DAYS`).
    pub window_days: i32,
}

/// The possible duplicates of the probe (open, in the window; of `client`'s records
/// only, if given), scored by `domain::triage`.
pub fn similar(
    conn: &mut PgConnection,
    probe: &Probe,
    client: Option<Uuid>,
    settings: &crate::config::TriageSettings,
) -> Result<Vec<SimilarRecord>, ApiError> {
    let mut found: Vec<SimilarRecord> = sql::open_alike(conn, probe, settings.window_days, client)?
        .into_iter()
        .filter_map(|a| {
            let signals = Signals {
                text: a.text,
                shared_terms: a.shared_terms,
                same_sender: a.same_sender,
                same_category: a.same_category,
                distance_m: a.distance_m,
                days_apart: a.days_apart,
            };
            let (score, reasons) = duplicate_score(&signals, settings.radius_m);
            (score >= DUPLICATE_THRESHOLD).then(|| SimilarRecord {
                feedback_id: a.id,
                code: a.code,
                status: FeedbackStatus::parse(&a.status).unwrap_or(FeedbackStatus::Received),
                score,
                reasons,
            })
        })
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.feedback_id.cmp(&a.feedback_id)));
    found.truncate(5);
    Ok(found)
}

/// Possible duplicates of a record.
///
/// Up to five **open** records of the organisation, received within
/// `CCHC_DUPLICATE_WINDOW_DAYS` of it, likely about the same matter: their word pairs
/// (without marks or case; rarer ones weigh more), the same sender (phone or e-mail,
/// compared by a keyed hash), the same category, points within `CCHC_DUPLICATE_RADIUS_M`.
/// Each with a score and its reasons — never the text or sender of either record. Help
/// for staff: nothing is merged until someone merges it.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The possible duplicates.", body = Similar))
)]
#[get("/{id}/similar")]
pub async fn get_similar_feedback(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let id = load_for(&state, &principal, id.into_inner()).await?.row.id;
    let (client, settings) = (client_scope(&principal), state.settings.triage.clone());
    let items = db::run(&state.pool, move |conn| {
        let probe = sql::probe_of(conn, id)?;
        similar(conn, &probe, client, &settings)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Similar { items, window_days: state.settings.triage.window_days }))
}

/// A category or department suggested for a record.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Suggestion {
    pub id: Uuid,
    #[schema(example = "DAT-GPMB")]
    pub code: String,
    pub name: String,
    /// Its share of the similarity of the nearest answered records, 0–1.
    #[schema(example = 0.64)]
    pub score: f64,
    /// The past records that led to it (up to three), most alike first.
    pub basis: Vec<Basis>,
}

/// What past records suggest for a record that came without a category or department.
#[derive(Serialize, ToSchema, Clone, Debug, Default)]
pub struct Suggestions {
    /// Up to three, best first; empty when the record came with a category.
    pub categories: Vec<Suggestion>,
    /// Up to three, best first; empty when the record came with a department.
    pub departments: Vec<Suggestion>,
    /// Whether the organisation's auto-assignment routed the record by the first ones.
    pub assigned_by_suggestion: bool,
}

/// How many of the nearest answered records vote.
const NEIGHBOURS: i64 = 15;

/// What triage makes of a record about to be filed (or filed): its possible duplicates,
/// and what past records suggest for the category and department it lacks.
#[derive(Debug, Default, Clone)]
pub struct Assessment {
    pub similar: Vec<SimilarRecord>,
    pub categories: Vec<Suggested>,
    pub departments: Vec<Suggested>,
    /// Whether suggestions were wanted (it lacked a category or a department).
    pub wanted: bool,
    /// The first suggestions that reach the organisation's `auto_assign_min_score`
    /// (never when it has none): what the record is routed by.
    pub route_category: Option<Uuid>,
    pub route_department: Option<Uuid>,
}

/// Assesses a probe: duplicates among the open records, suggestions from the answered
/// ones for what it lacks, and routing by them where the organisation turned it on.
/// Reads only: run before a filing takes its organisation's counter, so that filings
/// do not wait for it.
pub fn assess(
    conn: &mut PgConnection,
    probe: &Probe,
    lacks: (bool, bool),
    client: Option<Uuid>,
    settings: &crate::config::TriageSettings,
) -> Result<Assessment, ApiError> {
    let similar = similar(conn, probe, client, settings)?;
    let (want_category, want_department) = lacks;
    if !(want_category || want_department) {
        return Ok(Assessment { similar, ..Default::default() });
    }
    let neighbours: Vec<Neighbour> = sql::answered_alike(conn, probe, NEIGHBOURS)?
        .into_iter()
        .filter(|a| a.text > 0.0)
        .map(|a| Neighbour {
            id: a.id,
            code: a.code,
            text: a.text,
            category_id: a.category_id,
            department_id: a.department_id,
        })
        .collect();
    let categories = if want_category { vote(&neighbours, |n| n.category_id) } else { Vec::new() };
    let departments = if want_department { vote(&neighbours, |n| n.department_id) } else { Vec::new() };
    // An unknown organisation is the filing's own check to refuse (422), not this read's.
    let min =
        db::organizations::find(conn, probe.organization_id, None).optional()?.and_then(|o| o.auto_assign_min_score);
    let reaches =
        |list: &Vec<Suggested>| list.first().filter(|s| min.is_some_and(|m| s.score >= f64::from(m))).map(|s| s.id);
    Ok(Assessment {
        route_category: reaches(&categories),
        route_department: reaches(&departments),
        similar,
        categories,
        departments,
        wanted: true,
    })
}

/// Keeps what was suggested for a record (and whether it was routed by it), in the
/// transaction that files it (or, asked later, that makes the suggestions).
pub fn keep_suggestions(
    conn: &mut PgConnection,
    record: Uuid,
    org: Uuid,
    a: &Assessment,
    now: chrono::DateTime<Utc>,
) -> Result<(), ApiError> {
    let rows: Vec<SuggestionRow> = [("category", &a.categories), ("department", &a.departments)]
        .into_iter()
        .flat_map(|(kind, list)| {
            list.iter().enumerate().map(move |(i, s)| SuggestionRow {
                feedback_id: record,
                organization_id: org,
                kind: kind.to_owned(),
                rank: i as i16 + 1,
                suggested_id: s.id,
                score: s.score as f32,
                basis: serde_json::to_value(&s.basis).unwrap_or_default(),
                created_at: now,
            })
        })
        .collect();
    let routed = a.route_category.is_some() || a.route_department.is_some();
    Ok(sql::save_suggestions(conn, &rows, routed)?)
}

/// What was suggested for a record, with the names of what was suggested.
pub fn suggestions(conn: &mut PgConnection, id: Uuid) -> Result<Suggestions, ApiError> {
    let rows = sql::suggestions_of(conn, id)?;
    let assigned = sql::triage_of(conn, id)?.is_some_and(|t| t.assigned_by_suggestion);
    let mut out = Suggestions { assigned_by_suggestion: assigned, ..Default::default() };
    let category_ids: Vec<Uuid> = rows.iter().filter(|r| r.kind == "category").map(|r| r.suggested_id).collect();
    let department_ids: Vec<Uuid> = rows.iter().filter(|r| r.kind == "department").map(|r| r.suggested_id).collect();
    let categories = store::categories_by_id(conn, &category_ids)?;
    let departments = db::departments::codes(conn, &department_ids)?;
    for r in rows {
        let named = if r.kind == "category" {
            categories.iter().find(|c| c.id == r.suggested_id).map(|c| (c.code.clone(), c.name.clone()))
        } else {
            departments.iter().find(|d| d.0 == r.suggested_id).map(|d| (d.1.clone(), d.2.clone()))
        };
        let Some((code, name)) = named else { continue };
        let suggestion = Suggestion {
            id: r.suggested_id,
            code,
            name,
            score: f64::from(r.score),
            basis: serde_json::from_value(r.basis).unwrap_or_default(),
        };
        if r.kind == "category" { out.categories.push(suggestion) } else { out.departments.push(suggestion) }
    }
    Ok(out)
}

/// Suggested categories and departments for a record.
///
/// For a record that came without a category or department: the top three of each,
/// from the organisation's answered records most alike to it (nearest neighbours on
/// their word pairs, without marks or case): each answered record votes for what it was
/// answered under with its similarity, and a suggestion's score is its share of the
/// votes; each comes with the past records that led to it. Made when the record is
/// filed (and kept: the triage report measures how often the first was taken), or here
/// the first time it is asked for.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The suggestions.", body = Suggestions))
)]
#[get("/{id}/suggestions")]
pub async fn get_feedback_suggestions(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let (settings, now) = (state.settings.triage.clone(), state.clock.now());
    let found = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (id, org) = (record.row.id, record.row.organization_id);
            let lacks = (record.row.category_id.is_none(), record.row.department_id.is_none());
            if sql::triage_of(conn, id)?.is_none() && (lacks.0 || lacks.1) {
                // Suggested when first asked (no routing: the record is staff's by now).
                let probe = sql::probe_of(conn, id)?;
                let mut a = assess(conn, &probe, lacks, None, &settings)?;
                (a.route_category, a.route_department) = (None, None);
                keep_suggestions(conn, id, org, &a, now)?;
            }
            suggestions(conn, id)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"into": "01a235a4-cd91-7672-bbcf-c24e88761a86"}))]
pub struct MergeFeedback {
    /// The record that carries the matter on (not itself merged).
    pub into: Uuid,
}

/// Merge a record into another about the same matter.
///
/// The record becomes `merged` (terminal until unmerged) and keeps its sender, who from
/// then on hears of the other record's extension, answer, publication and reopening;
/// its tracking page and Open311 show the other's status and answer. Reports count it
/// as received but not as a matter of its own. Not for a record that others are merged
/// into, nor into a merged one (409).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = MergeFeedback,
    responses(
        (status = 200, description = "Merged.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Merged already (`feedback_merged`), into a merged record (`merge_into_merged`), others are merged into it (`feedback_has_merged`), or into itself (`merge_into_self`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`into` is not a record of the organisation.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/merge")]
pub async fn merge_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<MergeFeedback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let (id, into, org, now) = (id.into_inner(), body.0.into, principal.organization_id, state.clock.now());
    let (actor, by) = (Actor::of(&principal, &ctx), principal.id);
    let record = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = FeedbackRecord::lock(conn, id, org)?;
            if_match.check(current.row.version)?;
            if into == id {
                return Err(ApiError::conflict("merge_into_self"));
            }
            let parent = FeedbackRecord::lock(conn, into, Some(current.row.organization_id))
                .map_err(|_| ApiError::unprocessable("reference_invalid").arg("field", "into"))?;
            if current.row.status == FeedbackStatus::Merged {
                return Err(ApiError::conflict("feedback_merged"));
            }
            if parent.row.status == FeedbackStatus::Merged {
                return Err(ApiError::conflict("merge_into_merged"));
            }
            if !sql::children_of(conn, id)?.is_empty() {
                return Err(ApiError::conflict("feedback_has_merged"));
            }
            let from = current.row.status;
            sql::add_merge(
                conn,
                &MergeRow {
                    feedback_id: id,
                    organization_id: current.row.organization_id,
                    parent_id: into,
                    status_before: from.as_str().to_owned(),
                    merged_by: Some(by),
                    merged_at: now,
                },
            )?;
            let updated = store::update(
                conn,
                id,
                &FeedbackChanges { status: Some(FeedbackStatus::Merged), ..Default::default() },
            )?;
            store::add_history(conn, id, Some(from), FeedbackStatus::Merged, Some(&parent.row.code), &actor, now)?;
            let after = FeedbackRecord { merged_into: Some(into), ..current.with_row(updated) };
            let (before_api, after_api) = (Feedback::from(current), Feedback::from(after.clone()));
            audit::record(
                conn,
                &actor,
                Event::acted("merge", "feedback", id, Some(after.row.organization_id), &before_api, &after_api),
            )?;
            Ok(after)
        })
    })
    .await?;
    let version = record.version();
    Ok(ok_with_etag(version, &crud::present::<Feedback>(record, &state)))
}

/// Undo a merge.
///
/// The record gets back the status it had when merged, and is a matter of its own again.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 200, description = "Unmerged.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not merged (`feedback_not_merged`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/unmerge")]
pub async fn unmerge_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let (id, org, now) = (id.into_inner(), principal.organization_id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    let record = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = FeedbackRecord::lock(conn, id, org)?;
            if_match.check(current.row.version)?;
            let merge = sql::remove_merge(conn, id)?.ok_or_else(|| ApiError::conflict("feedback_not_merged"))?;
            let back = FeedbackStatus::parse(&merge.status_before).unwrap_or(FeedbackStatus::Received);
            let updated = store::update(conn, id, &FeedbackChanges { status: Some(back), ..Default::default() })?;
            store::add_history(conn, id, Some(FeedbackStatus::Merged), back, None, &actor, now)?;
            let after = FeedbackRecord { merged_into: None, ..current.with_row(updated) };
            let (before_api, after_api) = (Feedback::from(current), Feedback::from(after.clone()));
            audit::record(
                conn,
                &actor,
                Event::acted("unmerge", "feedback", id, Some(after.row.organization_id), &before_api, &after_api),
            )?;
            Ok(after)
        })
    })
    .await?;
    let version = record.version();
    Ok(ok_with_etag(version, &crud::present::<Feedback>(record, &state)))
}
