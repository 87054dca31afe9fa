//! Reports as Excel workbooks (rust_xlsxwriter): a sheet per section with Vietnamese
//! headings, typed cells (numbers, dates, true/false), frozen header row, and charts of
//! verified activities per month and of indicators against their targets.
use chrono::Datelike;
use rust_xlsxwriter::{Chart, ChartType, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::tables::{Cell, Table};

/// Writes one table into a sheet; returns the number of data rows.
fn write_table(sheet: &mut Worksheet, table: &Table, header: &Format, date: &Format) -> Result<u32, XlsxError> {
    sheet.set_name(table.sheet)?;
    for (col, column) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, col_num(col), &column.heading, header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in row.iter().enumerate() {
            let c = col_num(c);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
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
                    sheet.write_datetime_with_format(r, c, &day, date)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                }
                Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_autofit_max_width(400).autofit();
    u32::try_from(table.rows.len()).map_err(|_| XlsxError::RowColumnLimitError)
}

fn col_num(index: usize) -> u16 {
    u16::try_from(index).expect("reports have far fewer than 65536 columns")
}

fn column_of(table: &Table, key: &str) -> Option<u16> {
    table.columns.iter().position(|c| c.key == key).map(col_num)
}

/// A workbook of these tables, with a chart under the activities-per-month and the
/// indicators sheets when they are there and not empty.
pub fn workbook(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_text_wrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for table in tables {
        let sheet = book.add_worksheet();
        let rows = write_table(sheet, table, &header, &date)?;
        if rows == 0 {
            continue;
        }
        let below = rows + 2;
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
                    .set_categories((table.sheet, 1, month, rows, month))
                    .set_values((table.sheet, 1, count, rows, count));
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
                    .set_categories((table.sheet, 1, code, rows, code))
                    .set_values((table.sheet, 1, target, rows, target));
                chart
                    .add_series()
                    .set_name("Giá trị trong kỳ")
                    .set_categories((table.sheet, 1, code, rows, code))
                    .set_values((table.sheet, 1, value, rows, value));
                chart.title().set_name("Tiến độ các chỉ tiêu");
                sheet.insert_chart(below, 0, &chart)?;
            }
            _ => {}
        }
    }
    book.save_to_buffer()
}
