//! Plan items: the tree of parts, sections, objectives, requirements, content topics,
//! channels and tasks of a plan.
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Cited,
        audit::{self, Actor, Event},
        documents,
        plan_items::{self as store, NewPlanItem, PlanItemChanges, PlanItemRow},
        plans::{self, PlanRow},
    },
    domain::{
        plans::{Audience, Channel, ItemKind},
        validate,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::ok_with_etag,
        json::double_option,
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::{
        crud::{self, Resource},
        plans::ensure_open,
    },
    state::AppState,
};

/// An item of a plan, in its place in the tree.
#[derive(Serialize, ToSchema, Clone)]
pub struct PlanItem {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The item it sits under; `null` at the top level.
    pub parent_id: Option<Uuid>,
    /// Its place among its siblings, from 0.
    pub position: i32,
    /// Unique within the plan, e.g. `II.1.7` or `II.3.đ`.
    #[schema(example = "II.1.7")]
    pub reference: String,
    pub kind: ItemKind,
    pub audience: Option<Audience>,
    /// For `channel` items: the form of communication the plan asks for.
    pub channel: Option<Channel>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// The item of the parent plan (the plan this plan implements) that this one
    /// carries out; the province's roll-up counts it there.
    pub implements_item_id: Option<Uuid>,
    /// Documents the item cites, in order.
    pub document_ids: Vec<Uuid>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Cited<PlanItemRow>> for PlanItem {
    fn from(c: Cited<PlanItemRow>) -> Self {
        let r = c.row;
        Self {
            id: r.id,
            plan_id: r.plan_id,
            parent_id: r.parent_id,
            position: r.position,
            reference: r.reference,
            kind: r.kind,
            audience: r.audience,
            channel: r.channel,
            title: r.title,
            body: r.body,
            due_on: r.due_on,
            implements_item_id: r.implements_item_id,
            document_ids: c.documents,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for PlanItem {
    type Row = Cited<PlanItemRow>;
    const COLLECTION: &'static str = "/api/v1/plan-items";
}

/// An item with its children, for `view=tree`.
#[derive(Serialize, ToSchema)]
pub struct PlanItemNode {
    #[serde(flatten)]
    pub item: PlanItem,
    #[schema(no_recursion)]
    pub children: Vec<PlanItemNode>,
}

/// The whole tree of a plan, in order.
#[derive(Serialize, ToSchema)]
pub struct PlanItemTree {
    pub plan_id: Uuid,
    /// How many items the tree holds.
    pub count: usize,
    /// The top-level items, each with its `children`.
    pub items: Vec<PlanItemNode>,
    /// Always `null`: the whole tree is in this answer.
    pub next_cursor: Option<String>,
}

/// A page of items, or with `view=tree` the whole tree.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum PlanItemListing {
    Page(Page<PlanItem>),
    Tree(PlanItemTree),
}

/// Digits, Latin letters with Vietnamese ones (`đ`, `ư`, `ạ`…), `.`, `-`, `_`, `/`, `(`, `)`:
/// the same set as the schema's pattern.
fn valid_reference(value: &str) -> Result<(), ValidationError> {
    let letter = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, 'À'..='Ö' | 'Ø'..='ö' | 'ø'..='ɏ' | 'Ḁ'..='ỿ')
            || matches!(c, '.' | '-' | '_' | '/' | '(' | ')')
    };
    let ok = !value.is_empty() && value.chars().count() <= 32 && value.chars().all(letter);
    if ok { Ok(()) } else { Err(ValidationError::new("invalid_format")) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "II.1.11", "kind": "content", "parent_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e",
    "audience": "staff", "title": "Kết quả thực hiện Đề án 06 về dữ liệu dân cư"}))]
pub struct CreatePlanItem {
    /// 1–32 digits, Latin (and Vietnamese) letters, `.`, `-`, `_`, `/`, `(`, `)`; unique within the plan.
    #[validate(custom(function = "valid_reference"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[0-9A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ._/()-]{1,32}$")]
    pub reference: String,
    pub kind: ItemKind,
    /// An item of the same plan; absent for the top level.
    pub parent_id: Option<Uuid>,
    /// Place among the siblings, from 0; absent (or beyond the end) means last.
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i32>,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub body: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// An item of the parent plan (`parent_plan_id` of this plan) that this one
    /// carries out.
    pub implements_item_id: Option<Uuid>,
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub document_ids: Vec<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one. Changing
/// `parent_id` or `position` moves the item (and its subtree).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlanItem {
    #[validate(custom(function = "valid_reference"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[0-9A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ._/()-]{1,32}$")]
    pub reference: Option<String>,
    pub kind: Option<ItemKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[validate(range(min = 0, max = 100000))]
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Audience>)]
    pub audience: Option<Option<Audience>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Channel>)]
    pub channel: Option<Option<Channel>>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20000))]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub body: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub implements_item_id: Option<Option<Uuid>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub document_ids: Option<Vec<Uuid>>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ItemView {
    Flat,
    Tree,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// `flat` (default): a page of items; `tree`: the whole tree nested, in order, in
    /// one answer (no paging or other filters then).
    #[param(inline)]
    pub view: Option<ItemView>,
    pub kind: Option<ItemKind>,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    /// Children of this item.
    pub parent_id: Option<Uuid>,
    /// Words in the reference, title or body, regardless of case and Vietnamese
    /// diacritics (`dich vu cong` finds `dịch vụ công`).
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteItemParams {
    /// Also delete the items below it (and unlink indicators that measured them);
    /// without it, an item with children or indicators is a 409.
    pub cascade: Option<bool>,
}

/// The plan, which must be open to change its items.
fn open_plan(conn: &mut PgConnection, plan: Uuid, org: Option<Uuid>) -> Result<PlanRow, ApiError> {
    let row = plans::find(conn, plan, org)?;
    ensure_open(row.status)?;
    Ok(row)
}

/// An implemented item must be a live item of the plan's parent plan.
fn check_implements(conn: &mut PgConnection, plan: &PlanRow, item: Option<Uuid>) -> Result<(), ApiError> {
    let Some(item) = item else { return Ok(()) };
    let refused = || ApiError::rule("implements_item_id", "implements_not_in_parent_plan");
    let Some(parent_plan) = plan.parent_plan_id else { return Err(refused()) };
    match store::find(conn, item, None) {
        Ok(found) if found.plan_id == parent_plan => Ok(()),
        Ok(_) | Err(diesel::result::Error::NotFound) => Err(refused()),
        Err(e) => Err(e.into()),
    }
}

/// The parent must be a live item of the same plan.
fn check_parent(conn: &mut PgConnection, plan: Uuid, parent: Option<Uuid>) -> Result<(), ApiError> {
    if let Some(parent) = parent {
        match store::find(conn, parent, None) {
            Ok(p) if p.plan_id == plan => {}
            _ => {
                return Err(ApiError::unprocessable("parent_other_plan")
                    .with_errors(vec![FieldError::new("parent_id", "parent_other_plan")]));
            }
        }
    }
    Ok(())
}

fn check_documents(conn: &mut PgConnection, org: Uuid, ids: &[Uuid]) -> Result<(), ApiError> {
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(ApiError::field("document_ids", "duplicate"));
    }
    if !unique.is_empty() && documents::of_org(conn, org, &unique)?.len() != unique.len() {
        return Err(ApiError::unprocessable("reference_invalid")
            .with_errors(vec![FieldError::new("document_ids", "reference_invalid")]));
    }
    Ok(())
}

/// Nests items (siblings already in order) under their parents.
fn tree(items: Vec<PlanItem>) -> Vec<PlanItemNode> {
    let mut children: HashMap<Option<Uuid>, Vec<PlanItem>> = HashMap::new();
    for item in items {
        children.entry(item.parent_id).or_default().push(item);
    }
    fn build(parent: Option<Uuid>, children: &mut HashMap<Option<Uuid>, Vec<PlanItem>>) -> Vec<PlanItemNode> {
        let items = children.remove(&parent).unwrap_or_default();
        items
            .into_iter()
            .map(|item| {
                let id = item.id;
                PlanItemNode { item, children: build(Some(id), children) }
            })
            .collect()
    }
    build(None, &mut children)
}

/// List a plan's items, as pages or (`view=tree`) as the whole tree.
#[utoipa::path(
    tag = "plan-items",
    params(("plan_id" = Uuid, Path), PageParams, ItemFilter),
    responses((status = 200, description = "A page of items, or with `view=tree` the whole tree.", body = PlanItemListing,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{plan_id}/items")]
pub async fn list_plan_items(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ListQuery<ItemFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansRead)?;
    let (plan_id, org) = (plan_id.into_inner(), principal.organization_id);
    let ListQuery { page, filter } = query;
    if filter.view == Some(ItemView::Tree) {
        let extra = form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| k != "view");
        if extra {
            return Err(ApiError::rule("view", "tree_view_unpaged"));
        }
        let items = db::run(&state.pool, move |conn| {
            plans::find_readable(conn, plan_id, org)?;
            let rows = store::all_of_plan(conn, plan_id)?;
            Ok(Cited::load_all(conn, rows)?)
        })
        .await?;
        let items: Vec<PlanItem> = items.into_iter().map(PlanItem::from).collect();
        let count = items.len();
        return Ok(HttpResponse::Ok().json(PlanItemTree { plan_id, count, items: tree(items), next_cursor: None }));
    }
    let filter = store::Filter {
        kind: filter.kind,
        audience: filter.audience,
        channel: filter.channel,
        parent_id: filter.parent_id,
        q: filter.q,
    };
    crud::list::<PlanItem, _>(&req, &state, page, move |conn, page| {
        plans::find_readable(conn, plan_id, org)?;
        let rows = store::list(conn, plan_id, &filter, page)?;
        Cited::load_all(conn, rows)
    })
    .await
}

/// Read a plan item.
#[utoipa::path(
    tag = "plan-items",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The item.", body = PlanItem, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_plan_item(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::PlansRead)?;
    let (id, org) = (id.into_inner(), auth.0.organization_id);
    let item = db::run(&state.pool, move |conn| {
        let row = store::find(conn, id, None)?;
        plans::find_readable(conn, row.plan_id, org)?;
        Ok(Cited::load_all(conn, vec![row])?.remove(0))
    })
    .await?;
    Ok(ok_with_etag(item.row.version, &PlanItem::from(item)))
}

/// Add an item to a plan.
#[utoipa::path(
    tag = "plan-items",
    params(("plan_id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreatePlanItem,
    responses(
        (status = 201, description = "Added.", body = PlanItem, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The reference is taken in the plan (`reference_taken`), the plan is closed, or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The parent is not an item of this plan, a document is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{plan_id}/items", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_plan_item(
    auth: AuthUser,
    ctx: RequestContext,
    plan_id: web::Path<Uuid>,
    body: ApiJson<CreatePlanItem>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let (plan_id, org, author) = (plan_id.into_inner(), principal.organization_id, principal.id);
    crud::create::<PlanItem, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan = open_plan(conn, plan_id, org)?;
        check_parent(conn, plan_id, body.parent_id)?;
        check_documents(conn, plan.organization_id, &body.document_ids)?;
        check_implements(conn, &plan, body.implements_item_id)?;
        let end = store::next_position(conn, plan_id, body.parent_id)?;
        let row = store::insert(
            conn,
            &NewPlanItem {
                id: Uuid::now_v7(),
                plan_id,
                organization_id: plan.organization_id,
                parent_id: body.parent_id,
                position: end,
                reference: body.reference,
                kind: body.kind,
                audience: body.audience,
                channel: body.channel,
                title: body.title.trim().to_owned(),
                body: body.body,
                due_on: body.due_on,
                implements_item_id: body.implements_item_id,
                created_by: Some(author),
            },
        )?;
        if let Some(position) = body.position.filter(|p| *p < end) {
            store::place(conn, plan_id, row.id, row.parent_id, row.parent_id, position)?;
        }
        store::set_documents(conn, row.id, &body.document_ids)?;
        Ok(Cited { row: store::find(conn, row.id, None)?, documents: body.document_ids })
    })
    .await
}

/// Change or move a plan item.
///
/// A move keeps the tree a tree: the new parent must be an item of the same plan and
/// not the item itself or one below it (422).
#[utoipa::path(
    tag = "plan-items",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdatePlanItem,
    responses(
        (status = 200, description = "Changed.", body = PlanItem, headers(("ETag" = String))),
        (status = 409, description = "The reference is taken, or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The move would break the tree (`item_cycle`, `parent_other_plan`), or a document is not the organisation's.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_plan_item(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdatePlanItem>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let changes = PlanItemChanges {
        reference: body.reference,
        kind: body.kind,
        audience: body.audience,
        channel: body.channel,
        title: body.title.map(|t| t.trim().to_owned()),
        body: body.body,
        due_on: body.due_on,
        implements_item_id: body.implements_item_id,
    };
    let (move_to, position, document_ids) = (body.parent_id, body.position, body.document_ids);
    let actor = Actor::of(&principal, &ctx);
    crud::update::<PlanItem, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            let item = &current.row;
            let plan = open_plan(conn, item.plan_id, None)?;
            if let Some(ids) = &document_ids {
                check_documents(conn, plan.organization_id, ids)?;
            }
            check_implements(conn, &plan, changes.implements_item_id.flatten())?;
            store::update(conn, item.id, &changes)?;
            if move_to.is_some() || position.is_some() {
                let parent = move_to.unwrap_or(item.parent_id);
                check_parent(conn, item.plan_id, parent)?;
                if let Some(p) = parent
                    && store::is_within(conn, item.id, p)?
                {
                    return Err(ApiError::unprocessable("item_cycle")
                        .with_errors(vec![FieldError::new("parent_id", "item_cycle")]));
                }
                let at = position.unwrap_or(if parent == item.parent_id { item.position } else { i32::MAX });
                store::place(conn, item.plan_id, item.id, item.parent_id, parent, at)?;
            }
            let documents = match document_ids {
                Some(ids) => {
                    store::set_documents(conn, item.id, &ids)?;
                    ids
                }
                None => current.documents.clone(),
            };
            Ok(Cited { row: store::find(conn, item.id, None)?, documents })
        },
    )
    .await
}

/// Delete a plan item.
///
/// An item with children or indicators is a 409 unless `cascade=true`, which deletes
/// the whole subtree and unlinks the indicators.
#[utoipa::path(
    tag = "plan-items",
    params(("id" = Uuid, Path), DeleteItemParams, ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "It has children or indicators (`item_has_dependents`), or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_plan_item(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    params: ApiQuery<DeleteItemParams>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let cascade = params.0.cascade.unwrap_or(false);
    let actor = Actor::of(&principal, &ctx);
    let guard_actor = actor.clone();
    crud::delete::<PlanItem, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            let item = &current.row;
            open_plan(conn, item.plan_id, None)?;
            let dependents = store::dependents(conn, item.id)?;
            if !dependents.is_empty() && !cascade {
                return Err(ApiError::conflict("item_has_dependents").arg("what", dependents.join(", ")));
            }
            let below: Vec<Uuid> = store::subtree(conn, item.plan_id, item.id)?.into_iter().skip(1).collect();
            store::unlink_indicators(conn, &[item.id])?;
            store::delete_many(conn, &below)?;
            for id in &below {
                audit::record(
                    conn,
                    &guard_actor,
                    Event {
                        action: "delete",
                        entity_type: "plan_item",
                        entity_id: Some(*id),
                        organization_id: Some(item.organization_id),
                        changes: serde_json::json!({"cascade_from": item.id}),
                    },
                )?;
            }
            Ok(store::close_gap(conn, item.plan_id, item.parent_id, item.id)?)
        },
    )
    .await
}
