//! The checks every handler shares on the records a request names: that each exists
//! and belongs to the caller's organisation. A missing one is a 422 naming the field;
//! a failing database stays a 503.
use diesel::{OptionalExtension, PgConnection};
use uuid::Uuid;

use crate::{
    db::{
        departments,
        feedback::{CategoryRow, categories},
        organizations, plan_items,
    },
    error::{ApiError, FieldError},
};

/// `field` names a record that does not exist, or is not the organisation's.
pub fn reference_invalid(field: &'static str) -> ApiError {
    ApiError::unprocessable("reference_invalid").with_errors(vec![FieldError::new(field, "reference_invalid")])
}

/// The organisation a record is made for exists.
pub fn organization(conn: &mut PgConnection, org: Uuid) -> Result<(), ApiError> {
    match organizations::find(conn, org, None).optional()? {
        Some(_) => Ok(()),
        None => Err(ApiError::unprocessable("organization_not_found")),
    }
}

/// The department, if one is named, is the organisation's.
pub fn department(conn: &mut PgConnection, department: Option<Uuid>, org: Uuid) -> Result<(), ApiError> {
    if let Some(dept) = department
        && departments::find(conn, dept, Some(org)).optional()?.is_none()
    {
        return Err(ApiError::unprocessable("department_not_found")
            .with_errors(vec![FieldError::new("department_id", "department_not_found")]));
    }
    Ok(())
}

/// The plan item, if one is named, is the organisation's.
pub fn plan_item(conn: &mut PgConnection, item: Option<Uuid>, org: Uuid) -> Result<(), ApiError> {
    if let Some(item) = item
        && plan_items::find(conn, item, Some(org)).optional()?.is_none()
    {
        return Err(reference_invalid("plan_item_id"));
    }
    Ok(())
}

/// The feedback category, if one is named, is the organisation's.
pub fn category(conn: &mut PgConnection, id: Option<Uuid>, org: Uuid) -> Result<Option<CategoryRow>, ApiError> {
    match id {
        None => Ok(None),
        Some(id) => {
            categories::find(conn, id, Some(org)).optional()?.map(Some).ok_or_else(|| reference_invalid("category_id"))
        }
    }
}
