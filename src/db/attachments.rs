//! Files citizens sent with their feedback (`feedback_attachments`).
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::{page::PageRequest, schema::feedback_attachments},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_attachments)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub feedback_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub location_removed: bool,
    pub publishable: bool,
    pub uploaded_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = feedback_attachments)]
pub struct NewAttachment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub feedback_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub location_removed: bool,
    pub uploaded_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = feedback_attachments)]
pub struct AttachmentChanges {
    pub publishable: Option<bool>,
}

org_scoped_fns!(feedback_attachments, AttachmentRow, AttachmentChanges, "feedback_attachment");

pub fn insert(conn: &mut PgConnection, new: &NewAttachment) -> QueryResult<AttachmentRow> {
    diesel::insert_into(feedback_attachments::table)
        .values(new)
        .returning(AttachmentRow::as_returning())
        .get_result(conn)
}

/// A record's live attachments, a page at a time.
pub fn of_feedback(conn: &mut PgConnection, feedback: Uuid, page: &PageRequest) -> QueryResult<Vec<AttachmentRow>> {
    let q = feedback_attachments::table.filter(feedback_attachments::feedback_id.eq(feedback)).into_boxed();
    keyset!(q, feedback_attachments, page).select(AttachmentRow::as_select()).load(conn)
}

/// The live attachments of these records that the coordinator marked publishable, in
/// upload order.
pub fn publishable_of(conn: &mut PgConnection, feedback: &[Uuid]) -> QueryResult<Vec<AttachmentRow>> {
    feedback_attachments::table
        .filter(feedback_attachments::feedback_id.eq_any(feedback))
        .filter(feedback_attachments::publishable.eq(true))
        .filter(feedback_attachments::deleted_at.is_null())
        .order(feedback_attachments::id)
        .select(AttachmentRow::as_select())
        .load(conn)
}

/// The first live attachment of each of these records (its `media_url` in Open311).
pub fn first_of(conn: &mut PgConnection, feedback: &[Uuid]) -> QueryResult<Vec<AttachmentRow>> {
    feedback_attachments::table
        .filter(feedback_attachments::feedback_id.eq_any(feedback))
        .filter(feedback_attachments::deleted_at.is_null())
        .distinct_on(feedback_attachments::feedback_id)
        .order((feedback_attachments::feedback_id, feedback_attachments::id))
        .select(AttachmentRow::as_select())
        .load(conn)
}

/// Which of these content hashes any attachment row (even a deleted one) refers to.
pub fn referenced(conn: &mut PgConnection, hashes: &[String]) -> QueryResult<HashSet<String>> {
    Ok(feedback_attachments::table
        .filter(feedback_attachments::sha256.eq_any(hashes))
        .select(feedback_attachments::sha256)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}
