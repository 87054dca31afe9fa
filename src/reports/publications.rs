//! Documents posted on the website on time (plan II.3.c): each document the
//! organisation must post, issued in the period, with the day a verified `website_post`
//! posted it and the working days that took; and the `PUBLICATION_TIMELINESS` indicator
//! computed from them, as `STAFF_INFORMED` is from staff reach.
use chrono::NaiveDate;
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{Date, Uuid as SqlUuid},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{feedback::working_calendar, indicators, organizations, plans},
    domain::{
        assignments::covered_span,
        budget::{PublicationState, publication_state, timeliness_percent},
        plans::MeasurementSource,
    },
    error::ApiError,
};

/// The code of the indicator the service computes from posted documents.
pub const PUBLICATION_INDICATOR: &str = "PUBLICATION_TIMELINESS";

/// A document that must be posted, and where it stands.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct PublicationLine {
    pub document_id: Uuid,
    #[schema(example = "18/QĐ-BQL")]
    pub number: String,
    pub title: String,
    pub issued_on: NaiveDate,
    /// The day of the first verified `website_post` that posts it (Vietnam).
    pub posted_on: Option<NaiveDate>,
    pub activity_id: Option<Uuid>,
    /// Working days after issue up to the posting (0: the day of issue).
    pub working_days: Option<i64>,
    pub state: PublicationState,
}

/// The period's documents that must be posted on the website.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Default)]
pub struct PublicationSection {
    /// Working days allowed after issue (the organisation's `publication_days`).
    pub within_working_days: i64,
    pub on_time: i64,
    pub late: i64,
    /// Not posted, the allowed days passed.
    pub unposted: i64,
    /// Not posted, still within the allowed days.
    pub pending: i64,
    /// `on_time / (on_time + late + unposted)` in percent; `null` with none of those.
    pub timeliness_percent: Option<f64>,
    /// By issue date; the late and unposted ones are what the report lists to act on.
    pub documents: Vec<PublicationLine>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    number: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    title: String,
    #[diesel(sql_type = Date)]
    issued_on: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Nullable<Date>)]
    posted_on: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    activity_id: Option<Uuid>,
}

/// The documents of `org` that must be posted, issued from `from` to `to`, as they
/// stand on `today`.
pub fn section(
    conn: &mut PgConnection,
    org: Uuid,
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> Result<PublicationSection, ApiError> {
    let allowed = i64::from(organizations::find(conn, org, None)?.publication_days);
    let rows: Vec<Row> = sql_query(
        "SELECT d.id, d.number, d.title, d.issued_on, p.posted_on, p.activity_id
           FROM documents d
           LEFT JOIN LATERAL (
                SELECT (a.held_from AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS posted_on, a.id AS activity_id
                  FROM activities a
                 WHERE a.document_id = d.id AND a.deleted_at IS NULL AND a.status = 'verified'
                   AND a.organization_id = d.organization_id
                 ORDER BY a.held_from, a.id LIMIT 1) p ON true
          WHERE d.organization_id = $1 AND d.deleted_at IS NULL AND d.post_required
            AND d.issued_on BETWEEN $2 AND $3
          ORDER BY d.issued_on, d.number, d.id",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)?;
    let calendar = working_calendar(conn, org, from)?;
    let mut out = PublicationSection { within_working_days: allowed, ..Default::default() };
    for row in rows {
        let (state, working_days) = publication_state(row.issued_on, row.posted_on, today, allowed, &calendar);
        match state {
            PublicationState::OnTime => out.on_time += 1,
            PublicationState::Late => out.late += 1,
            PublicationState::Unposted => out.unposted += 1,
            PublicationState::Pending => out.pending += 1,
        }
        out.documents.push(PublicationLine {
            document_id: row.id,
            number: row.number,
            title: row.title,
            issued_on: row.issued_on,
            posted_on: row.posted_on,
            activity_id: row.activity_id,
            working_days,
            state,
        });
    }
    out.timeliness_percent = timeliness_percent(out.on_time, out.late, out.unposted);
    Ok(out)
}

/// Records the plan's publication timeliness on `day` as a computed measurement of its
/// `PUBLICATION_TIMELINESS` indicator, if it has one and some document counts: the
/// documents issued from the plan's start to `day` (within its period).
pub fn record_timeliness(conn: &mut PgConnection, org: Uuid, plan: Uuid, day: NaiveDate) -> Result<(), ApiError> {
    let Some(indicator) = indicators::of_plan_by_code(conn, plan, PUBLICATION_INDICATOR)? else { return Ok(()) };
    let of_plan = plans::find(conn, plan, Some(org))?;
    let (from, to) = covered_span((None, None), (of_plan.period_from, of_plan.period_to), of_plan.year);
    let day = day.clamp(from, to);
    let found = section(conn, org, (from, day), day)?;
    let Some(value) = found.timeliness_percent else { return Ok(()) };
    let counted = found.on_time + found.late + found.unposted;
    indicators::insert_measurement(
        conn,
        &indicators::NewMeasurement {
            id: Uuid::now_v7(),
            indicator_id: indicator,
            organization_id: org,
            value,
            measured_on: day,
            period: Some(of_plan.year.to_string()),
            source: MeasurementSource::Computed,
            citation: Some(format!(
                "{}/{counted} văn bản đăng trên trang thông tin điện tử trong {} ngày làm việc kể từ ngày ban hành",
                found.on_time, found.within_working_days
            )),
            link: None,
            note: None,
            created_by: None,
        },
    )?;
    Ok(())
}
