//! Reports as tables: one per section, each column with a stable English key (the CSV
//! header, documented in `docs/reports.md`) and a Vietnamese heading (the XLSX sheet).
use chrono::NaiveDate;

use super::{FeedbackGroup, FeedbackReport, FeedbackStats, PlanReport, rollup::Rollup};
use crate::domain::{feedback::FeedbackChannel, plans::Channel};

/// One cell, typed so a spreadsheet gets numbers and dates, not text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// A code: as itself in CSV, by its Vietnamese label in a workbook.
    Code {
        code: &'static str,
        label: &'static str,
    },
    Int(i64),
    Num(f64),
    Date(NaiveDate),
    Bool(bool),
    Empty,
}

impl Cell {
    fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    fn opt_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Empty, |v| Self::Text(v.into()))
    }

    fn code(code: &'static str, label: &'static str) -> Self {
        Self::Code { code, label }
    }

    fn opt_num(value: Option<f64>) -> Self {
        value.map_or(Self::Empty, Self::Num)
    }

    fn opt_date(value: Option<NaiveDate>) -> Self {
        value.map_or(Self::Empty, Self::Date)
    }

    /// As written in a CSV file: text made safe for spreadsheets, numbers as numbers.
    pub fn to_csv(&self) -> String {
        match self {
            Self::Text(s) => spreadsheet_text(s).into_owned(),
            Self::Code { code, .. } => spreadsheet_text(code).into_owned(),
            Self::Int(n) => n.to_string(),
            Self::Num(x) => x.to_string(),
            Self::Date(d) => d.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Empty => String::new(),
        }
    }
}

pub use crate::domain::reports::{FORMULA_LEADS, spreadsheet_text};

/// A column: its CSV key and its Vietnamese heading.
#[derive(Clone, Debug)]
pub struct Column {
    pub key: String,
    pub heading: String,
}

pub(crate) fn columns(list: &[(&str, &str)]) -> Vec<Column> {
    list.iter().map(|(key, heading)| Column { key: (*key).to_owned(), heading: (*heading).to_owned() }).collect()
}

/// A section of a report as rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// `items`, `departments`, … (the `section=` of a CSV download).
    pub section: &'static str,
    /// The worksheet's name.
    pub sheet: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// The UTF-8 byte order mark: with it, Excel reads a CSV file's Vietnamese text as
/// UTF-8 instead of the Windows code page.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a CSV file is written for its reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvStyle {
    /// Start with `UTF8_BOM` (for Excel; the default).
    pub bom: bool,
    /// The header row in Vietnamese headings instead of the stable keys.
    pub vietnamese_headers: bool,
}

impl Default for CsvStyle {
    fn default() -> Self {
        Self { bom: true, vietnamese_headers: false }
    }
}

impl Table {
    /// The same table in the order a person reads it: what names a row (a reference, a
    /// code, a month) first, the ids (`…_id`) last. Workbooks and CSV with Vietnamese
    /// headings use it; CSV for scripts keeps the documented key order.
    pub fn for_people(&self) -> Table {
        let is_id = |c: &Column| c.key == "id" || c.key.ends_with("_id");
        let order: Vec<usize> = (0..self.columns.len())
            .filter(|&i| !is_id(&self.columns[i]))
            .chain((0..self.columns.len()).filter(|&i| is_id(&self.columns[i])))
            .collect();
        Table {
            columns: order.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self.rows.iter().map(|row| order.iter().map(|&i| row[i].clone()).collect()).collect(),
            ..self.clone()
        }
    }

    /// RFC 4180 CSV with a header row of the column keys (or headings), UTF-8, CRLF
    /// line ends.
    pub fn to_csv(&self, style: CsvStyle) -> Vec<u8> {
        if style.vietnamese_headers {
            let people = self.for_people();
            return people.write_csv(style);
        }
        self.write_csv(style)
    }

    fn write_csv(&self, style: CsvStyle) -> Vec<u8> {
        let start = if style.bom { UTF8_BOM.to_vec() } else { Vec::new() };
        let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(start);
        let header = self.columns.iter().map(|c| if style.vietnamese_headers { &c.heading } else { &c.key });
        out.write_record(header.map(|h| spreadsheet_text(h).into_owned())).expect("writing to memory");
        for row in &self.rows {
            out.write_record(row.iter().map(Cell::to_csv)).expect("writing to memory");
        }
        out.into_inner().expect("writing to memory")
    }
}

/// The sections of a plan report, in order.
pub const PLAN_SECTIONS: &[&str] = &[
    "items",
    "departments",
    "indicators",
    "activities_by_month",
    "feedback",
    "publications",
    "budget_lines",
    "budget_departments",
    "budget_quarters",
];

const BUDGET: [(&str, &str); 6] = [
    ("estimate", "Dự toán (đồng)"),
    ("allocated", "Đã cấp (đồng)"),
    ("spent", "Đã chi (đồng)"),
    ("settled", "Đã quyết toán (đồng)"),
    ("remaining", "Còn lại (đồng)"),
    ("variance", "Chênh lệch so với dự toán (đồng)"),
];

fn budget_cells(f: &super::BudgetFigures) -> Vec<Cell> {
    vec![
        Cell::Int(f.estimate),
        Cell::Int(f.allocated),
        Cell::Int(f.spent),
        Cell::Int(f.settled),
        Cell::Int(f.remaining),
        Cell::Int(f.variance),
    ]
}

const DUTIES: [(&str, &str); 5] = [
    ("reports_on_time", "Báo cáo đúng hạn"),
    ("reports_late", "Báo cáo trễ hạn"),
    ("reports_missing", "Báo cáo còn thiếu"),
    ("reports_due", "Báo cáo đến hạn"),
    ("reports_upcoming", "Báo cáo chưa đến kỳ"),
];

const STATS: [(&str, &str); 20] = [
    ("received", "Số tiếp nhận"),
    ("answered", "Đã trả lời"),
    ("answered_on_time", "Trả lời đúng hạn"),
    ("overdue", "Quá hạn chưa trả lời"),
    ("rejected", "Không thuộc thẩm quyền"),
    ("forwarded", "Chuyển cơ quan khác"),
    ("extended", "Được gia hạn"),
    ("escalated", "Quá hạn phải báo cáo lãnh đạo"),
    ("reopened", "Người gửi đề nghị xem xét lại"),
    ("answered_within_original_deadline", "Trả lời trong hạn ban đầu"),
    ("answered_within_extension", "Trả lời trong thời gian gia hạn"),
    ("median_working_days", "Trung vị ngày làm việc để trả lời"),
    ("p90_working_days", "Phân vị 90 ngày làm việc để trả lời"),
    ("rated", "Số lượt đánh giá"),
    ("satisfied", "Hài lòng"),
    ("neutral", "Bình thường"),
    ("dissatisfied", "Không hài lòng"),
    ("satisfaction_rate", "Tỷ lệ hài lòng (%)"),
    ("merged", "Đã gộp vào phản ánh cùng nội dung"),
    ("matters", "Số vụ việc (không tính phản ánh đã gộp)"),
];

fn stats_cells(s: &FeedbackStats) -> Vec<Cell> {
    vec![
        Cell::Int(s.received),
        Cell::Int(s.answered),
        Cell::Int(s.answered_on_time),
        Cell::Int(s.overdue),
        Cell::Int(s.rejected),
        Cell::Int(s.forwarded),
        Cell::Int(s.extended),
        Cell::Int(s.escalated),
        Cell::Int(s.reopened),
        Cell::Int(s.answered_within_original_deadline),
        Cell::Int(s.answered_within_extension),
        Cell::opt_num(s.median_working_days),
        Cell::opt_num(s.p90_working_days),
        Cell::Int(s.rated),
        Cell::Int(s.satisfied),
        Cell::Int(s.neutral),
        Cell::Int(s.dissatisfied),
        Cell::opt_num(s.satisfaction_rate),
        Cell::Int(s.merged),
        Cell::Int(s.matters),
    ]
}

fn duty_cells(d: &super::DutyCounts) -> [Cell; 5] {
    [Cell::Int(d.on_time), Cell::Int(d.late), Cell::Int(d.missing), Cell::Int(d.due), Cell::Int(d.upcoming)]
}

fn feedback_rows<'a>(
    total: &FeedbackStats,
    groups: impl Iterator<Item = (&'static str, &'a FeedbackGroup)>,
) -> Vec<Vec<Cell>> {
    let dimension_cell = |dimension: &'static str| {
        Cell::code(dimension, crate::domain::labels::vi("Dimension", dimension).unwrap_or(dimension))
    };
    let mut rows =
        vec![[vec![dimension_cell("total"), Cell::Empty, Cell::Empty, Cell::Empty], stats_cells(total)].concat()];
    for (dimension, g) in groups {
        // A channel's key is its code: a person reads its label.
        let key = match (dimension, g.key.as_deref()) {
            ("channel", Some(code)) => {
                FeedbackChannel::parse(code).map_or_else(|| Cell::text(code), |c| Cell::code(c.as_str(), c.label()))
            }
            _ => Cell::opt_text(g.key.clone()),
        };
        rows.push(
            [
                vec![dimension_cell(dimension), key, Cell::opt_text(g.code.clone()), Cell::opt_text(g.name.clone())],
                stats_cells(&g.stats),
            ]
            .concat(),
        );
    }
    rows
}

fn feedback_columns() -> Vec<Column> {
    let mut list = vec![("dimension", "Nhóm"), ("key", "Khóa"), ("code", "Mã"), ("name", "Tên")];
    list.extend(STATS);
    columns(&list)
}

impl PlanReport {
    pub fn tables(&self) -> Vec<Table> {
        let mut item_columns = vec![
            ("item_id", "Mã định danh mục"),
            ("reference", "Số hiệu"),
            ("depth", "Cấp"),
            ("kind", "Loại"),
            ("title", "Nội dung"),
            ("verified_activities", "Hoạt động đã xác nhận"),
            ("evidence_files", "Tệp minh chứng"),
            ("department_code", "Phòng"),
            ("role", "Vai trò"),
            ("assignment_status", "Trạng thái nhiệm vụ"),
            ("due_on", "Hạn hoàn thành"),
            ("overdue", "Quá hạn"),
        ];
        item_columns.extend(DUTIES);
        let mut items = Vec::new();
        for item in &self.items {
            let head = vec![
                Cell::opt_text(item.item_id.map(|i| i.to_string())),
                Cell::text(item.reference.clone()),
                Cell::Int(i64::from(item.depth)),
                item.kind.map_or(Cell::Empty, |k| Cell::code(k.as_str(), k.label())),
                Cell::text(item.title.clone()),
                Cell::Int(item.verified_activities),
                Cell::Int(item.evidence_files),
            ];
            if item.assignments.is_empty() {
                items.push([head.clone(), vec![Cell::Empty; 5 + DUTIES.len()]].concat());
            }
            for a in &item.assignments {
                let assignment = vec![
                    Cell::text(a.department_code.clone()),
                    Cell::code(a.role.as_str(), a.role.label()),
                    Cell::code(a.status.as_str(), a.status.label()),
                    Cell::opt_date(a.due_on),
                    Cell::Bool(a.overdue),
                ];
                items.push([head.clone(), assignment, duty_cells(&a.reports).to_vec()].concat());
            }
        }

        let mut department_columns: Vec<(String, String)> = [
            ("department_id", "Mã định danh phòng"),
            ("code", "Mã phòng"),
            ("name", "Tên phòng"),
            ("assigned", "Nhiệm vụ được giao"),
            ("in_progress", "Đang thực hiện"),
            ("done", "Hoàn thành"),
            ("cancelled", "Hủy"),
            ("overdue", "Quá hạn"),
            ("verified_activities", "Hoạt động đã xác nhận"),
            ("evidence_files", "Tệp minh chứng"),
        ]
        .iter()
        .map(|(k, h)| ((*k).to_owned(), (*h).to_owned()))
        .collect();
        department_columns.extend(DUTIES.iter().map(|(k, h)| ((*k).to_owned(), (*h).to_owned())));
        department_columns.extend(
            Channel::ALL.iter().map(|c| (format!("activities_{}", c.as_str()), format!("Hoạt động: {}", c.label()))),
        );
        let departments = self
            .departments
            .iter()
            .map(|d| {
                let a = &d.assignments;
                let mut row = vec![
                    Cell::text(d.department_id.to_string()),
                    Cell::text(d.code.clone()),
                    Cell::text(d.name.clone()),
                    Cell::Int(a.assigned),
                    Cell::Int(a.in_progress),
                    Cell::Int(a.done),
                    Cell::Int(a.cancelled),
                    Cell::Int(a.overdue),
                    Cell::Int(d.verified_activities),
                    Cell::Int(d.evidence_files),
                ];
                row.extend(duty_cells(&d.reports));
                row.extend(
                    Channel::ALL
                        .iter()
                        .map(|c| Cell::Int(d.activities_by_channel.get(c.as_str()).copied().unwrap_or(0))),
                );
                row
            })
            .collect();

        let indicators = self
            .indicators
            .iter()
            .map(|i| {
                vec![
                    Cell::text(i.indicator_id.to_string()),
                    Cell::text(i.code.clone()),
                    Cell::text(i.name.clone()),
                    Cell::code(i.unit.as_str(), i.unit.label()),
                    Cell::code(i.comparator.as_str(), i.comparator.label()),
                    Cell::opt_num(i.target_value),
                    Cell::opt_num(i.baseline),
                    Cell::opt_num(i.value),
                    Cell::opt_date(i.measured_on),
                    i.source.map_or(Cell::Empty, |s| Cell::code(s.as_str(), s.label())),
                    Cell::opt_text(i.citation.clone()),
                    Cell::code(i.status.as_str(), i.status.label()),
                ]
            })
            .collect();

        let months = self
            .activities_by_month
            .iter()
            .map(|m| vec![Cell::text(m.month.clone()), Cell::Int(m.verified_activities), Cell::Int(m.evidence_files)])
            .collect();

        let f = &self.feedback;
        let groups = f
            .by_channel
            .iter()
            .map(|g| ("channel", g))
            .chain(f.by_category.iter().map(|g| ("category", g)))
            .chain(f.by_department.iter().map(|g| ("department", g)));

        vec![
            Table { section: "items", sheet: "Nhiệm vụ", columns: columns(&item_columns), rows: items },
            Table {
                section: "departments",
                sheet: "Phòng ban",
                columns: department_columns.into_iter().map(|(key, heading)| Column { key, heading }).collect(),
                rows: departments,
            },
            Table {
                section: "indicators",
                sheet: "Chỉ tiêu",
                columns: columns(&[
                    ("indicator_id", "Mã định danh chỉ tiêu"),
                    ("code", "Mã chỉ tiêu"),
                    ("name", "Tên chỉ tiêu"),
                    ("unit", "Đơn vị"),
                    ("comparator", "So sánh"),
                    ("target_value", "Chỉ tiêu"),
                    ("baseline", "Giá trị gốc"),
                    ("value", "Giá trị trong kỳ"),
                    ("measured_on", "Ngày đo"),
                    ("source", "Nguồn"),
                    ("citation", "Căn cứ"),
                    ("status", "Đánh giá"),
                ]),
                rows: indicators,
            },
            Table {
                section: "activities_by_month",
                sheet: "Hoạt động theo tháng",
                columns: columns(&[
                    ("month", "Tháng"),
                    ("verified_activities", "Hoạt động đã xác nhận"),
                    ("evidence_files", "Tệp minh chứng"),
                ]),
                rows: months,
            },
            Table {
                section: "feedback",
                sheet: "Phản ánh kiến nghị",
                columns: feedback_columns(),
                rows: feedback_rows(&f.total, groups),
            },
            self.publications_table(),
            self.budget_lines_table(),
            self.budget_departments_table(),
            Table {
                section: "budget_quarters",
                sheet: "Kinh phí theo quý",
                columns: columns(&[("quarter", "Quý"), ("allocated", "Đã cấp (đồng)"), ("spent", "Đã chi (đồng)")]),
                rows: self
                    .budget
                    .by_quarter
                    .iter()
                    .map(|q| vec![Cell::text(q.quarter.clone()), Cell::Int(q.allocated), Cell::Int(q.spent)])
                    .collect(),
            },
        ]
    }

    fn publications_table(&self) -> Table {
        Table {
            section: "publications",
            sheet: "Đăng tải văn bản",
            columns: columns(&[
                ("document_id", "Mã định danh văn bản"),
                ("number", "Số, ký hiệu"),
                ("title", "Trích yếu"),
                ("issued_on", "Ngày ban hành"),
                ("posted_on", "Ngày đăng tải"),
                ("working_days", "Số ngày làm việc"),
                ("state", "Đánh giá"),
                ("activity_id", "Mã định danh hoạt động đăng tải"),
            ]),
            rows: self
                .publications
                .documents
                .iter()
                .map(|d| {
                    vec![
                        Cell::text(d.document_id.to_string()),
                        Cell::text(d.number.clone()),
                        Cell::text(d.title.clone()),
                        Cell::Date(d.issued_on),
                        Cell::opt_date(d.posted_on),
                        d.working_days.map_or(Cell::Empty, Cell::Int),
                        Cell::code(d.state.as_str(), d.state.label()),
                        Cell::opt_text(d.activity_id.map(|a| a.to_string())),
                    ]
                })
                .collect(),
        }
    }

    fn budget_lines_table(&self) -> Table {
        let mut list = vec![
            ("line_id", "Mã định danh dòng kinh phí"),
            ("code", "Mã"),
            ("title", "Nội dung chi"),
            ("department_code", "Phòng"),
            ("plan_item_id", "Mã định danh mục kế hoạch"),
            ("settled_on", "Ngày quyết toán"),
        ];
        list.extend(BUDGET);
        Table {
            section: "budget_lines",
            sheet: "Kinh phí",
            columns: columns(&list),
            rows: self
                .budget
                .lines
                .iter()
                .map(|l| {
                    [
                        vec![
                            Cell::text(l.line_id.to_string()),
                            Cell::text(l.code.clone()),
                            Cell::text(l.title.clone()),
                            Cell::opt_text(l.department_code.clone()),
                            Cell::opt_text(l.plan_item_id.map(|i| i.to_string())),
                            Cell::opt_date(l.settled_on),
                        ],
                        budget_cells(&l.figures),
                    ]
                    .concat()
                })
                .collect(),
        }
    }

    fn budget_departments_table(&self) -> Table {
        let mut list = vec![("department_id", "Mã định danh phòng"), ("code", "Mã phòng"), ("name", "Tên phòng")];
        list.extend(BUDGET);
        let total = [vec![Cell::Empty, Cell::text("total"), Cell::text("Tổng cộng")], budget_cells(&self.budget.total)]
            .concat();
        let mut rows = vec![total];
        rows.extend(self.budget.by_department.iter().map(|d| {
            [
                vec![
                    Cell::opt_text(d.department_id.map(|i| i.to_string())),
                    Cell::opt_text(d.code.clone()),
                    Cell::opt_text(d.name.clone()),
                ],
                budget_cells(&d.figures),
            ]
            .concat()
        }));
        Table { section: "budget_departments", sheet: "Kinh phí theo phòng", columns: columns(&list), rows }
    }
}

impl FeedbackReport {
    pub fn table(&self) -> Table {
        let dimension = self.group_by.dimension();
        Table {
            section: "feedback",
            sheet: "Phản ánh kiến nghị",
            columns: feedback_columns(),
            rows: feedback_rows(&self.total, self.groups.iter().map(|g| (dimension, g))),
        }
    }
}

/// Vietnamese names of channels, for headings.
/// The sections of a roll-up, in order.
pub const ROLLUP_SECTIONS: &[&str] = &["items", "units", "indicators", "missing"];

impl Rollup {
    pub fn tables(&self) -> Vec<Table> {
        let items = Table {
            section: "items",
            sheet: "Theo mục kế hoạch",
            columns: columns(&[
                ("parent_item_id", "Mã định danh mục của kế hoạch cấp trên"),
                ("parent_reference", "Số hiệu mục cấp trên"),
                ("depth", "Cấp"),
                ("parent_title", "Nội dung mục cấp trên"),
                ("units", "Số đơn vị thực hiện"),
                ("organization_code", "Đơn vị"),
                ("reference", "Số hiệu mục của đơn vị"),
                ("title", "Nội dung mục của đơn vị"),
                ("assignments", "Nhiệm vụ được giao"),
                ("assignments_done", "Đã hoàn thành"),
                ("assignments_in_progress", "Đang thực hiện"),
                ("verified_activities", "Hoạt động đã xác nhận"),
                ("evidence_files", "Tệp minh chứng"),
                ("last_report_period", "Kỳ báo cáo gần nhất"),
                ("last_report_on", "Ngày nộp báo cáo gần nhất"),
                ("organization_id", "Mã định danh đơn vị"),
                ("item_id", "Mã định danh mục của đơn vị"),
            ]),
            rows: self
                .items
                .iter()
                .flat_map(|p| {
                    let head = [
                        Cell::text(p.item_id.to_string()),
                        Cell::text(&p.reference),
                        Cell::Int(i64::from(p.depth)),
                        Cell::text(&p.title),
                        Cell::Int(p.units as i64),
                    ];
                    let none = || [vec![Cell::Empty; 10], vec![Cell::Empty, Cell::Empty]].concat();
                    let lines: Vec<Vec<Cell>> = if p.implementations.is_empty() {
                        vec![[head.to_vec(), none()].concat()]
                    } else {
                        p.implementations
                            .iter()
                            .map(|i| {
                                [
                                    head.to_vec(),
                                    vec![
                                        Cell::text(&i.organization_code),
                                        Cell::text(&i.reference),
                                        Cell::text(&i.title),
                                        Cell::Int(i.assignments),
                                        Cell::Int(i.assignments_done),
                                        Cell::Int(i.assignments_in_progress),
                                        Cell::Int(i.verified_activities),
                                        Cell::Int(i.evidence_files),
                                        Cell::opt_text(i.last_report_period.clone()),
                                        Cell::opt_date(i.last_report_at.map(crate::domain::time::local_date)),
                                        Cell::text(i.organization_id.to_string()),
                                        Cell::text(i.item_id.to_string()),
                                    ],
                                ]
                                .concat()
                            })
                            .collect()
                    };
                    lines
                })
                .collect(),
        };
        let mut unit_columns = vec![
            ("rank", "Xếp hạng"),
            ("code", "Đơn vị"),
            ("name", "Tên đơn vị"),
            ("plan_code", "Kế hoạch của đơn vị"),
            ("score", "Điểm"),
            ("reports_on_time_rate", "Tỷ lệ báo cáo đúng hạn (%)"),
            ("indicators_met_rate", "Tỷ lệ chỉ tiêu đạt (%)"),
            ("feedback_on_time_rate", "Tỷ lệ phản ánh trả lời đúng hạn (%)"),
        ];
        unit_columns.extend(DUTIES);
        unit_columns.extend([
            ("feedback_received", "Phản ánh tiếp nhận"),
            ("feedback_answered", "Đã trả lời"),
            ("feedback_answered_on_time", "Trả lời đúng hạn"),
            ("feedback_overdue", "Quá hạn chưa trả lời"),
            ("satisfaction_rate", "Tỷ lệ hài lòng (%)"),
            ("organization_id", "Mã định danh đơn vị"),
            ("plan_id", "Mã định danh kế hoạch"),
        ]);
        let units = Table {
            section: "units",
            sheet: "Theo đơn vị",
            columns: columns(&unit_columns),
            rows: self
                .units
                .iter()
                .map(|u| {
                    [
                        vec![
                            u.rank.map_or(Cell::Empty, |r| Cell::Int(r as i64)),
                            Cell::text(&u.code),
                            Cell::text(&u.name),
                            Cell::text(&u.plan.code),
                            Cell::opt_num(u.score),
                            Cell::opt_num(u.reports_on_time_rate),
                            Cell::opt_num(u.indicators_met_rate),
                            Cell::opt_num(u.feedback_on_time_rate),
                        ],
                        duty_cells(&u.reports).to_vec(),
                        vec![
                            Cell::Int(u.feedback.received),
                            Cell::Int(u.feedback.answered),
                            Cell::Int(u.feedback.answered_on_time),
                            Cell::Int(u.feedback.overdue),
                            Cell::opt_num(u.feedback.satisfaction_rate),
                            Cell::text(u.organization_id.to_string()),
                            Cell::text(u.plan.id.to_string()),
                        ],
                    ]
                    .concat()
                })
                .collect(),
        };
        let indicators = Table {
            section: "indicators",
            sheet: "Chỉ tiêu",
            columns: columns(&[
                ("organization_code", "Đơn vị"),
                ("code", "Mã chỉ tiêu"),
                ("name", "Chỉ tiêu"),
                ("unit", "Đơn vị tính"),
                ("target_value", "Chỉ tiêu của đơn vị"),
                ("parent_target_value", "Chỉ tiêu của cấp trên"),
                ("value", "Kết quả"),
                ("measured_on", "Ngày đo"),
                ("status", "Đánh giá"),
            ]),
            rows: self
                .units
                .iter()
                .flat_map(|u| {
                    u.indicators.iter().map(move |i| {
                        vec![
                            Cell::text(&u.code),
                            Cell::text(&i.code),
                            Cell::text(&i.name),
                            Cell::code(i.unit.as_str(), i.unit.label()),
                            Cell::opt_num(i.target_value),
                            Cell::opt_num(i.parent_target_value),
                            Cell::opt_num(i.value),
                            Cell::opt_date(i.measured_on),
                            Cell::code(i.status.as_str(), i.status.label()),
                        ]
                    })
                })
                .collect(),
        };
        let missing = Table {
            section: "missing",
            sheet: "Chưa có kế hoạch",
            columns: columns(&[("code", "Đơn vị"), ("name", "Tên đơn vị"), ("organization_id", "Mã định danh đơn vị")]),
            rows: self
                .missing
                .iter()
                .map(|m| vec![Cell::text(&m.code), Cell::text(&m.name), Cell::text(m.organization_id.to_string())])
                .collect(),
        };
        vec![items, units, indicators, missing]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Text with what breaks naive CSV: commas, quotes, line breaks, Vietnamese.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just(",".to_owned()),
                Just("\"".to_owned()),
                Just("\n".to_owned()),
                Just("\r\n".to_owned()),
                Just("Nguyễn Thị Hồng Nhung".to_owned()),
                Just("Phản ánh, kiến nghị".to_owned()),
                Just("=HYPERLINK(\"http://x\")".to_owned()),
                Just("-".to_owned()),
                Just("'".to_owned()),
                Just("\t".to_owned()),
                "[ -~]{0,8}",
                "\\PC{0,4}",
            ],
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn csv_reads_back_exactly_what_was_written_and_never_a_formula(rows in prop::collection::vec((text(), any::<i64>(), text()), 0..20)) {
            let table = Table {
                section: "test",
                sheet: "Thử",
                columns: columns(&[("title", "Tiêu đề"), ("count", "Số"), ("note", "Ghi chú")]),
                rows: rows.iter().map(|(a, n, b)| vec![Cell::Text(a.clone()), Cell::Int(*n), Cell::Text(b.clone())]).collect(),
            };
            let bytes = table.to_csv(CsvStyle { bom: false, vietnamese_headers: false });
            let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
            prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), vec!["title", "count", "note"]);
            let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            for record in &records {
                prop_assert!(!record[0].starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", &record[0]);
            }
            // A reader gets the text back by dropping one leading `'`.
            let text = |cell: &str| cell.strip_prefix('\'').unwrap_or(cell).to_owned();
            let back: Vec<(String, i64, String)> =
                records.iter().map(|r| (text(&r[0]), r[1].parse().unwrap(), text(&r[2]))).collect();
            prop_assert_eq!(back, rows);
        }
    }
}
