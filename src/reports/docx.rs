//! The periodic report on a plan as the Word document officials sign: laid out as
//! Decree 30/2020/NĐ-CP (Appendix I) has administrative documents — the issuing body and
//! the national name and motto in two columns, number and symbol, place and date, the
//! title, the body with its tables, "Nơi nhận" and the signer — on A4 in Times New Roman,
//! with the decree's margins. The figures are the JSON report's, formatted the
//! Vietnamese way (`20.000.000`, `95,5`). Written with docx-rs.
use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType, Table, TableCell,
    TableLayoutType, TableRow, WidthType,
};

use super::{PlanReport, StatusCounts};
use crate::domain::{assignments::AssignmentStatus, budget::PublicationState};

/// Everything the document needs beyond the report's figures.
pub struct Letterhead {
    /// The body above the issuing one (its parent organisation), if any.
    pub governing_body: Option<String>,
    pub organization: String,
    /// For the symbol `BC-<abbreviation>`.
    pub abbreviation: String,
    /// The dateline's place.
    pub place: String,
    /// The day the report is dated (Vietnam).
    pub dated: NaiveDate,
    pub signer_title: String,
    pub signer_name: String,
    /// "Nơi nhận": the plan's recipients.
    pub recipients: Vec<String>,
}

/// The page: A4 portrait; margins of the decree — top and bottom 20 mm, left 30 mm,
/// right 15 mm (in twentieths of a point).
pub const PAGE: (u32, u32) = (11906, 16838);
pub const MARGINS: (i32, i32, i32, i32) = (1134, 1134, 1701, 851);
const FONT: &str = "Times New Roman";
/// 13 pt body text, in half-points.
const BODY: usize = 26;
const SMALL: usize = 24;
const TINY: usize = 22;
/// The text width between the margins, for the tables' columns.
const WIDTH: usize = 11906 - 1701 - 851;

fn run(text: impl Into<String>) -> Run {
    Run::new().add_text(text.into())
}

fn para(align: AlignmentType) -> Paragraph {
    Paragraph::new().align(align).line_spacing(LineSpacing::new().before(0).after(60))
}

/// A body paragraph: justified, its first line indented 1 cm.
fn body(text: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().before(0).after(120))
        .add_run(run(text).size(BODY))
}

fn heading(text: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().before(120).after(120))
        .keep_next(true)
        .add_run(run(text).size(BODY).bold())
}

/// `20000000` as `20.000.000`.
pub fn money(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if amount < 0 { format!("-{out}") } else { out }
}

/// `95.5` as `95,5`; whole numbers without decimals.
pub fn number(value: f64) -> String {
    let text = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.2}") };
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    text.replace('.', ",")
}

/// The dateline as the decree writes it: days below 10 and the months January and
/// February with a leading zero (`ngày 05 tháng 02 năm 2021`, `ngày 15 tháng 7 năm 2021`).
pub fn dateline(place: &str, day: NaiveDate) -> String {
    let month = if day.month() < 3 { format!("{:02}", day.month()) } else { day.month().to_string() };
    format!("{place}, ngày {:02} tháng {month} năm {}", day.day(), day.year())
}

/// A table with a header row (bold, centred) and rows of cells; `widths` in twips sum
/// to the text width.
fn table(widths: &[usize], header: &[&str], rows: Vec<Vec<String>>) -> Table {
    let cell = |text: &str, width: usize, bold: bool, align: AlignmentType| {
        let mut r = run(text).size(TINY);
        if bold {
            r = r.bold();
        }
        TableCell::new().width(width, WidthType::Dxa).add_paragraph(Paragraph::new().align(align).add_run(r))
    };
    let mut out =
        vec![TableRow::new(header.iter().zip(widths).map(|(h, w)| cell(h, *w, true, AlignmentType::Center)).collect())];
    for row in rows {
        out.push(TableRow::new(
            row.iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (text, w))| {
                    let numeric =
                        i > 0 && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '%'));
                    cell(text, *w, false, if numeric { AlignmentType::Right } else { AlignmentType::Left })
                })
                .collect(),
        ));
    }
    Table::new(out).set_grid(widths.to_vec()).layout(TableLayoutType::Fixed).width(WIDTH, WidthType::Dxa)
}

/// Columns in proportion to `parts`, filling the text width.
fn widths(parts: &[usize]) -> Vec<usize> {
    let total: usize = parts.iter().sum();
    let mut out: Vec<usize> = parts.iter().map(|p| WIDTH * p / total).collect();
    let used: usize = out.iter().sum();
    if let Some(last) = out.last_mut() {
        *last += WIDTH - used;
    }
    out
}

fn status_vi(counts: &StatusCounts) -> String {
    format!(
        "{} giao; {} đang thực hiện; {} hoàn thành; {} quá hạn",
        counts.assigned + counts.in_progress + counts.done + counts.cancelled,
        counts.in_progress,
        counts.done,
        counts.overdue
    )
}

/// The heading block: two columns without borders.
fn letterhead(head: &Letterhead) -> Table {
    // About 6.5 cm and 10 cm: the national name fits one line at 12 pt.
    let left_width = WIDTH * 40 / 100;
    let right_width = WIDTH - left_width;
    let centred = |text: &str, size: usize, bold: bool| {
        let mut r = run(text).size(size);
        if bold {
            r = r.bold();
        }
        para(AlignmentType::Center).add_run(r)
    };
    let mut left = TableCell::new().width(left_width, WidthType::Dxa);
    if let Some(body) = &head.governing_body {
        left = left.add_paragraph(centred(&body.to_uppercase(), SMALL, false));
    }
    left = left
        .add_paragraph(centred(&head.organization.to_uppercase(), SMALL, true))
        .add_paragraph(centred("———", SMALL, false))
        .add_paragraph(centred(&format!("Số:        /BC-{}", head.abbreviation), BODY, false));
    let right = TableCell::new()
        .width(right_width, WidthType::Dxa)
        .add_paragraph(centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", SMALL, true))
        .add_paragraph(centred("Độc lập - Tự do - Hạnh phúc", BODY, true))
        .add_paragraph(centred("———————————", SMALL, false))
        .add_paragraph(para(AlignmentType::Center).add_run(run(dateline(&head.place, head.dated)).size(BODY).italic()));
    Table::new(vec![TableRow::new(vec![left, right])])
        .set_grid(vec![left_width, right_width])
        .layout(TableLayoutType::Fixed)
        .width(WIDTH, WidthType::Dxa)
        .clear_all_border()
}

/// "Nơi nhận" on the left, the signer on the right, without borders.
fn signature(head: &Letterhead) -> Table {
    let left_width = WIDTH / 2;
    let right_width = WIDTH - left_width;
    let mut left = TableCell::new()
        .width(left_width, WidthType::Dxa)
        .add_paragraph(para(AlignmentType::Left).add_run(run("Nơi nhận:").size(SMALL).bold().italic()));
    for (i, recipient) in head.recipients.iter().enumerate() {
        let end = if i + 1 == head.recipients.len() { "." } else { ";" };
        left = left.add_paragraph(para(AlignmentType::Left).add_run(run(format!("- {recipient}{end}")).size(TINY)));
    }
    let mut right = TableCell::new()
        .width(right_width, WidthType::Dxa)
        .add_paragraph(para(AlignmentType::Center).add_run(run(head.signer_title.to_uppercase()).size(BODY).bold()));
    for _ in 0..4 {
        right = right.add_paragraph(para(AlignmentType::Center));
    }
    right = right.add_paragraph(para(AlignmentType::Center).add_run(run(head.signer_name.clone()).size(BODY).bold()));
    Table::new(vec![TableRow::new(vec![left, right])])
        .set_grid(vec![left_width, right_width])
        .layout(TableLayoutType::Fixed)
        .width(WIDTH, WidthType::Dxa)
        .clear_all_border()
}

/// The headings of the body, in order (the test reads them back).
pub const PARTS: [&str; 7] = [
    "I. KẾT QUẢ THỰC HIỆN CÁC NỘI DUNG CỦA KẾ HOẠCH",
    "II. KẾT QUẢ THỰC HIỆN CỦA CÁC PHÒNG",
    "III. CHỈ TIÊU VÀ KẾT QUẢ",
    "IV. HOẠT ĐỘNG TUYÊN TRUYỀN VÀ MINH CHỨNG",
    "V. ĐĂNG TẢI VĂN BẢN TRÊN TRANG THÔNG TIN ĐIỆN TỬ",
    "VI. TIẾP NHẬN, XỬ LÝ PHẢN ÁNH, KIẾN NGHỊ",
    "VII. KINH PHÍ THỰC HIỆN",
];

/// The report as a `.docx` file.
pub fn document(report: &PlanReport, head: &Letterhead) -> Result<Vec<u8>, docx_rs::DocxError> {
    let mut doc = opening(
        head,
        &format!("Kết quả thực hiện {}", report.plan.title),
        &report.period.label_vi(),
        &format!(
            "Thực hiện {} (mã {}), {} báo cáo kết quả thực hiện trong kỳ như sau:",
            report.plan.title, report.plan.code, head.organization
        ),
    );

    // I. Items.
    doc = doc.add_paragraph(heading(PARTS[0]));
    let done = report.items.iter().flat_map(|i| &i.assignments).filter(|a| a.status == AssignmentStatus::Done).count();
    let assigned: usize = report.items.iter().map(|i| i.assignments.len()).sum();
    doc = doc.add_paragraph(body(format!(
        "Kế hoạch có {} nội dung; {assigned} nhiệm vụ được giao cho các phòng, trong đó {done} nhiệm vụ đã hoàn thành. Bảng dưới đây liệt kê các phần của Kế hoạch và các nội dung đã được giao hoặc đã có hoạt động trong kỳ.",
        report.items.iter().filter(|i| i.item_id.is_some()).count()
    )));
    // The parts of the plan, and the items that were assigned or carried out.
    let rows = report
        .items
        .iter()
        .filter(|i| i.depth == 0 || !i.assignments.is_empty() || i.verified_activities > 0)
        .map(|i| {
            let departments: Vec<String> =
                i.assignments.iter().map(|a| format!("{} ({})", a.department_code, a.status.label())).collect();
            vec![
                i.reference.clone(),
                format!("{}{}", "  ".repeat(i.depth as usize), i.title),
                departments.join("; "),
                i.verified_activities.to_string(),
                i.evidence_files.to_string(),
            ]
        })
        .collect();
    doc = doc.add_table(table(
        &widths(&[10, 50, 22, 9, 9]),
        &["Số hiệu", "Nội dung", "Phòng thực hiện", "Hoạt động", "Minh chứng"],
        rows,
    ));

    // II. Departments.
    doc = doc.add_paragraph(heading(PARTS[1]));
    let rows = report
        .departments
        .iter()
        .map(|d| {
            vec![
                format!("{} — {}", d.code, d.name),
                status_vi(&d.assignments),
                d.verified_activities.to_string(),
                d.evidence_files.to_string(),
                format!("{}/{}/{}", d.reports.on_time, d.reports.late, d.reports.missing),
            ]
        })
        .collect();
    doc = doc.add_table(table(
        &widths(&[28, 34, 12, 12, 14]),
        &["Phòng", "Nhiệm vụ", "Hoạt động", "Minh chứng", "Báo cáo đúng hạn/trễ/thiếu"],
        rows,
    ));

    // III. Indicators.
    doc = doc.add_paragraph(heading(PARTS[2]));
    let rows = report
        .indicators
        .iter()
        .map(|i| {
            vec![
                format!("{} — {}", i.code, i.name),
                i.target_value.map(number).unwrap_or_default(),
                i.value.map(number).unwrap_or_else(|| "chưa có số liệu".to_owned()),
                i.status.label().to_owned(),
            ]
        })
        .collect();
    doc = doc.add_table(table(&widths(&[50, 15, 17, 18]), &["Chỉ tiêu", "Mục tiêu", "Kết quả", "Đánh giá"], rows));

    // IV. Activities.
    doc = doc.add_paragraph(heading(PARTS[3]));
    let activities: i64 = report.activities_by_month.iter().map(|m| m.verified_activities).sum();
    let evidence: i64 = report.activities_by_month.iter().map(|m| m.evidence_files).sum();
    doc = doc.add_paragraph(body(format!(
        "Trong kỳ đã tổ chức {activities} hoạt động tuyên truyền được xác nhận, với {evidence} tệp minh chứng."
    )));
    let rows = report
        .activities_by_month
        .iter()
        .map(|m| vec![m.month.clone(), m.verified_activities.to_string(), m.evidence_files.to_string()])
        .collect();
    doc = doc.add_table(table(&widths(&[40, 30, 30]), &["Tháng", "Hoạt động đã xác nhận", "Tệp minh chứng"], rows));

    // V. Publications.
    doc = doc.add_paragraph(heading(PARTS[4]));
    let p = &report.publications;
    doc = doc.add_paragraph(body(format!(
        "Trong kỳ có {} văn bản phải đăng tải: {} văn bản đăng đúng hạn (trong {} ngày làm việc kể từ ngày ban hành), {} văn bản đăng trễ hạn, {} văn bản quá hạn chưa đăng, {} văn bản chưa đến hạn đăng; tỷ lệ đăng đúng hạn {}.",
        p.documents.len(),
        p.on_time,
        p.within_working_days,
        p.late,
        p.unposted,
        p.pending,
        p.timeliness_percent.map_or_else(|| "chưa xác định".to_owned(), |v| format!("{}%", number(v))),
    )));
    let rows: Vec<Vec<String>> = p
        .documents
        .iter()
        .filter(|d| matches!(d.state, PublicationState::Late | PublicationState::Unposted))
        .map(|d| {
            vec![
                d.number.clone(),
                d.issued_on.format("%d/%m/%Y").to_string(),
                d.posted_on.map(|p| p.format("%d/%m/%Y").to_string()).unwrap_or_default(),
                d.working_days.map(|w| w.to_string()).unwrap_or_default(),
                d.state.label().to_owned(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        doc = doc.add_table(table(
            &widths(&[28, 18, 18, 14, 22]),
            &["Văn bản", "Ngày ban hành", "Ngày đăng", "Số ngày làm việc", "Đánh giá"],
            rows,
        ));
    }

    // VI. Feedback.
    doc = doc.add_paragraph(heading(PARTS[5]));
    let f = &report.feedback.total;
    doc = doc.add_paragraph(body(format!(
        "Trong kỳ tiếp nhận {} phản ánh, kiến nghị ({} vụ việc); đã trả lời {}, trong đó {} đúng hạn; {} quá hạn chưa trả lời; {} được gia hạn. Tỷ lệ hài lòng: {}.",
        f.received,
        f.matters,
        f.answered,
        f.answered_on_time,
        f.overdue,
        f.extended,
        f.satisfaction_rate.map_or_else(|| "chưa có đánh giá".to_owned(), |v| format!("{}%", number(v))),
    )));
    let rows = report
        .feedback
        .by_channel
        .iter()
        .map(|g| {
            let channel = g
                .key
                .as_deref()
                .and_then(crate::domain::feedback::FeedbackChannel::parse)
                .map_or_else(|| g.key.clone().unwrap_or_default(), |c| c.label().to_owned());
            vec![
                channel,
                g.stats.received.to_string(),
                g.stats.answered.to_string(),
                g.stats.answered_on_time.to_string(),
                g.stats.overdue.to_string(),
            ]
        })
        .collect();
    doc = doc.add_table(table(
        &widths(&[32, 17, 17, 17, 17]),
        &["Kênh tiếp nhận", "Tiếp nhận", "Đã trả lời", "Đúng hạn", "Quá hạn"],
        rows,
    ));

    // VII. Budget.
    doc = doc.add_paragraph(heading(PARTS[6]));
    let b = &report.budget;
    doc = doc.add_paragraph(body(format!(
        "Dự toán {} đồng; đã cấp {} đồng; đã chi {} đồng; đã quyết toán {} đồng; chênh lệch so với dự toán {} đồng.",
        money(b.total.estimate),
        money(b.total.allocated),
        money(b.total.spent),
        money(b.total.settled),
        money(b.total.variance),
    )));
    let mut rows: Vec<Vec<String>> = b
        .lines
        .iter()
        .map(|l| {
            vec![
                format!("{}. {}", l.code, l.title),
                money(l.figures.estimate),
                money(l.figures.allocated),
                money(l.figures.spent),
                money(l.figures.settled),
                money(l.figures.variance),
            ]
        })
        .collect();
    rows.push(vec![
        "Tổng cộng".to_owned(),
        money(b.total.estimate),
        money(b.total.allocated),
        money(b.total.spent),
        money(b.total.settled),
        money(b.total.variance),
    ]);
    doc = doc.add_table(table(
        &widths(&[30, 14, 14, 14, 14, 14]),
        &["Nội dung chi", "Dự toán", "Đã cấp", "Đã chi", "Quyết toán", "Chênh lệch"],
        rows,
    ));
    closing(doc, head)
}

/// The page, the heading block, the title (*BÁO CÁO* and what it is about), the period
/// and the opening sentence.
fn opening(head: &Letterhead, about: &str, period: &str, intro: &str) -> Docx {
    let fonts = RunFonts::new().ascii(FONT).hi_ansi(FONT).east_asia(FONT).cs(FONT);
    let (top, bottom, left, right) = MARGINS;
    Docx::new()
        .page_size(PAGE.0, PAGE.1)
        .page_margin(PageMargin::new().top(top).bottom(bottom).left(left).right(right).header(720).footer(720))
        .default_fonts(fonts)
        .default_size(BODY)
        .add_table(letterhead(head))
        .add_paragraph(para(AlignmentType::Center))
        .add_paragraph(para(AlignmentType::Center).add_run(run("BÁO CÁO").size(28).bold()))
        .add_paragraph(para(AlignmentType::Center).add_run(run(about).size(28).bold()))
        .add_paragraph(para(AlignmentType::Center).add_run(run(format!("Kỳ báo cáo: {period}")).size(BODY)))
        .add_paragraph(para(AlignmentType::Center).add_run(run("———").size(BODY)))
        .add_paragraph(body(intro))
}

/// The closing sentence, "Nơi nhận" and the signer; the file.
fn closing(doc: Docx, head: &Letterhead) -> Result<Vec<u8>, docx_rs::DocxError> {
    let doc = doc
        .add_paragraph(body("Trên đây là báo cáo kết quả thực hiện trong kỳ./."))
        .add_paragraph(para(AlignmentType::Left))
        .add_table(signature(head));
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out)?;
    Ok(out.into_inner())
}

/// The headings of the roll-up's body, in order.
pub const ROLLUP_PARTS: [&str; 3] = [
    "I. KẾT QUẢ THỰC HIỆN CỦA CÁC ĐƠN VỊ",
    "II. KẾT QUẢ THEO NỘI DUNG CỦA KẾ HOẠCH",
    "III. ĐƠN VỊ CHƯA CÓ KẾ HOẠCH THỰC HIỆN",
];

fn rate(value: Option<f64>) -> String {
    value.map(|v| format!("{}%", number(v))).unwrap_or_default()
}

/// The roll-up of a plan over the units below as the official document of the
/// organisation above (the province's compiled report).
pub fn rollup_document(rollup: &super::rollup::Rollup, head: &Letterhead) -> Result<Vec<u8>, docx_rs::DocxError> {
    let mut doc = opening(
        head,
        &format!("Tổng hợp kết quả thực hiện {} của các đơn vị", rollup.plan.title),
        &rollup.period.label_vi(),
        &format!(
            "Thực hiện {} (mã {}), {} tổng hợp kết quả thực hiện của {} đơn vị trong kỳ như sau:",
            rollup.plan.title,
            rollup.plan.code,
            head.organization,
            rollup.units.len()
        ),
    );

    doc = doc.add_paragraph(heading(ROLLUP_PARTS[0]));
    let rows = rollup
        .units
        .iter()
        .map(|u| {
            vec![
                u.rank.map(|r| r.to_string()).unwrap_or_default(),
                format!("{} — {}", u.code, u.name),
                format!("{}/{}/{}", u.reports.on_time, u.reports.late, u.reports.missing),
                rate(u.indicators_met_rate),
                format!("{}/{}/{}", u.feedback.received, u.feedback.answered_on_time, u.feedback.overdue),
                u.score.map(number).unwrap_or_default(),
            ]
        })
        .collect();
    doc = doc.add_table(table(
        &widths(&[8, 34, 16, 12, 18, 12]),
        &["Xếp hạng", "Đơn vị", "Báo cáo đúng hạn/trễ/thiếu", "Chỉ tiêu đạt", "Phản ánh nhận/đúng hạn/quá hạn", "Điểm"],
        rows,
    ));

    doc = doc.add_paragraph(heading(ROLLUP_PARTS[1]));
    let rows = rollup
        .items
        .iter()
        .filter(|i| i.depth == 0 || i.units > 0)
        .map(|i| {
            let activities: i64 = i.implementations.iter().map(|m| m.verified_activities).sum();
            let evidence: i64 = i.implementations.iter().map(|m| m.evidence_files).sum();
            vec![
                i.reference.clone(),
                format!("{}{}", "  ".repeat(i.depth.max(0) as usize), i.title),
                i.units.to_string(),
                activities.to_string(),
                evidence.to_string(),
            ]
        })
        .collect();
    doc = doc.add_table(table(
        &widths(&[10, 54, 12, 12, 12]),
        &["Số hiệu", "Nội dung", "Số đơn vị thực hiện", "Hoạt động", "Minh chứng"],
        rows,
    ));

    doc = doc.add_paragraph(heading(ROLLUP_PARTS[2]));
    if rollup.missing.is_empty() {
        doc = doc.add_paragraph(body("Tất cả các đơn vị đã ban hành kế hoạch thực hiện."));
    } else {
        for m in &rollup.missing {
            doc = doc.add_paragraph(body(format!("- {} ({}).", m.name, m.code)));
        }
    }
    closing(doc, head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_vietnamese_way() {
        assert_eq!(money(0), "0");
        assert_eq!(money(999), "999");
        assert_eq!(money(20_000_000), "20.000.000");
        assert_eq!(money(-1_250_000), "-1.250.000");
        assert_eq!(number(95.5), "95,5");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(33.33), "33,33");
    }

    #[test]
    fn the_dateline_pads_as_the_decree_says() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(dateline("Khánh Hòa", d("2021-07-15")), "Khánh Hòa, ngày 15 tháng 7 năm 2021");
        assert_eq!(dateline("Khánh Hòa", d("2021-02-05")), "Khánh Hòa, ngày 05 tháng 02 năm 2021");
    }
}
