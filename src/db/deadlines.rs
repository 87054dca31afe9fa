//! The deadline scan: for each open feedback record with a department, what its
//! deadline asks for today (`domain::deadlines::due`) — a warning, the deadline day,
//! the escalation when it has passed (once per deadline: the `feedback.overdue` event),
//! and a daily reminder until a progress note is written. Each notice is made once per
//! person and cause, however often or on however many instances the scan runs.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{Bool, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    db::{
        audit::{self, Actor, Event},
        feedback::working_calendar,
        notifications::{Notice, notify},
    },
    domain::{
        calendar::WorkingCalendar,
        deadlines::{Due, due},
    },
};

#[derive(QueryableByName, Debug)]
struct Open {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = SqlUuid)]
    department_id: Uuid,
    #[diesel(sql_type = Date)]
    deadline_on: NaiveDate,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    escalated_at: Option<DateTime<Utc>>,
    /// A progress note was written after the deadline passed.
    #[diesel(sql_type = Bool)]
    noted: bool,
}

#[derive(QueryableByName)]
struct Person {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// What one scan did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    pub records: usize,
    pub notices: usize,
    pub escalated: usize,
}

/// Who hears of a deadline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Audience {
    /// The people of a department who work its feedback (not viewers).
    Department(Uuid),
    /// The coordinators and leaders of an organisation: who an escalation goes to.
    Escalation(Uuid),
    /// The coordinators of an organisation: who hears of reports and assignments.
    Coordinators(Uuid),
}

/// The people of each audience, read once per scan.
#[derive(Default)]
struct People(HashMap<Audience, Vec<Uuid>>);

impl People {
    /// The people of `audiences`, once each.
    fn of(&mut self, conn: &mut PgConnection, audiences: &[Audience]) -> QueryResult<Vec<Uuid>> {
        let mut out = Vec::new();
        for audience in audiences {
            if !self.0.contains_key(audience) {
                let (filter, id) = match *audience {
                    Audience::Department(d) => ("department_id = $1 AND role <> 'viewer'", d),
                    Audience::Escalation(o) => ("organization_id = $1 AND role IN ('coordinator', 'leader')", o),
                    Audience::Coordinators(o) => ("organization_id = $1 AND role = 'coordinator'", o),
                };
                let rows: Vec<Person> =
                    sql_query(format!("SELECT id FROM users WHERE {filter} AND active AND deleted_at IS NULL"))
                        .bind::<SqlUuid, _>(id)
                        .load(conn)?;
                self.0.insert(*audience, rows.into_iter().map(|p| p.id).collect());
            }
            out.extend_from_slice(&self.0[audience]);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// Records a page of the scan takes: each page is its own transaction, so the scan's
/// memory and the length of its transactions do not grow with the number of open records
/// (a single transaction over every record held millions in memory at scale 10).
pub const SCAN_PAGE: i64 = 2000;

/// Runs one page of the scan for `today` (in Vietnam) at `now`, warning `warn_days`
/// working days ahead: the open records after `after` (organisation, record), in that
/// order. Returns what it did and the last record of the page (`None` once past the
/// last). Several instances may run it at once: every effect is once per cause.
pub fn scan(
    conn: &mut PgConnection,
    today: NaiveDate,
    now: DateTime<Utc>,
    warn_days: u32,
    after: Option<(Uuid, Uuid)>,
) -> QueryResult<(Scanned, Option<(Uuid, Uuid)>)> {
    let (after_org, after_id) = after.unwrap_or((Uuid::nil(), Uuid::nil()));
    let open: Vec<Open> = sql_query(
        "SELECT f.id, f.organization_id, f.code, f.department_id, f.deadline_on, f.escalated_at,
                EXISTS (SELECT 1 FROM feedback_progress_notes n WHERE n.feedback_id = f.id
                        AND n.created_at >= ((f.deadline_on + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')) AS noted
         FROM feedback f
         WHERE f.deleted_at IS NULL AND f.status IN ('accepted', 'in_progress') AND f.department_id IS NOT NULL
           AND f.deadline_on <= $1::date + 31
           AND (f.organization_id, f.id) > ($2, $3)
         ORDER BY f.organization_id, f.id
         LIMIT $4",
    )
    .bind::<Date, _>(today)
    .bind::<SqlUuid, _>(after_org)
    .bind::<SqlUuid, _>(after_id)
    .bind::<diesel::sql_types::BigInt, _>(SCAN_PAGE)
    .load(conn)?;
    let last = match open.len() as i64 {
        n if n < SCAN_PAGE => None,
        _ => open.last().map(|r| (r.organization_id, r.id)),
    };
    let mut calendars: HashMap<Uuid, WorkingCalendar> = HashMap::new();
    let mut people = People::default();
    let mut done = Scanned { records: open.len(), ..Scanned::default() };
    for record in open {
        let calendar = match calendars.entry(record.organization_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(working_calendar(conn, record.organization_id, today)?)
            }
        };
        let deadline = record.deadline_on.format("%d/%m/%Y").to_string();
        for what in due(today, record.deadline_on, warn_days, calendar, record.noted) {
            let code = &record.code;
            let (kind, cause, (title, title_en), to) = match what {
                Due::Near { working_days } => (
                    "feedback.deadline_near",
                    format!("feedback/{}/near/{}", record.id, record.deadline_on),
                    (
                        format!("Phản ánh {code}: còn {working_days} ngày làm việc đến hạn xử lý {deadline}"),
                        format!("Feedback {code}: {working_days} working day(s) left until its deadline {deadline}"),
                    ),
                    people.of(conn, &[Audience::Department(record.department_id)])?,
                ),
                Due::Today => (
                    "feedback.due_today",
                    format!("feedback/{}/due/{}", record.id, record.deadline_on),
                    (
                        format!("Phản ánh {code}: hôm nay ({deadline}) là hạn xử lý"),
                        format!("Feedback {code}: today ({deadline}) is its deadline"),
                    ),
                    people.of(conn, &[Audience::Department(record.department_id)])?,
                ),
                Due::Overdue => {
                    let cause = format!("feedback/{}/overdue/{}", record.id, record.deadline_on);
                    if escalate(conn, &record, &cause, now)? {
                        done.escalated += 1;
                    }
                    let audiences =
                        [Audience::Escalation(record.organization_id), Audience::Department(record.department_id)];
                    (
                        "feedback.overdue",
                        cause,
                        (
                            format!("Phản ánh {code} đã quá hạn xử lý {deadline} mà chưa trả lời"),
                            format!("Feedback {code} passed its deadline {deadline} unanswered"),
                        ),
                        people.of(conn, &audiences)?,
                    )
                }
                Due::NoteDue => (
                    "feedback.progress_note_due",
                    format!("feedback/{}/note/{today}", record.id),
                    (
                        format!("Phản ánh {code} quá hạn: cần ghi tiến độ xử lý và ngày cam kết trả lời"),
                        format!("Feedback {code} is overdue: record its progress and the date you commit to answer by"),
                    ),
                    people.of(conn, &[Audience::Department(record.department_id)])?,
                ),
            };
            let notice = Notice {
                organization_id: record.organization_id,
                kind,
                cause: &cause,
                subject_type: "feedback",
                subject_id: Some(record.id),
                title: &title,
                title_en: &title_en,
            };
            done.notices += notify(conn, &to, &notice)?;
        }
    }
    Ok((done, last))
}

/// Marks a record escalated for this deadline, with its audit event (`feedback.overdue`
/// in the feed and to webhooks), once: false if it already was.
fn escalate(conn: &mut PgConnection, record: &Open, cause: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    if !first_time(conn, cause)? {
        return Ok(false);
    }
    sql_query("UPDATE feedback SET escalated_at = $2, updated_at = now(), version = version + 1 WHERE id = $1")
        .bind::<SqlUuid, _>(record.id)
        .bind::<Timestamptz, _>(now)
        .execute(conn)?;
    let at = crate::domain::time::rfc3339::text(&now);
    let before = record.escalated_at.map(|t| crate::domain::time::rfc3339::text(&t));
    audit::record(
        conn,
        &Actor::system(),
        Event::updated(
            "feedback",
            record.id,
            Some(record.organization_id),
            &json!({"escalated_at": before, "deadline_on": record.deadline_on}),
            &json!({"escalated_at": at, "deadline_on": record.deadline_on}),
        ),
    )?;
    Ok(true)
}

/// Whether `cause` is new (and now recorded): what must happen once happens here.
fn first_time(conn: &mut PgConnection, cause: &str) -> QueryResult<bool> {
    Ok(sql_query("INSERT INTO deadline_causes (cause) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind::<Text, _>(cause)
        .execute(conn)?
        == 1)
}

/// Reporting duties and assignments of the plans under way (issued or in progress):
/// a reminder `remind_days` working days before a report's due date, a notice and the
/// event `reporting_duty.late` the day after it passes unsubmitted, a notice that the
/// report is `missing` once the next period's due date has passed too; for assignments,
/// a reminder before their due date and, once it has passed with the work neither done
/// nor cancelled, a notice and the event `assignment.overdue`. To the department's
/// people and the coordinators.
pub fn scan_duties(conn: &mut PgConnection, today: NaiveDate, remind_days: u32, due_days: i64) -> QueryResult<Scanned> {
    use crate::{
        db::assignments::{reporting_of_plan, reports_of},
        domain::{assignments::AssignmentStatus, deadlines::working_days_left},
    };
    #[derive(QueryableByName)]
    struct PlanOf {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        organization_id: Uuid,
    }
    let plans: Vec<PlanOf> = sql_query(
        "SELECT id, organization_id FROM plans WHERE deleted_at IS NULL AND status IN ('issued', 'in_progress') ORDER BY id",
    )
    .load(conn)?;
    let mut done = Scanned::default();
    let mut calendars: HashMap<Uuid, WorkingCalendar> = HashMap::new();
    let mut people = People::default();
    for p in plans {
        let plan = crate::db::plans::find(conn, p.id, None)?;
        let counting = crate::db::organizations::period_counting(conn, p.organization_id)?;
        let calendar = match calendars.entry(p.organization_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(working_calendar(conn, p.organization_id, today)?),
        };
        // Assignments whose own due date nears or has passed.
        for a in crate::db::assignments::open_with_due_date(conn, p.id, today + chrono::Duration::days(31))? {
            let Some(due) = a.due_on else { continue };
            let on = due.format("%d/%m/%Y");
            let what = if today > due {
                let cause = format!("assignment/{}/overdue/{due}", a.id);
                if first_time(conn, &cause)? {
                    done.escalated += 1;
                    let changes = json!({"overdue": {"before": false, "after": true}});
                    let event = Event {
                        action: "overdue",
                        entity_type: "assignment",
                        entity_id: Some(a.id),
                        organization_id: Some(a.organization_id),
                        changes,
                    };
                    audit::record(conn, &Actor::system(), event)?;
                }
                let title = (
                    format!("Nhiệm vụ được giao đã quá hạn hoàn thành {on}"),
                    format!("An assigned task passed its due date {on}"),
                );
                Some(("assignment.overdue", cause, title))
            } else if working_days_left(today, due, calendar) <= remind_days {
                let cause = format!("assignment/{}/soon/{due}", a.id);
                let title =
                    (format!("Nhiệm vụ được giao đến hạn hoàn thành {on}"), format!("An assigned task is due on {on}"));
                Some(("assignment.due_soon", cause, title))
            } else {
                None
            };
            if let Some((kind, cause, (title, title_en))) = what {
                let to = people
                    .of(conn, &[Audience::Department(a.department_id), Audience::Coordinators(a.organization_id)])?;
                let notice = Notice {
                    organization_id: a.organization_id,
                    kind,
                    cause: &cause,
                    subject_type: "assignment",
                    subject_id: Some(a.id),
                    title: &title,
                    title_en: &title_en,
                };
                done.notices += notify(conn, &to, &notice)?;
            }
        }
        // The quarters' reports owed to the organisation above.
        if crate::db::organizations::find(conn, p.organization_id, None)?.parent_id.is_some() {
            let sent: std::collections::HashSet<String> = crate::db::submissions::first_submitted(conn, &[p.id])?
                .into_iter()
                .map(|(_, period, _)| period)
                .collect();
            let quarters = crate::domain::assignments::submission_duties(
                (plan.period_from, plan.period_to),
                plan.year,
                due_days,
                counting,
            );
            for period in quarters {
                if sent.contains(&period.code) || period.ends_on > today + chrono::Duration::days(31) {
                    continue;
                }
                let (code, on) = (&period.code, period.due_on.format("%d/%m/%Y"));
                let what = if today > period.due_on {
                    let cause = format!("submission/{}/{code}/late", p.id);
                    if first_time(conn, &cause)? {
                        done.escalated += 1;
                        let changes = json!({
                            "period": {"before": null, "after": code},
                            "due_on": {"before": null, "after": period.due_on},
                        });
                        let event = Event {
                            action: "submission_late",
                            entity_type: "plan",
                            entity_id: Some(p.id),
                            organization_id: Some(p.organization_id),
                            changes,
                        };
                        audit::record(conn, &Actor::system(), event)?;
                    }
                    let title = (
                        format!("Chưa gửi cấp trên báo cáo kỳ {code} (hạn {on})"),
                        format!("The {code} report to the level above is late (due {on})"),
                    );
                    Some(("report_submission.late", cause, title))
                } else if today > period.ends_on && working_days_left(today, period.due_on, calendar) <= remind_days {
                    let cause = format!("submission/{}/{code}/soon", p.id);
                    let title = (
                        format!("Báo cáo kỳ {code} gửi cấp trên đến hạn {on}"),
                        format!("The {code} report to the level above is due on {on}"),
                    );
                    Some(("report_submission.due_soon", cause, title))
                } else {
                    None
                };
                if let Some((kind, cause, (title, title_en))) = what {
                    let to = people.of(conn, &[Audience::Coordinators(p.organization_id)])?;
                    let notice = Notice {
                        organization_id: p.organization_id,
                        kind,
                        cause: &cause,
                        subject_type: "plan",
                        subject_id: Some(p.id),
                        title: &title,
                        title_en: &title_en,
                    };
                    done.notices += notify(conn, &to, &notice)?;
                }
            }
        }
        // Reporting duties.
        let reporting: Vec<_> = reporting_of_plan(conn, p.id)?
            .into_iter()
            .filter(|a| !matches!(a.status, AssignmentStatus::Done | AssignmentStatus::Cancelled))
            .collect();
        if reporting.is_empty() {
            continue;
        }
        let ids: Vec<Uuid> = reporting.iter().map(|a| a.id).collect();
        let submitted: std::collections::HashSet<(Uuid, String)> =
            reports_of(conn, &ids)?.into_iter().map(|r| (r.assignment_id, r.period)).collect();
        for a in &reporting {
            let periods = a.duty_periods(&plan, due_days, counting);
            for (i, period) in periods.iter().enumerate() {
                if submitted.contains(&(a.id, period.code.clone())) || period.starts_on > today {
                    continue;
                }
                let (code, on) = (&period.code, period.due_on.format("%d/%m/%Y"));
                let mut notices = Vec::new();
                if today > period.due_on {
                    let cause = format!("duty/{}/{code}/late", a.id);
                    if first_time(conn, &cause)? {
                        done.escalated += 1;
                        let changes = json!({
                            "period": {"before": null, "after": code},
                            "due_on": {"before": null, "after": period.due_on},
                            "state": {"before": "due", "after": "missing"},
                        });
                        let event = Event {
                            action: "duty_late",
                            entity_type: "assignment",
                            entity_id: Some(a.id),
                            organization_id: Some(a.organization_id),
                            changes,
                        };
                        audit::record(conn, &Actor::system(), event)?;
                    }
                    let title = (
                        format!("Báo cáo kỳ {code} đã quá hạn nộp {on}"),
                        format!("The {code} report is late (due {on})"),
                    );
                    notices.push(("reporting_duty.late", cause, title));
                    if periods.get(i + 1).is_some_and(|next| today > next.due_on) {
                        let cause = format!("duty/{}/{code}/missing", a.id);
                        let title = (
                            format!("Vẫn chưa nộp báo cáo kỳ {code} (hạn {on}), đã qua cả hạn kỳ sau"),
                            format!(
                                "The {code} report (due {on}) is missing: the next period's due date has passed too"
                            ),
                        );
                        notices.push(("reporting_duty.missing", cause, title));
                    }
                } else if working_days_left(today, period.due_on, calendar) <= remind_days {
                    let cause = format!("duty/{}/{code}/soon", a.id);
                    let title =
                        (format!("Báo cáo kỳ {code} đến hạn nộp {on}"), format!("The {code} report is due on {on}"));
                    notices.push(("reporting_duty.due_soon", cause, title));
                }
                if notices.is_empty() {
                    continue;
                }
                let to = people
                    .of(conn, &[Audience::Department(a.department_id), Audience::Coordinators(a.organization_id)])?;
                for (kind, cause, (title, title_en)) in notices {
                    let notice = Notice {
                        organization_id: a.organization_id,
                        kind,
                        cause: &cause,
                        subject_type: "assignment",
                        subject_id: Some(a.id),
                        title: &title,
                        title_en: &title_en,
                    };
                    done.notices += notify(conn, &to, &notice)?;
                }
            }
        }
    }
    Ok(done)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = crate::db::schema::feedback_progress_notes)]
pub struct ProgressNoteRow {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub text: String,
    pub committed_on: NaiveDate,
    pub written_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Writes a progress note at `now` (the service's clock).
pub fn add_note(
    conn: &mut PgConnection,
    (feedback, org): (Uuid, Uuid),
    text: &str,
    committed_on: NaiveDate,
    (by, now): (Option<Uuid>, DateTime<Utc>),
) -> QueryResult<ProgressNoteRow> {
    use crate::db::schema::feedback_progress_notes as n;
    diesel::insert_into(n::table)
        .values((
            n::id.eq(Uuid::now_v7()),
            n::feedback_id.eq(feedback),
            n::organization_id.eq(org),
            n::text.eq(text),
            n::committed_on.eq(committed_on),
            n::written_by.eq(by),
            n::created_at.eq(now),
        ))
        .returning(ProgressNoteRow::as_returning())
        .get_result(conn)
}

pub fn notes(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Vec<ProgressNoteRow>> {
    use crate::db::schema::feedback_progress_notes as n;
    n::table.filter(n::feedback_id.eq(feedback)).order(n::id.asc()).select(ProgressNoteRow::as_select()).load(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = crate::db::schema::feedback_extensions)]
pub struct ExtensionRow {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub working_days: i32,
    pub reason: String,
    pub previous_deadline: NaiveDate,
    pub new_deadline: NaiveDate,
    pub granted_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// An extension granted.
pub struct NewExtension<'a> {
    pub feedback: Uuid,
    pub organization: Uuid,
    pub working_days: i32,
    pub reason: &'a str,
    pub previous: NaiveDate,
    pub new: NaiveDate,
    pub by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

pub fn add_extension(conn: &mut PgConnection, e: &NewExtension<'_>) -> QueryResult<ExtensionRow> {
    use crate::db::schema::feedback_extensions as x;
    diesel::insert_into(x::table)
        .values((
            x::id.eq(Uuid::now_v7()),
            x::feedback_id.eq(e.feedback),
            x::organization_id.eq(e.organization),
            x::working_days.eq(e.working_days),
            x::reason.eq(e.reason),
            x::previous_deadline.eq(e.previous),
            x::new_deadline.eq(e.new),
            x::granted_by.eq(e.by),
            x::created_at.eq(e.at),
        ))
        .returning(ExtensionRow::as_returning())
        .get_result(conn)
}

pub fn extensions(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Vec<ExtensionRow>> {
    use crate::db::schema::feedback_extensions as x;
    x::table.filter(x::feedback_id.eq(feedback)).order(x::id.asc()).select(ExtensionRow::as_select()).load(conn)
}
