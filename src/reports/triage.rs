//! The triage report: how often staff took what triage suggested, per month and category.
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::tables::{Cell, Table, columns};
use crate::{
    db::triage::{self as sql, TriageLine as Row},
    domain::{activities::reach_percent, reports::ReportPeriod},
    error::ApiError,
};

/// The figures of a set of records that had suggestions.
#[derive(Serialize, ToSchema, Clone, Debug, Default, PartialEq)]
pub struct TriageFigures {
    /// Records filed without a category or department that got suggestions.
    pub suggested: i64,
    /// Of those, with a category chosen by staff since.
    pub category_chosen: i64,
    /// … which was the first suggested.
    pub category_first_taken: i64,
    /// `category_first_taken / category_chosen`, percent.
    pub category_first_taken_rate: Option<f64>,
    pub department_chosen: i64,
    pub department_first_taken: i64,
    pub department_first_taken_rate: Option<f64>,
    /// Routed by the first suggestions (the organisation's auto-assignment), not by staff.
    pub assigned_by_suggestion: i64,
}

impl TriageFigures {
    fn add(&mut self, r: &Row) {
        self.suggested += r.suggested;
        self.category_chosen += r.category_chosen;
        self.category_first_taken += r.category_first_taken;
        self.department_chosen += r.department_chosen;
        self.department_first_taken += r.department_first_taken;
        self.assigned_by_suggestion += r.assigned_by_suggestion;
        let rate = |part: i64, whole: i64| (whole > 0).then(|| reach_percent(part, whole));
        self.category_first_taken_rate = rate(self.category_first_taken, self.category_chosen);
        self.department_first_taken_rate = rate(self.department_first_taken, self.department_chosen);
    }
}

/// One month and the category staff chose (`null`: none chosen yet).
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct TriageLine {
    /// `2021-04` (Vietnam), when the records were received.
    pub month: String,
    pub category_id: Option<Uuid>,
    pub category_code: Option<String>,
    #[serde(flatten)]
    pub figures: TriageFigures,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct TriageReport {
    pub organization_id: Uuid,
    pub period: ReportPeriod,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub generated_at: DateTime<Utc>,
    pub total: TriageFigures,
    pub lines: Vec<TriageLine>,
}

pub fn triage_report(
    conn: &mut PgConnection,
    org: Uuid,
    period: ReportPeriod,
    now: DateTime<Utc>,
) -> Result<TriageReport, ApiError> {
    let (from, to) = period.instants();
    let rows = sql::report(conn, org, from, to)?;
    let mut total = TriageFigures::default();
    let lines = rows
        .iter()
        .map(|r| {
            total.add(r);
            let mut figures = TriageFigures::default();
            figures.add(r);
            TriageLine {
                month: r.month.clone(),
                category_id: r.category_id,
                category_code: r.category_code.clone(),
                figures,
            }
        })
        .collect();
    Ok(TriageReport { organization_id: org, period, generated_at: now, total, lines })
}

const COLUMNS: [(&str, &str); 10] = [
    ("month", "Tháng"),
    ("category_code", "Lĩnh vực đã chọn"),
    ("suggested", "Số phản ánh có gợi ý"),
    ("category_chosen", "Đã chọn lĩnh vực"),
    ("category_first_taken", "Chọn đúng gợi ý thứ nhất (lĩnh vực)"),
    ("category_first_taken_rate", "Tỷ lệ chọn gợi ý thứ nhất (lĩnh vực, %)"),
    ("department_chosen", "Đã giao phòng"),
    ("department_first_taken", "Giao đúng gợi ý thứ nhất (phòng)"),
    ("department_first_taken_rate", "Tỷ lệ giao đúng gợi ý thứ nhất (phòng, %)"),
    ("assigned_by_suggestion", "Tự động giao theo gợi ý"),
];

impl TriageReport {
    pub fn table(&self) -> Table {
        let rate = |x: Option<f64>| x.map_or(Cell::Empty, Cell::Num);
        let rows = self
            .lines
            .iter()
            .map(|l| {
                let f = &l.figures;
                vec![
                    Cell::Text(l.month.clone()),
                    l.category_code.clone().map_or(Cell::Empty, Cell::Text),
                    Cell::Int(f.suggested),
                    Cell::Int(f.category_chosen),
                    Cell::Int(f.category_first_taken),
                    rate(f.category_first_taken_rate),
                    Cell::Int(f.department_chosen),
                    Cell::Int(f.department_first_taken),
                    rate(f.department_first_taken_rate),
                    Cell::Int(f.assigned_by_suggestion),
                ]
            })
            .collect();
        Table { section: "triage", sheet: "Gợi ý phân loại", columns: columns(&COLUMNS), rows }
    }
}
