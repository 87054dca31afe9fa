//! Reports as Excel workbooks (rust_xlsxwriter): a sheet per section with Vietnamese
//! headings, typed cells (numbers, dates, true/false), frozen header row, and charts of
//! verified activities per month and of indicators against their targets.
use chrono::Datelike;
use rust_xlsxwriter::{Chart, ChartType, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::tables::{Cell, Table};

/// The formats of a sheet.
struct Formats {
    title: Format,
    header: Format,
    date: Format,
}

/// Writes one table into a sheet, under the title block (a line each, then a blank
/// row); returns the row of the header and the number of data rows.
fn write_table(sheet: &mut Worksheet, table: &Table, title: &[String], f: &Formats) -> Result<(u32, u32), XlsxError> {
    sheet.set_name(table.sheet)?;
    for (i, line) in title.iter().enumerate() {
        let row = u32::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)?;
        sheet.write_string_with_format(row, 0, line, &f.title)?;
    }
    let head = if title.is_empty() {
        0
    } else {
        u32::try_from(title.len() + 1).map_err(|_| XlsxError::RowColumnLimitError)?
    };
    for (col, column) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(head, col_num(col), &column.heading, &f.header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r).ok().and_then(|r| r.checked_add(head + 1)).ok_or(XlsxError::RowColumnLimitError)?;
        for (c, cell) in row.iter().enumerate() {
            let c = col_num(c);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Code { label, .. } => {
                    sheet.write_string(r, c, *label)?;
                }
                Cell::Int(n) => {
                    // Counts are far below 2^53: exact as an Excel number.
                    sheet.write_number(r, c, *n as f64)?;
                }
                Cell::Num(x) => {
                    sheet.write_number(r, c, *x)?;
                }
                Cell::Date(d) => {
                    let day = ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).map_err(|_| XlsxError::DateTimeRangeError(d.to_string()))?,
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    sheet.write_datetime_with_format(r, c, &day, &f.date)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                }
                Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(head + 1, 0)?;
    sheet.set_autofit_max_width(400).autofit();
    // The title's long lines do not widen the first column.
    sheet.set_column_width(0, 18)?;
    Ok((head, u32::try_from(table.rows.len()).map_err(|_| XlsxError::RowColumnLimitError)?))
}

fn col_num(index: usize) -> u16 {
    u16::try_from(index).expect("reports have far fewer than 65536 columns")
}

fn column_of(table: &Table, key: &str) -> Option<u16> {
    table.columns.iter().position(|c| c.key == key).map(col_num)
}

/// A workbook of these tables, each sheet under the same title block (organisation,
/// plan, period, when it was made), with a chart under the activities-per-month and the
/// indicators sheets when they are there and not empty.
pub fn workbook(tables: &[Table], title: &[String]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let formats = Formats {
        title: Format::new().set_bold(),
        header: Format::new().set_bold().set_text_wrap(),
        date: Format::new().set_num_format("dd/mm/yyyy"),
    };
    for table in tables {
        let table = &table.for_people();
        let sheet = book.add_worksheet();
        let (head, rows) = write_table(sheet, table, title, &formats)?;
        if rows == 0 {
            continue;
        }
        let (first, last) = (head + 1, head + rows);
        let below = last + 2;
        match table.section {
            "activities_by_month" => {
                let (Some(month), Some(count)) = (column_of(table, "month"), column_of(table, "verified_activities"))
                else {
                    continue;
                };
                let mut chart = Chart::new(ChartType::Column);
                chart
                    .add_series()
                    .set_name("Hoạt động đã xác nhận")
                    .set_categories((table.sheet, first, month, last, month))
                    .set_values((table.sheet, first, count, last, count));
                chart.title().set_name("Hoạt động tuyên truyền theo tháng");
                sheet.insert_chart(below, 0, &chart)?;
            }
            "indicators" => {
                let (Some(code), Some(target), Some(value)) =
                    (column_of(table, "code"), column_of(table, "target_value"), column_of(table, "value"))
                else {
                    continue;
                };
                let mut chart = Chart::new(ChartType::Bar);
                chart
                    .add_series()
                    .set_name("Chỉ tiêu")
                    .set_categories((table.sheet, first, code, last, code))
                    .set_values((table.sheet, first, target, last, target));
                chart
                    .add_series()
                    .set_name("Giá trị trong kỳ")
                    .set_categories((table.sheet, first, code, last, code))
                    .set_values((table.sheet, first, value, last, value));
                chart.title().set_name("Tiến độ các chỉ tiêu");
                sheet.insert_chart(below, 0, &chart)?;
            }
            _ => {}
        }
    }
    book.save_to_buffer()
}
