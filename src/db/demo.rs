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
                retention_years: None,
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

/// A demo budget line: code, title, department, plan item, estimate, allocations
/// `(day, amount, decision)`, spending `(day, amount, payee, what)`.
type DemoLine<'a> = (
    &'a str,
    &'a str,
    Uuid,
    &'a str,
    i64,
    &'a [(&'a str, i64, &'a str)],
    &'a [(&'a str, i64, crate::domain::budget::PayeeKind, &'a str)],
);

/// The Board's paperwork, as demo data: what its official report needs of its record,
/// its finance department, its decision posted on the website (on time, by a verified
/// post), and a budget for the plan with allocations and spending (figures invented for
/// the demo; the circular is the one the plan cites).
pub fn paperwork(conn: &mut PgConnection) -> QueryResult<()> {
    use crate::db::{
        activities, budget, documents,
        organizations::OrganizationChanges,
        schema::{plan_items, plans},
    };
    use crate::domain::{
        activities::ActivityStatus,
        budget::PayeeKind,
        plans::{Audience, Channel},
    };
    let admin = users::by_username(conn, "admin")?.ok_or(diesel::result::Error::NotFound)?.id;
    let org = organizations::by_code(conn, "KDPM")?.id;
    let tcht = departments::by_code(conn, org, "TCHC")?;
    let tckt = departments::by_code(conn, org, "TCKT")?;
    organizations::update(
        conn,
        org,
        &OrganizationChanges {
            abbreviation: Some(Some("BQL".to_owned())),
            place_name: Some(Some("Khánh Hòa".to_owned())),
            signer_name: Some(Some("Châu Ngô Anh Nhân".to_owned())),
            signer_title: Some(Some("Giám đốc".to_owned())),
            finance_department_id: Some(Some(tckt)),
            ..Default::default()
        },
    )?;
    let plan: Uuid = plans::table
        .filter(plans::organization_id.eq(org))
        .filter(plans::code.eq("KH-TTCCHC-2021"))
        .filter(plans::deleted_at.is_null())
        .select(plans::id)
        .first(conn)?;
    let item = |conn: &mut PgConnection, reference: &str| -> QueryResult<Uuid> {
        plan_items::table
            .filter(plan_items::plan_id.eq(plan))
            .filter(plan_items::reference.eq(reference))
            .filter(plan_items::deleted_at.is_null())
            .select(plan_items::id)
            .first(conn)
    };
    let day = |s: &str| s.parse::<chrono::NaiveDate>().map_err(|_| diesel::result::Error::NotFound);
    let at = |s: &str| s.parse::<DateTime<Utc>>().map_err(|_| diesel::result::Error::NotFound);

    // The decision that issued the plan, posted on the Board's website two working days on.
    let decision = match documents::by_number(conn, org, "KDPM", "18/QĐ-BQL")? {
        Some(d) => d.id,
        None => documents::insert(
            conn,
            &documents::NewDocument {
                id: Uuid::now_v7(),
                organization_id: org,
                number: "18/QĐ-BQL".to_owned(),
                issued_on: Some(day("2021-03-24")?),
                issuer: "KDPM".to_owned(),
                title:
                    "Ban hành Kế hoạch tuyên truyền cải cách hành chính năm 2021 của Ban QLDA Phát triển tỉnh Khánh Hòa"
                        .to_owned(),
                created_by: Some(admin),
                post_required: true,
            },
        )?
        .id,
    };
    let post = activities::insert(
        conn,
        &activities::NewActivity {
            id: Uuid::now_v7(),
            organization_id: org,
            plan_id: plan,
            assignment_id: None,
            department_id: tcht,
            title: "Đăng Quyết định 18/QĐ-BQL ban hành Kế hoạch tuyên truyền CCHC năm 2021 trên trang thông tin điện tử của Ban".to_owned(),
            description: None,
            channel: Channel::WebsitePost,
            audience: Audience::All,
            held_from: at("2021-03-26T02:00:00Z")?,
            held_to: None,
            place: None,
            participant_count: None,
            links: vec![Some("https://kdpm.khanhhoa.gov.vn".to_owned())],
            created_by: Some(admin),
            document_id: Some(decision),
        },
    )?;
    let website = item(conn, "II.3.c")?;
    activities::set_items(conn, post.id, &[website])?;
    activities::update(
        conn,
        post.id,
        &activities::ActivityChanges {
            status: Some(ActivityStatus::Verified),
            submitted_at: Some(Some(at("2021-03-26T03:00:00Z")?)),
            verified_by: Some(Some(admin)),
            verified_at: Some(Some(at("2021-03-29T02:00:00Z")?)),
            ..Default::default()
        },
    )?;

    // The budget (plan III.5), by the circular the plan cites.
    let circular = documents::by_number(conn, org, "Bộ Tài chính", "26/2012/TT-BTC")?.map(|d| d.id);
    let lines: [DemoLine; 3] = [
        (
            "1",
            "In tài liệu, tờ gấp và khẩu hiệu tuyên truyền CCHC",
            tcht,
            "II.3.a",
            20_000_000,
            &[("2021-04-05", 15_000_000, "45/QĐ-BQL")],
            &[("2021-04-20", 4_500_000, PayeeKind::Organization, "In 500 tờ gấp tuyên truyền CCHC (dữ liệu minh họa)")],
        ),
        (
            "2",
            "Hội nghị, tập huấn tuyên truyền CCHC cho cán bộ",
            tcht,
            "II.3.a",
            12_000_000,
            &[("2021-04-05", 12_000_000, "45/QĐ-BQL")],
            &[
                ("2021-05-14", 3_000_000, PayeeKind::Individual, "Thù lao báo cáo viên hội nghị (dữ liệu minh họa)"),
                ("2021-05-14", 2_400_000, PayeeKind::Organization, "Hội trường, nước uống hội nghị (dữ liệu minh họa)"),
            ],
        ),
        (
            "3",
            "Tham gia Hội thi Sáng kiến cải cách hành chính lần thứ V",
            tckt,
            "II.3.e",
            5_000_000,
            &[("2021-07-01", 5_000_000, "61/QĐ-BQL")],
            &[],
        ),
    ];
    for (code, title, department, reference, estimate, allocations, spendings) in lines {
        let plan_item_id = item(conn, reference).optional()?;
        let line = budget::lines::insert(
            conn,
            &budget::NewLine {
                id: Uuid::now_v7(),
                organization_id: org,
                plan_id: plan,
                plan_item_id,
                activity_id: None,
                department_id: Some(department),
                basis_document_id: circular,
                code: code.to_owned(),
                title: title.to_owned(),
                estimate,
                note: Some("Dữ liệu minh họa".to_owned()),
                created_by: Some(admin),
            },
        )?;
        for (on, amount, decision) in allocations {
            budget::allocations::insert(
                conn,
                &budget::NewAllocation {
                    id: Uuid::now_v7(),
                    organization_id: org,
                    line_id: line.id,
                    allocated_on: day(on)?,
                    amount: *amount,
                    decision_number: (*decision).to_owned(),
                    note: None,
                    created_by: Some(admin),
                },
            )?;
        }
        for (on, amount, payee, description) in spendings {
            budget::spendings::insert(
                conn,
                &budget::NewSpending {
                    id: Uuid::now_v7(),
                    organization_id: org,
                    line_id: line.id,
                    spent_on: day(on)?,
                    amount: *amount,
                    payee_kind: *payee,
                    description: (*description).to_owned(),
                    created_by: Some(admin),
                },
            )?;
        }
    }
    Ok(())
}
