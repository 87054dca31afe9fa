//! What becomes of an answered record: the sender's rating, the satisfaction rate, publication.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::Actor,
        feedback::{self as store, FeedbackChanges, FeedbackRecord},
        indicators,
    },
    domain::{
        feedback::{FeedbackChannel, FeedbackStatus, Satisfaction},
        messages::MessageKind,
        plans::MeasurementSource,
        time::{day_start, local_date, vietnam},
        validate,
    },
    error::{ApiError, FieldError},
    http::{ApiJson, IfMatch, RequestContext, query::ApiQuery},
    routes::crud::{self},
    state::AppState,
};

use super::{
    SATISFACTION_INDICATOR,
    records::{Feedback, load_for},
};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": "satisfied", "channel": "hotline"}))]
pub struct Rating {
    pub rating: Satisfaction,
    /// How the rating was collected.
    pub channel: FeedbackChannel,
}

/// Record the sender's satisfaction with the answer.
///
/// Rolls up into the organisation's satisfaction rate, and into the `SATISFACTION_RATE`
/// indicator of its plans for the year of receipt (a computed measurement).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = Rating,
    responses(
        (status = 200, description = "Recorded.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not answered yet (`feedback_not_answered`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/satisfaction")]
pub async fn rate_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Rating>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackCreate)?;
    let Rating { rating, channel } = body.0;
    let now = state.clock.now();
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let id = record.row.id;
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(&state, actor, id, principal.organization_id, if_match, move |conn, current| {
        if !matches!(current.row.status, FeedbackStatus::Answered | FeedbackStatus::Closed) {
            return Err(ApiError::conflict("feedback_not_answered"));
        }
        let changes = FeedbackChanges {
            satisfaction: Some(Some(rating)),
            satisfaction_channel: Some(Some(channel)),
            satisfaction_at: Some(Some(now)),
            ..Default::default()
        };
        let updated = store::update(conn, id, &changes)?;
        record_satisfaction_rate(
            conn,
            updated.organization_id,
            local_date(updated.received_at).year(),
            local_date(now),
        )?;
        Ok(current.with_row(updated))
    })
    .await
}

/// The start of 1 January of `year` in Vietnam.
pub(super) fn year_start(year: i32) -> DateTime<Utc> {
    vietnam().with_ymd_and_hms(year, 1, 1, 0, 0, 0).single().expect("a valid instant").with_timezone(&Utc)
}

/// Records the organisation's satisfaction rate for `year` on the `SATISFACTION_RATE`
/// indicator of each of its plans for that year.
pub(super) fn record_satisfaction_rate(
    conn: &mut PgConnection,
    org: Uuid,
    year: i32,
    day: NaiveDate,
) -> Result<(), ApiError> {
    let targets = indicators::of_year_by_code(conn, org, year, SATISFACTION_INDICATOR)?;
    if targets.is_empty() {
        return Ok(());
    }
    let (satisfied, neutral, dissatisfied) =
        store::satisfaction_counts(conn, org, year_start(year), year_start(year + 1))?;
    let rated = satisfied + neutral + dissatisfied;
    for indicator in targets {
        indicators::insert_measurement(
            conn,
            &indicators::NewMeasurement {
                id: Uuid::now_v7(),
                indicator_id: indicator,
                organization_id: org,
                value: crate::domain::activities::reach_percent(satisfied, rated),
                // In the year measured: a 2021 rating given in 2022 measures 2021.
                measured_on: day.min(NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year")),
                period: Some(year.to_string()),
                source: MeasurementSource::Computed,
                citation: Some(format!("{satisfied}/{rated} người phản ánh năm {year} hài lòng với câu trả lời")),
                link: None,
                note: None,
                created_by: None,
            },
        )?;
    }
    Ok(())
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "Hồ sơ bồi thường của công dân đã được giải quyết ngày 15/6/2021."}))]
pub struct Publish {
    /// What the public reads, written without personal data.
    #[validate(length(min = 1, max = 10000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 10000)]
    pub summary: String,
}

/// Publish the result of an answered record.
///
/// Makes it readable without signing in at `/api/v1/public/feedback/{code}`: its code,
/// dates, category, subject, this summary, the answer and status — never the sender,
/// the content or internal notes.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    request_body = Publish,
    responses(
        (status = 200, description = "Published.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not answered yet (`feedback_not_answered`), or the sender did not consent to the publication of the result or withdrew it (`publication_not_consented`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/publish")]
pub async fn publish_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<Publish>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let summary = body.0.summary.trim().to_owned();
    let (by, now) = (principal.id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    let links = db::outbound::Links { base: state.settings.public_url.clone() };
    crud::update::<Feedback, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        IfMatch::default(),
        move |conn, current| {
            if !matches!(current.row.status, FeedbackStatus::Answered | FeedbackStatus::Closed) {
                return Err(ApiError::conflict("feedback_not_answered"));
            }
            // A sender's consent to publication (Decree 13/2023), as given at filing and
            // not withdrawn since; a record without a sender has no one to ask.
            if db::privacy::consent_of(conn, current.row.id)?.is_some_and(|c| !c.allows_publication()) {
                return Err(ApiError::conflict("publication_not_consented"));
            }
            store::publish(conn, &current.row, &summary, by, now)?;
            let row = store::update(conn, current.row.id, &FeedbackChanges::default())?;
            let values = vec![("summary", summary.clone()), ("public_url", links.public(&row.code))];
            let occasion = now.timestamp_micros().to_string();
            db::outbound::to_sender(conn, row.id, MessageKind::Publication, &occasion, values, &links)?;
            Ok(FeedbackRecord::load_all(conn, vec![row])?.remove(0))
        },
    )
    .await
}

/// Withdraw a published result.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "No longer public.", body = Feedback, headers(("ETag" = String))))
)]
#[delete("/{id}/publish")]
pub async fn unpublish_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        IfMatch::default(),
        move |conn, current| {
            store::unpublish(conn, current.row.id)?;
            let row = store::update(conn, current.row.id, &FeedbackChanges::default())?;
            Ok(FeedbackRecord { publication: None, ..current.with_row(row) })
        },
    )
    .await
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RateParams {
    /// First day (Vietnam); default 1 January of this year.
    pub from: Option<NaiveDate>,
    /// Last day (Vietnam); default today.
    pub to: Option<NaiveDate>,
    /// System administrator only: that organisation's rate.
    pub organization_id: Option<Uuid>,
}

/// The satisfaction of senders with the answers to what they sent in a period.
#[derive(Serialize, ToSchema)]
pub struct SatisfactionRate {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Records received in the period that have a rating.
    pub rated: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    /// `satisfied / rated`, in percent; `null` with nothing rated.
    pub rate: Option<f64>,
}

/// The organisation's satisfaction rate over the records received in a period.
#[utoipa::path(
    tag = "feedback",
    params(RateParams),
    responses((status = 200, description = "The rate.", body = SatisfactionRate))
)]
#[get("/satisfaction")]
pub async fn get_satisfaction_rate(
    auth: AuthUser,
    query: ApiQuery<RateParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let params = query.0;
    let org = principal.acting_org(params.organization_id)?;
    let today = state.clock.today();
    let to = params.to.unwrap_or(today);
    let from = params.from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).expect("1 January"));
    if from > to {
        return Err(ApiError::rules(vec![FieldError::new("from", "invalid_value").reason("after to", "sau ngày to")]));
    }
    let (begin, end) = (day_start(from), day_start(to + chrono::Duration::days(1)));
    let (satisfied, neutral, dissatisfied) =
        db::run(&state.pool, move |conn| Ok(store::satisfaction_counts(conn, org, begin, end)?)).await?;
    let rated = satisfied + neutral + dissatisfied;
    Ok(HttpResponse::Ok().json(SatisfactionRate {
        from,
        to,
        rated,
        satisfied,
        neutral,
        dissatisfied,
        rate: (rated > 0).then(|| crate::domain::activities::reach_percent(satisfied, rated)),
    }))
}
