//! The demo feedback (`fixtures/kdpm-2021-feedback.json`): the Board's categories and a
//! few anonymous records, answered and published — loaded with the demo plan, so that a
//! first start shows the feedback side too. Their deadlines skip the 2021 holidays of
//! the national calendar.
use chrono::{DateTime, Datelike, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    db::{
        audit::Actor,
        departments,
        feedback::{self as store, FeedbackChanges, NewCategory, NewFeedback, categories},
        organizations, users,
    },
    domain::{
        feedback::{FeedbackChannel, FeedbackKind, FeedbackStatus, SenderType, deadline, feedback_code},
        time::local_date,
    },
};

#[derive(Deserialize)]
pub struct DemoFeedback {
    organization: String,
    categories: Vec<DemoCategory>,
    records: Vec<DemoRecord>,
}

#[derive(Deserialize)]
struct DemoCategory {
    code: String,
    name: String,
    department: String,
    deadline_days: i32,
}

#[derive(Deserialize)]
struct DemoRecord {
    received_at: DateTime<Utc>,
    channel: FeedbackChannel,
    kind: FeedbackKind,
    sender_type: SenderType,
    category: String,
    subject: String,
    content: String,
    answered_at: DateTime<Utc>,
    answer: String,
    summary: String,
}

/// A demo measurement: what a unit reported of one of its plan's indicators.
pub struct DemoMeasurement {
    pub organization: &'static str,
    pub plan: &'static str,
    pub indicator: &'static str,
    pub value: f64,
    pub measured_on: &'static str,
    pub citation: &'static str,
}

/// The two demo units' staff-informed figures at mid-year, so that the province's
/// roll-up has values beside its target on first start.
pub const MEASUREMENTS: &[DemoMeasurement] = &[
    DemoMeasurement {
        organization: "SXD",
        plan: "KH-TTCCHC-SXD-2021",
        indicator: "STAFF_INFORMED",
        value: 100.0,
        measured_on: "2021-06-30",
        citation: "Báo cáo kết quả CCHC 6 tháng đầu năm 2021 của Sở Xây dựng (dữ liệu minh họa)",
    },
    DemoMeasurement {
        organization: "UBND-NT",
        plan: "KH-TTCCHC-NT-2021",
        indicator: "STAFF_INFORMED",
        value: 88.0,
        measured_on: "2021-06-30",
        citation: "Báo cáo kết quả CCHC 6 tháng đầu năm 2021 của UBND thành phố Nha Trang (dữ liệu minh họa)",
    },
];

/// Records `MEASUREMENTS` as entered by the system administrator.
pub fn measure(conn: &mut PgConnection) -> QueryResult<usize> {
    use crate::db::{indicators, schema::plans};
    let admin = users::by_username(conn, "admin")?.ok_or(diesel::result::Error::NotFound)?.id;
    for m in MEASUREMENTS {
        let org = organizations::by_code(conn, m.organization)?.id;
        let plan: Uuid = plans::table
            .filter(plans::organization_id.eq(org))
            .filter(plans::code.eq(m.plan))
            .filter(plans::deleted_at.is_null())
            .select(plans::id)
            .first(conn)?;
        let indicator = indicators::of_plan_by_code(conn, plan, m.indicator)?.ok_or(diesel::result::Error::NotFound)?;
        indicators::insert_measurement(
            conn,
            &indicators::NewMeasurement {
                id: Uuid::now_v7(),
                indicator_id: indicator,
                organization_id: org,
                value: m.value,
                measured_on: m.measured_on.parse().map_err(|_| diesel::result::Error::NotFound)?,
                period: Some("2021-H1".to_owned()),
                source: crate::domain::plans::MeasurementSource::Entered,
                citation: Some(m.citation.to_owned()),
                link: None,
                note: None,
                created_by: Some(admin),
            },
        )?;
    }
    Ok(MEASUREMENTS.len())
}

/// Loads the demo feedback into its organisation; returns how many records were filed.
/// The answers and publications are the system administrator's.
pub fn load(conn: &mut PgConnection, demo: &DemoFeedback) -> QueryResult<usize> {
    let org = organizations::by_code(conn, &demo.organization)?.id;
    let admin = users::by_username(conn, "admin")?.ok_or(diesel::result::Error::NotFound)?.id;
    let actor = Actor::system();
    let mut categories_by_code = std::collections::HashMap::new();
    for spec in &demo.categories {
        let department = departments::by_code(conn, org, &spec.department)?;
        let row = categories::insert(
            conn,
            &NewCategory {
                id: Uuid::now_v7(),
                organization_id: org,
                code: spec.code.clone(),
                name: spec.name.clone(),
                default_department_id: Some(department),
                deadline_days: spec.deadline_days,
                created_by: Some(admin),
            },
        )?;
        categories_by_code.insert(spec.code.as_str(), (row.id, department, spec.deadline_days));
    }
    for record in &demo.records {
        let (category, department, days) =
            *categories_by_code.get(record.category.as_str()).ok_or(diesel::result::Error::NotFound)?;
        let received_on = local_date(record.received_at);
        let year = received_on.year();
        let number = store::next_number(conn, org, year)?;
        let deadline_on = deadline(received_on, days as u32, &store::working_calendar(conn, org, received_on)?);
        let row = store::insert(
            conn,
            &NewFeedback {
                id: Uuid::now_v7(),
                organization_id: org,
                code: feedback_code(year, number),
                received_at: record.received_at,
                channel: record.channel,
                kind: record.kind,
                sender_type: record.sender_type,
                anonymous: true,
                subject: record.subject.clone(),
                content: record.content.clone(),
                category_id: Some(category),
                plan_item_id: None,
                department_id: Some(department),
                deadline_on,
                deadline_reason: None,
                external_reference: None,
                source_client_id: None,
                internal_note: None,
                created_by: Some(admin),
            },
        )?;
        let moves = [
            (None, FeedbackStatus::Received, record.received_at),
            (Some(FeedbackStatus::Received), FeedbackStatus::Accepted, record.received_at),
            (Some(FeedbackStatus::Accepted), FeedbackStatus::InProgress, record.received_at),
            (Some(FeedbackStatus::InProgress), FeedbackStatus::Answered, record.answered_at),
        ];
        for (from, to, at) in moves {
            store::add_history(conn, row.id, from, to, None, &actor, at)?;
        }
        store::add_answer(conn, &row, &record.answer, &[], admin, record.answered_at)?;
        let changes = FeedbackChanges {
            status: Some(FeedbackStatus::Answered),
            answered_at: Some(Some(record.answered_at)),
            ..Default::default()
        };
        let row = store::update(conn, row.id, &changes)?;
        store::publish(conn, &row, &record.summary, admin, record.answered_at)?;
    }
    Ok(demo.records.len())
}
