//! Whole collections read for export: which columns, from one consistent snapshot,
//! streamed from the server without holding them — CSV as PostgreSQL writes it
//! (`COPY … TO STDOUT`), NDJSON one JSON line a row.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{
    PgConnection, QueryResult, QueryableByName, RunQueryDsl,
    pg::PgRowByRowLoadingMode,
    sql_query,
    sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

/// A collection that can be exported, with its columns (also the CSV header), named one
/// by one: a column added to a table is exported only once it is listed here. Personal
/// data of feedback senders and internal notes are never exported.
pub struct Collection {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

pub const AUDIT: [&str; 4] = ["version", "created_at", "updated_at", "deleted_at"];

pub const COLLECTIONS: &[Collection] = &[
    Collection {
        name: "plans",
        table: "plans",
        columns: &[
            "id",
            "organization_id",
            "code",
            "year",
            "title",
            "status",
            "period_from",
            "period_to",
            "parent_plan_id",
            "implements_document_id",
        ],
    },
    Collection {
        name: "plan-items",
        table: "plan_items",
        columns: &[
            "id",
            "plan_id",
            "organization_id",
            "parent_id",
            "position",
            "reference",
            "kind",
            "audience",
            "channel",
            "title",
            "body",
            "due_on",
        ],
    },
    Collection {
        name: "indicators",
        table: "indicators",
        columns: &[
            "id",
            "plan_id",
            "organization_id",
            "plan_item_id",
            "code",
            "name",
            "unit",
            "comparator",
            "target_value",
            "baseline",
            "scope",
        ],
    },
    Collection {
        name: "measurements",
        table: "measurements",
        columns: &[
            "id",
            "indicator_id",
            "organization_id",
            "value",
            "measured_on",
            "period",
            "source",
            "citation",
            "link",
            "note",
        ],
    },
    Collection {
        name: "assignments",
        table: "assignments",
        columns: &[
            "id",
            "organization_id",
            "plan_id",
            "plan_item_id",
            "department_id",
            "role",
            "duty",
            "starts_on",
            "due_on",
            "reporting",
            "status",
        ],
    },
    Collection {
        name: "activities",
        table: "activities",
        columns: &[
            "id",
            "organization_id",
            "plan_id",
            "assignment_id",
            "department_id",
            "title",
            "channel",
            "audience",
            "held_from",
            "held_to",
            "place",
            "participant_count",
            "status",
            "submitted_at",
            "verified_at",
        ],
    },
    Collection {
        name: "evidence",
        table: "evidence",
        columns: &[
            "id",
            "organization_id",
            "activity_id",
            "sha256",
            "size_bytes",
            "content_type",
            "file_name",
            "caption",
            "uploaded_by",
        ],
    },
    Collection {
        name: "feedback",
        table: "feedback",
        columns: &[
            "id",
            "organization_id",
            "code",
            "received_at",
            "channel",
            "kind",
            "sender_type",
            "anonymous",
            "subject",
            "content",
            "category_id",
            "plan_item_id",
            "department_id",
            "deadline_on",
            "deadline_reason",
            "external_reference",
            "source_client_id",
            "status",
            "status_reason",
            "forwarded_to",
            "answered_at",
            "closed_at",
            "satisfaction",
            "satisfaction_channel",
            "satisfaction_at",
        ],
    },
];

/// The Vietnamese heading of each export column (`headers=vi`).
pub const HEADINGS: &[(&str, &str)] = &[
    ("id", "Mã định danh"),
    ("organization_id", "Mã định danh tổ chức"),
    ("plan_id", "Mã định danh kế hoạch"),
    ("plan_item_id", "Mã định danh mục kế hoạch"),
    ("parent_id", "Mã định danh mục cha"),
    ("parent_plan_id", "Mã định danh kế hoạch cấp trên"),
    ("implements_document_id", "Mã định danh văn bản được triển khai"),
    ("indicator_id", "Mã định danh chỉ tiêu"),
    ("assignment_id", "Mã định danh phân công"),
    ("activity_id", "Mã định danh hoạt động"),
    ("department_id", "Mã định danh phòng"),
    ("category_id", "Mã định danh lĩnh vực"),
    ("source_client_id", "Mã định danh ứng dụng gửi"),
    ("uploaded_by", "Người tải lên (mã định danh)"),
    ("code", "Mã"),
    ("year", "Năm"),
    ("title", "Tiêu đề"),
    ("name", "Tên"),
    ("status", "Trạng thái"),
    ("status_reason", "Lý do trạng thái"),
    ("period", "Kỳ"),
    ("period_from", "Từ ngày"),
    ("period_to", "Đến ngày"),
    ("reference", "Số hiệu mục"),
    ("position", "Thứ tự"),
    ("kind", "Loại"),
    ("body", "Nội dung"),
    ("audience", "Đối tượng"),
    ("channel", "Hình thức"),
    ("unit", "Đơn vị tính"),
    ("comparator", "So sánh"),
    ("target_value", "Chỉ tiêu"),
    ("baseline", "Giá trị gốc"),
    ("scope", "Phạm vi"),
    ("value", "Giá trị"),
    ("measured_on", "Ngày đo"),
    ("source", "Nguồn"),
    ("citation", "Căn cứ"),
    ("link", "Đường dẫn"),
    ("note", "Ghi chú"),
    ("role", "Vai trò"),
    ("duty", "Nhiệm vụ"),
    ("starts_on", "Ngày bắt đầu"),
    ("due_on", "Hạn hoàn thành"),
    ("reporting", "Chế độ báo cáo"),
    ("held_from", "Bắt đầu lúc"),
    ("held_to", "Kết thúc lúc"),
    ("place", "Địa điểm"),
    ("participant_count", "Số người tham dự"),
    ("submitted_at", "Gửi lúc"),
    ("verified_at", "Xác nhận lúc"),
    ("caption", "Chú thích"),
    ("file_name", "Tên tệp"),
    ("content_type", "Kiểu tệp"),
    ("size_bytes", "Dung lượng (byte)"),
    ("sha256", "Mã băm SHA-256"),
    ("received_at", "Tiếp nhận lúc"),
    ("sender_type", "Đối tượng gửi"),
    ("anonymous", "Ẩn danh"),
    ("subject", "Tiêu đề phản ánh"),
    ("content", "Nội dung phản ánh"),
    ("deadline_on", "Hạn xử lý"),
    ("deadline_reason", "Lý do đổi hạn"),
    ("external_reference", "Số tham chiếu bên ngoài"),
    ("forwarded_to", "Chuyển đến"),
    ("answered_at", "Trả lời lúc"),
    ("closed_at", "Đóng lúc"),
    ("satisfaction", "Mức hài lòng"),
    ("satisfaction_at", "Đánh giá lúc"),
    ("satisfaction_channel", "Kênh đánh giá"),
    ("version", "Phiên bản"),
    ("created_at", "Tạo lúc"),
    ("updated_at", "Cập nhật lúc"),
    ("deleted_at", "Xóa lúc"),
];

/// The heading of `column` for people, in Vietnamese.
pub fn heading(column: &str) -> &str {
    HEADINGS.iter().find(|(key, _)| *key == column).map_or(column, |(_, heading)| heading)
}

/// The names of the collections that can be exported.
pub fn collection_names() -> Vec<&'static str> {
    COLLECTIONS.iter().map(|c| c.name).collect()
}

/// The CSV header of a collection (its columns, then version and timestamps).
pub fn header_of(name: &str) -> Option<Vec<&'static str>> {
    COLLECTIONS.iter().find(|c| c.name == name).map(|c| c.columns.iter().chain(AUDIT.iter()).copied().collect())
}

/// Whether a column holds an instant (`timestamptz`).
fn is_instant(column: &str) -> bool {
    column.ends_with("_at") || matches!(column, "held_from" | "held_to")
}

impl Collection {
    /// One line of JSON per row: the row as an object, or for a deleted one its tombstone.
    fn sql(&self, sync: bool, by_client: bool) -> String {
        let all = self.columns.iter().chain(AUDIT.iter()).copied().collect::<Vec<_>>();
        let table = self.table;
        // Instants in the one form of the API (`2021-03-15T02:00:00.000000Z`), not
        // PostgreSQL's `+00:00`.
        let columns = all
            .iter()
            .map(|c| match is_instant(c) {
                true => format!("{} AS {c}", crate::domain::time::rfc3339::sql(&format!("{table}.{c}"))),
                false => format!("{table}.{c}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut filter = String::from("($1::uuid IS NULL OR organization_id = $1)");
        if sync {
            filter.push_str(" AND updated_at >= $2");
        } else {
            filter.push_str(" AND deleted_at IS NULL AND $2::timestamptz IS NULL");
        }
        if by_client {
            filter.push_str(" AND source_client_id = $3");
        } else {
            filter.push_str(" AND $3::uuid IS NULL");
        }
        let order = if sync { format!("{table}.updated_at, {table}.id") } else { format!("{table}.id") };
        let (row, tombstone) = ("row_to_json(t)", "json_build_object('id', t.id, 'deleted_at', t.deleted_at)");
        format!(
            "SELECT CASE WHEN t.deleted_at IS NULL THEN {row}::text ELSE {tombstone}::text END AS line
             FROM (SELECT {columns} FROM {table} WHERE {filter} ORDER BY {order}) t"
        )
    }

    /// Every column, as the CSV header has them.
    pub fn header(&self) -> Vec<&'static str> {
        self.columns.iter().chain(AUDIT.iter()).copied().collect()
    }
}

/// Which rows an export reads, and how.
pub struct Selection {
    pub org: Option<Uuid>,
    /// The `updated_since` feed (with tombstones), else every live row.
    pub since: Option<DateTime<Utc>>,
    /// Only the rows this service client sent.
    pub client: Option<Uuid>,
}

/// Reads the collection from one consistent snapshot, one JSON line a row, in order,
/// handing each to `each`; `started` is called once the query runs.
pub fn read(
    conn: &mut PgConnection,
    collection: &Collection,
    selection: &Selection,
    started: impl FnOnce(),
    mut each: impl FnMut(&str) -> QueryResult<()>,
) -> QueryResult<()> {
    let sql = collection.sql(selection.since.is_some(), selection.client.is_some());
    conn.build_transaction().read_only().repeatable_read().run(|conn| {
        sql_query("SET LOCAL TIME ZONE 'UTC'").execute(conn)?;
        let rows = sql_query(&sql)
            .bind::<Nullable<SqlUuid>, _>(selection.org)
            .bind::<Nullable<Timestamptz>, _>(selection.since)
            .bind::<Nullable<SqlUuid>, _>(selection.client)
            .load_iter::<Line, PgRowByRowLoadingMode>(conn)?;
        started();
        for row in rows {
            each(&row?.line)?;
        }
        Ok(())
    })
}

/// Reads the collection as CSV rows written by PostgreSQL itself (`COPY (SELECT …) TO
/// STDOUT (FORMAT csv)`), from one consistent snapshot, in order, handing the bytes to
/// `each` as they arrive (records end in `\n`); `started` is called once the copy runs.
///
/// The cells are the values as a CSV writer would write them from JSON: text that a
/// spreadsheet would take for a formula gets its leading `'` in the statement
/// (`spreadsheet_text`, in SQL), booleans are `true`/`false`, numbers and dates as
/// PostgreSQL prints them, instants in the API's form; NULL is an empty cell. (An
/// empty text is `""`, which spreadsheets read as the same empty cell.)
pub fn copy_csv(
    conn: &mut PgConnection,
    collection: &Collection,
    selection: &Selection,
    started: impl FnOnce(),
    mut each: impl FnMut(&[u8]) -> QueryResult<()>,
) -> QueryResult<()> {
    use std::io::BufRead;
    conn.build_transaction().read_only().repeatable_read().run(|conn| {
        sql_query("SET LOCAL TIME ZONE 'UTC'").execute(conn)?;
        // Let PostgreSQL compute the cells in parallel workers (a parallel scan in id
        // order, merged by the leader: `Gather Merge`), which its cost model would not
        // choose for a million rows sent on; the leader is then left with writing the
        // CSV. As many workers as the server's `max_parallel_workers_per_gather` allows.
        sql_query("SET LOCAL parallel_setup_cost = 0").execute(conn)?;
        sql_query("SET LOCAL parallel_tuple_cost = 0").execute(conn)?;
        let types = column_types(conn, collection.table)?;
        let statement = collection.copy_sql(selection, &types);
        COPY_STATEMENT.with(|s| *s.borrow_mut() = statement);
        let mut out = diesel::copy_to(CopySelect).with_format(diesel::pg::CopyFormat::Csv).load_raw(conn)?;
        started();
        loop {
            let read = out.fill_buf().map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            if read.is_empty() {
                return Ok(());
            }
            let n = read.len();
            each(read)?;
            out.consume(n);
        }
    })
}

/// The type of each column of `table` (`format_type`), by name.
fn column_types(conn: &mut PgConnection, table: &str) -> QueryResult<HashMap<String, String>> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        kind: String,
    }
    let columns = sql_query(
        "SELECT attname::text AS name, format_type(atttypid, atttypmod) AS kind FROM pg_attribute \
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
    )
    .bind::<Text, _>(table)
    .load::<Column>(conn)?;
    Ok(columns.into_iter().map(|c| (c.name, c.kind)).collect())
}

thread_local! {
    /// The statement `CopySelect` writes: COPY takes no bound parameters, and diesel's
    /// `copy_to` asks its target for SQL without an instance.
    static COPY_STATEMENT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

diesel::table! {
    /// Never created: the table type `CopySelect` must name.
    cchc_copy_select (line) {
        line -> Text,
    }
}

/// `COPY (<this thread's COPY_STATEMENT>) TO STDOUT`.
struct CopySelect;

impl diesel::pg::CopyTarget for CopySelect {
    type Table = cchc_copy_select::table;
    type SqlType = Text;

    fn walk_target(mut pass: diesel::query_builder::AstPass<'_, '_, diesel::pg::Pg>) -> QueryResult<()> {
        COPY_STATEMENT.with(|statement| {
            pass.push_sql("(");
            pass.push_sql(&statement.borrow());
            pass.push_sql(")");
        });
        Ok(())
    }
}

/// Text that a spreadsheet would take for a formula, with a leading `'` — in SQL, as
/// `domain::reports::spreadsheet_text` does it.
fn spreadsheet_text_sql(column: &str) -> String {
    let leads = crate::domain::reports::FORMULA_LEADS
        .iter()
        .map(|c| match c {
            '\'' => "''''".to_owned(),
            c if c.is_ascii_control() => format!("E'\\x{:02x}'", u32::from(*c)),
            c => format!("'{c}'"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("CASE WHEN left({column}, 1) IN ({leads}) THEN '''' || {column} ELSE {column} END")
}

impl Collection {
    /// The SELECT that `copy_csv` copies: one text cell per column, as the CSV of `read`
    /// has them. Values are literals (COPY takes no parameters), each written from a
    /// typed value (a UUID, an instant), never from text a caller sent.
    fn copy_sql(&self, selection: &Selection, types: &HashMap<String, String>) -> String {
        let table = self.table;
        let cell = |c: &str| {
            let column = format!("{table}.{c}");
            let value = match types.get(c).map_or("text", String::as_str) {
                _ if is_instant(c) => crate::domain::time::rfc3339::sql(&column),
                "boolean" => format!("CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"),
                "text" | "character varying" | "citext" => spreadsheet_text_sql(&column),
                kind if kind.ends_with("[]") || kind.starts_with("json") => format!("to_json({column})::text"),
                _ => format!("{column}::text"),
            };
            // A deleted row in the feed of changes is a tombstone: its id and deletion only.
            match (selection.since.is_some(), c) {
                (false, _) | (true, "id" | "deleted_at") => value,
                (true, _) => format!("CASE WHEN {table}.deleted_at IS NULL THEN {value} END"),
            }
        };
        let cells = self.header().iter().map(|c| cell(c)).collect::<Vec<_>>().join(", ");
        let mut filter = Vec::new();
        if let Some(org) = selection.org {
            filter.push(format!("organization_id = '{org}'::uuid"));
        }
        match selection.since {
            Some(since) => filter.push(format!(
                "updated_at >= '{}'::timestamptz",
                since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )),
            None => filter.push("deleted_at IS NULL".to_owned()),
        }
        if let Some(client) = selection.client {
            filter.push(format!("source_client_id = '{client}'::uuid"));
        }
        let order = match selection.since {
            Some(_) => format!("{table}.updated_at, {table}.id"),
            None => format!("{table}.id"),
        };
        format!("SELECT {cells} FROM {table} WHERE {} ORDER BY {order}", filter.join(" AND "))
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_column_has_a_vietnamese_heading() {
        let missing: Vec<&str> = super::COLLECTIONS
            .iter()
            .flat_map(|c| c.header())
            .filter(|column| !super::HEADINGS.iter().any(|(key, _)| key == column))
            .collect();
        assert!(missing.is_empty(), "columns without a heading: {missing:?}");
    }
}
