//! Writing a checked plan file (`domain::import`) in one transaction: organisations,
//! departments and documents are matched by code or number (created when missing and
//! allowed), then the plan, its items and indicators are created — or, when asked,
//! updated in place — and the file itself is kept.
use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{
        assignments,
        audit::{self, Actor, Event},
        departments, documents, indicators, lower, organizations, plan_items, plans,
        schema::{
            departments as departments_t, indicators as indicators_t, organizations as organizations_t, plan_imports,
            plan_items as items_t, plans as plans_t,
        },
    },
    domain::{
        assignments::AssignmentStatus,
        import::{FORMAT, PlanFile},
        plans::PlanStatus,
    },
    error::{ApiError, FieldError},
};

/// What the caller may create besides the plan.
pub struct Rights {
    /// `None` for the system administrator: any organisation.
    pub organization: Option<Uuid>,
    pub create_organizations: bool,
    pub create_departments: bool,
}

/// What an import did.
#[derive(Serialize, ToSchema, Debug)]
pub struct ImportSummary {
    pub plan_id: Uuid,
    /// `created`, or `updated` when an existing plan was updated in place.
    #[schema(example = "created")]
    pub outcome: &'static str,
    pub organizations_created: usize,
    pub departments_created: usize,
    pub documents_created: usize,
    pub items: usize,
    pub indicators: usize,
    /// Department assignments created (those already there are kept).
    pub assignments_created: usize,
}

fn find_org(conn: &mut PgConnection, code: &str) -> QueryResult<Option<organizations::OrganizationRow>> {
    organizations_t::table
        .filter(lower(organizations_t::code).eq(lower(code)))
        .filter(organizations_t::deleted_at.is_null())
        .select(organizations::OrganizationRow::as_select())
        .first(conn)
        .optional()
}

pub fn import(
    conn: &mut PgConnection,
    file: &PlanFile,
    raw: &Value,
    rights: &Rights,
    actor: &Actor,
    update: bool,
) -> Result<ImportSummary, ApiError> {
    let mut run = Run { file, rights, actor, summary: ImportSummary::of(file), errors: Vec::new() };
    let orgs = run.organizations(conn)?;
    let plan_org = run.plan_organization(conn, &orgs)?;
    run.departments(conn, &orgs)?;
    if !run.errors.is_empty() {
        return Err(fail(run.errors));
    }
    let docs = run.documents(conn, plan_org)?;
    let plan = run.plan(conn, plan_org, &docs, update)?;
    let by_ref = run.items(conn, &plan, &docs)?;
    run.indicators(conn, &plan, &by_ref)?;
    run.summary.assignments_created = apply_assignments(conn, file, &plan, actor)?;
    run.keep_file(conn, &plan, raw, update)?;
    Ok(run.summary)
}

impl ImportSummary {
    fn of(file: &PlanFile) -> Self {
        Self {
            plan_id: Uuid::nil(),
            outcome: "created",
            organizations_created: 0,
            departments_created: 0,
            documents_created: 0,
            items: file.items.len(),
            indicators: file.indicators.len(),
            assignments_created: 0,
        }
    }
}

/// One import under way: the file, who imports it with which rights, what it did so far,
/// and the problems found (reported all at once).
struct Run<'a> {
    file: &'a PlanFile,
    rights: &'a Rights,
    actor: &'a Actor,
    summary: ImportSummary,
    errors: Vec<FieldError>,
}

impl<'a> Run<'a> {
    fn denied(path: &str, what: &str) -> FieldError {
        FieldError::new(path, "not_permitted_here").arg("what", what)
    }

    /// The file's organisations by code: found, or made where the rights allow.
    fn organizations(&mut self, conn: &mut PgConnection) -> Result<HashMap<String, Uuid>, ApiError> {
        // In the order written: a parent before its children.
        let mut orgs: HashMap<String, Uuid> = HashMap::new();
        for spec in &self.file.organizations {
            if let Some(existing) = find_org(conn, &spec.code)? {
                orgs.insert(spec.code.clone(), existing.id);
                continue;
            }
            if !self.rights.create_organizations {
                self.errors.push(Self::denied(&format!("{}.code", spec.path), "organization"));
                continue;
            }
            let parent = match &spec.parent {
                None => None,
                Some(code) => match orgs.get(code).copied().or(find_org(conn, code)?.map(|o| o.id)) {
                    Some(id) => Some(id),
                    None => {
                        self.errors.push(
                            FieldError::new(format!("{}.parent", spec.path), "unknown_reference")
                                .arg("what", "organization")
                                .arg("value", code),
                        );
                        continue;
                    }
                },
            };
            let row = organizations::insert(
                conn,
                &organizations::NewOrganization {
                    id: Uuid::now_v7(),
                    code: spec.code.clone(),
                    name: spec.name.clone(),
                    name_en: spec.name_en.clone(),
                    parent_id: parent,
                    website: spec.website.clone(),
                    created_by: self.actor.id,
                    reporting_periods: None,
                },
            )?;
            audit::record(
                conn,
                self.actor,
                Event::created("organization", row.id, Some(row.id), &json!({"code": row.code, "name": row.name})),
            )?;
            orgs.insert(spec.code.clone(), row.id);
            self.summary.organizations_created += 1;
        }
        Ok(orgs)
    }

    /// The organisation the plan is of, which the importer must be allowed to act for.
    fn plan_organization(&mut self, conn: &mut PgConnection, orgs: &HashMap<String, Uuid>) -> Result<Uuid, ApiError> {
        let code = &self.file.plan_organization;
        match orgs.get(code).copied().or(find_org(conn, code)?.map(|o| o.id)) {
            Some(id) if self.rights.organization.is_none_or(|own| own == id) => Ok(id),
            Some(_) => Err(fail(vec![Self::denied("$.plan.organization", "plan")])),
            None => {
                let mut errors = std::mem::take(&mut self.errors);
                errors.push(
                    FieldError::new("$.plan.organization", "unknown_reference")
                        .arg("what", "organization")
                        .arg("value", code),
                );
                Err(fail(errors))
            }
        }
    }

    /// The file's departments: found, or made where the rights allow.
    fn departments(&mut self, conn: &mut PgConnection, orgs: &HashMap<String, Uuid>) -> Result<(), ApiError> {
        for spec in &self.file.departments {
            let Some(&org) = orgs.get(&spec.organization) else {
                self.errors.push(
                    FieldError::new(format!("{}.organization", spec.path), "unknown_reference")
                        .arg("what", "organization")
                        .arg("value", &spec.organization),
                );
                continue;
            };
            let existing: Option<Uuid> = departments_t::table
                .filter(departments_t::organization_id.eq(org))
                .filter(lower(departments_t::code).eq(lower(spec.code.as_str())))
                .filter(departments_t::deleted_at.is_null())
                .select(departments_t::id)
                .first(conn)
                .optional()?;
            if existing.is_some() {
                continue;
            }
            if !self.rights.create_departments || self.rights.organization.is_some_and(|own| own != org) {
                self.errors.push(Self::denied(&format!("{}.code", spec.path), "department"));
                continue;
            }
            let row = departments::insert(
                conn,
                &departments::NewDepartment {
                    id: Uuid::now_v7(),
                    organization_id: org,
                    code: spec.code.clone(),
                    name: spec.name.clone(),
                    name_en: spec.name_en.clone(),
                    created_by: self.actor.id,
                },
            )?;
            audit::record(
                conn,
                self.actor,
                Event::created("department", row.id, Some(org), &json!({"code": row.code, "name": row.name})),
            )?;
            self.summary.departments_created += 1;
        }
        Ok(())
    }

    /// The cited documents by number, recorded by the plan's organisation when missing.
    fn documents(&mut self, conn: &mut PgConnection, plan_org: Uuid) -> Result<HashMap<String, Uuid>, ApiError> {
        let mut docs: HashMap<String, Uuid> = HashMap::new();
        for spec in &self.file.documents {
            let id = match documents::by_number(conn, plan_org, &spec.issuer, &spec.number)? {
                Some(existing) => existing.id,
                None => {
                    let post_required = documents::issued_by_itself(conn, plan_org, &spec.issuer)?;
                    let row = documents::insert(
                        conn,
                        &documents::NewDocument {
                            id: Uuid::now_v7(),
                            organization_id: plan_org,
                            number: spec.number.clone(),
                            issued_on: spec.issued_on,
                            issuer: spec.issuer.clone(),
                            title: spec.title.clone(),
                            created_by: self.actor.id,
                            post_required,
                        },
                    )?;
                    audit::record(
                        conn,
                        self.actor,
                        Event::created(
                            "document",
                            row.id,
                            Some(plan_org),
                            &json!({"number": row.number, "title": row.title}),
                        ),
                    )?;
                    self.summary.documents_created += 1;
                    row.id
                }
            };
            docs.insert(spec.number.clone(), id);
        }
        Ok(docs)
    }

    /// The plan: created, or with `update` the organisation's plan of that code changed.
    fn plan(
        &mut self,
        conn: &mut PgConnection,
        plan_org: Uuid,
        docs: &HashMap<String, Uuid>,
        update: bool,
    ) -> Result<plans::PlanRow, ApiError> {
        let implements = self.file.implements.as_ref().and_then(|n| docs.get(n).copied());
        let parent_plan = match &self.file.implements {
            Some(number) => parent_plan_by_decision(conn, plan_org, number)?,
            None => None,
        };
        let decision = self.file.decision.clone();
        let existing: Option<plans::PlanRow> = plans_t::table
            .filter(plans_t::organization_id.eq(plan_org))
            .filter(lower(plans_t::code).eq(lower(self.file.plan_code.as_str())))
            .filter(plans_t::deleted_at.is_null())
            .select(plans::PlanRow::as_select())
            .first(conn)
            .optional()?;
        let plan = match existing {
            Some(_) if !update => return Err(ApiError::conflict("plan_exists").arg("code", &self.file.plan_code)),
            Some(current) => {
                if current.status == PlanStatus::Closed {
                    return Err(ApiError::conflict("plan_closed"));
                }
                self.summary.outcome = "updated";
                let changes = plans::PlanChanges {
                    year: Some(self.file.year),
                    title: Some(self.file.title.clone()),
                    period_from: Some(self.file.period_from),
                    period_to: Some(self.file.period_to),
                    decision: Some(decision),
                    parent_plan_id: Some(parent_plan),
                    implements_document_id: Some(implements),
                    ..Default::default()
                };
                plans::update(conn, current.id, &changes)?
            }
            None => plans::insert(
                conn,
                &plans::NewPlan {
                    id: Uuid::now_v7(),
                    organization_id: plan_org,
                    code: self.file.plan_code.clone(),
                    year: self.file.year,
                    title: self.file.title.clone(),
                    status: if self.file.decision.is_some() { PlanStatus::Issued } else { PlanStatus::Draft },
                    period_from: self.file.period_from,
                    period_to: self.file.period_to,
                    decision,
                    parent_plan_id: parent_plan,
                    implements_document_id: implements,
                    created_by: self.actor.id,
                },
            )?,
        };
        self.summary.plan_id = plan.id;
        let bases: Vec<Uuid> = self.file.legal_bases.iter().filter_map(|n| docs.get(n).copied()).collect();
        plans::set_legal_bases(conn, plan.id, &bases)?;
        Ok(plan)
    }

    /// The items, in tree order (a parent before its children); those of the plan that
    /// the file no longer has are deleted. Their ids by reference.
    fn items(
        &mut self,
        conn: &mut PgConnection,
        plan: &plans::PlanRow,
        docs: &HashMap<String, Uuid>,
    ) -> Result<HashMap<&'a str, Uuid>, ApiError> {
        let plan_org = plan.organization_id;
        let mut existing_items: HashMap<String, plan_items::PlanItemRow> =
            plan_items::all_of_plan(conn, plan.id)?.into_iter().map(|row| (row.reference.clone(), row)).collect();
        let mut ids: Vec<Uuid> = Vec::with_capacity(self.file.items.len());
        let mut by_ref: HashMap<&str, Uuid> = HashMap::new();
        // The parent plan's items, by reference, for `implements`.
        let parent_items: HashMap<String, Uuid> = match plan.parent_plan_id {
            Some(parent) => {
                plan_items::all_of_plan(conn, parent)?.into_iter().map(|row| (row.reference, row.id)).collect()
            }
            None => HashMap::new(),
        };
        let mut errors = Vec::new();
        for spec in &self.file.items {
            let parent = spec.parent.map(|p| ids[p]);
            let implements = match &spec.implements {
                // No parent plan in the service (yet): nothing to link to. An import
                // with `on_conflict=update` links them once it is there.
                None => None,
                Some(_) if plan.parent_plan_id.is_none() => None,
                Some(reference) => match parent_items.get(reference) {
                    Some(id) => Some(*id),
                    None => {
                        errors.push(
                            FieldError::new(format!("{}.implements", spec.path), "unknown_reference")
                                .arg("what", "parent plan item")
                                .arg("value", reference),
                        );
                        None
                    }
                },
            };
            let item_docs: Vec<Uuid> = spec.documents.iter().filter_map(|n| docs.get(n).copied()).collect();
            let id = match existing_items.remove(&spec.reference) {
                Some(current) => {
                    let changes = plan_items::PlanItemChanges {
                        reference: None,
                        kind: Some(spec.kind),
                        audience: Some(spec.audience),
                        channel: Some(spec.channel),
                        title: Some(spec.title.clone()),
                        body: Some(spec.body.clone()),
                        due_on: Some(spec.due_on),
                        implements_item_id: Some(implements),
                    };
                    plan_items::update(conn, current.id, &changes)?;
                    diesel::update(items_t::table.find(current.id))
                        .set((items_t::parent_id.eq(parent), items_t::position.eq(spec.position)))
                        .execute(conn)?;
                    current.id
                }
                None => {
                    let row = plan_items::insert(
                        conn,
                        &plan_items::NewPlanItem {
                            id: Uuid::now_v7(),
                            plan_id: plan.id,
                            organization_id: plan_org,
                            parent_id: parent,
                            position: spec.position,
                            reference: spec.reference.clone(),
                            kind: spec.kind,
                            audience: spec.audience,
                            channel: spec.channel,
                            title: spec.title.clone(),
                            body: spec.body.clone(),
                            due_on: spec.due_on,
                            implements_item_id: implements,
                            created_by: self.actor.id,
                        },
                    )?;
                    audit::record(
                        conn,
                        self.actor,
                        Event::created(
                            "plan_item",
                            row.id,
                            Some(plan_org),
                            &json!({"reference": row.reference, "title": row.title}),
                        ),
                    )?;
                    row.id
                }
            };
            plan_items::set_documents(conn, id, &item_docs)?;
            ids.push(id);
            by_ref.insert(spec.reference.as_str(), id);
        }
        if !errors.is_empty() {
            return Err(fail(errors));
        }
        let gone: Vec<Uuid> = existing_items.values().map(|row| row.id).collect();
        if !gone.is_empty() {
            plan_items::delete_many(conn, &gone)?;
        }
        Ok(by_ref)
    }

    /// The indicators, matched by code; those the file no longer has are deleted.
    fn indicators(
        &mut self,
        conn: &mut PgConnection,
        plan: &plans::PlanRow,
        by_ref: &HashMap<&'a str, Uuid>,
    ) -> Result<(), ApiError> {
        let plan_org = plan.organization_id;
        let mut existing_indicators: HashMap<String, indicators::IndicatorRow> = indicators_t::table
            .filter(indicators_t::plan_id.eq(plan.id))
            .filter(indicators_t::deleted_at.is_null())
            .select(indicators::IndicatorRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| (row.code.to_lowercase(), row))
            .collect();
        for spec in &self.file.indicators {
            let item = spec.item.as_deref().and_then(|r| by_ref.get(r).copied());
            match existing_indicators.remove(&spec.code.to_lowercase()) {
                Some(current) => {
                    let changes = indicators::IndicatorChanges {
                        plan_item_id: Some(item),
                        code: None,
                        name: Some(spec.name.clone()),
                        unit: Some(spec.unit),
                        comparator: Some(spec.comparator),
                        target_value: Some(spec.target),
                        baseline: Some(spec.baseline),
                        scope: Some(spec.scope),
                    };
                    indicators::update(conn, current.id, &changes)?;
                }
                None => {
                    let row = indicators::insert(
                        conn,
                        &indicators::NewIndicator {
                            id: Uuid::now_v7(),
                            plan_id: plan.id,
                            organization_id: plan_org,
                            plan_item_id: item,
                            code: spec.code.clone(),
                            name: spec.name.clone(),
                            unit: spec.unit,
                            comparator: spec.comparator,
                            target_value: spec.target,
                            baseline: spec.baseline,
                            scope: spec.scope,
                            created_by: self.actor.id,
                        },
                    )?;
                    audit::record(
                        conn,
                        self.actor,
                        Event::created(
                            "indicator",
                            row.id,
                            Some(plan_org),
                            &json!({"code": row.code, "name": row.name}),
                        ),
                    )?;
                }
            }
        }
        for gone in existing_indicators.values() {
            indicators::soft_delete(conn, gone.id)?;
        }
        Ok(())
    }

    /// Keeps the file as imported, and audits the import.
    fn keep_file(
        &mut self,
        conn: &mut PgConnection,
        plan: &plans::PlanRow,
        raw: &Value,
        update: bool,
    ) -> Result<(), ApiError> {
        let plan_org = plan.organization_id;
        let text = serde_json::to_vec(raw).unwrap_or_default();
        let sha = crate::domain::sha256_hex(&text);
        diesel::insert_into(plan_imports::table)
            .values((
                plan_imports::id.eq(Uuid::now_v7()),
                plan_imports::plan_id.eq(plan.id),
                plan_imports::organization_id.eq(plan_org),
                plan_imports::format.eq(FORMAT),
                plan_imports::content.eq(raw),
                plan_imports::sha256.eq(&sha),
                plan_imports::mode.eq(if update { "update" } else { "create" }),
                plan_imports::imported_by.eq(self.actor.id),
                plan_imports::assignments_applied.eq(true),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            self.actor,
            Event {
                action: "import",
                entity_type: "plan",
                entity_id: Some(plan.id),
                organization_id: Some(plan_org),
                changes: json!({"code": self.file.plan_code, "outcome": self.summary.outcome, "sha256": sha, "items": self.summary.items, "indicators": self.summary.indicators}),
            },
        )?;
        Ok(())
    }
}

/// Creates the department assignments the file names — plan-wide ones from the
/// decision's articles, and those of each item — that the plan does not have yet, from
/// the plan's period; an existing one takes the file's role and reporting frequency.
/// Returns how many were created.
pub fn apply_assignments(
    conn: &mut PgConnection,
    file: &PlanFile,
    plan: &plans::PlanRow,
    actor: &Actor,
) -> Result<usize, ApiError> {
    use crate::db::schema::assignments as assignments_t;
    let departments: HashMap<String, Uuid> = departments_t::table
        .filter(departments_t::organization_id.eq(plan.organization_id))
        .filter(departments_t::deleted_at.is_null())
        .select((departments_t::code, departments_t::id))
        .load::<(String, Uuid)>(conn)?
        .into_iter()
        .map(|(code, id)| (code.to_lowercase(), id))
        .collect();
    let items: HashMap<String, Uuid> = items_t::table
        .filter(items_t::plan_id.eq(plan.id))
        .filter(items_t::deleted_at.is_null())
        .select((items_t::reference, items_t::id))
        .load::<(String, Uuid)>(conn)?
        .into_iter()
        .collect();
    let wanted = file.plan_assignments.iter().map(|a| (None, a)).chain(
        file.items.iter().flat_map(|item| item.assignments.iter().map(move |a| (Some(item.reference.as_str()), a))),
    );
    let mut errors = Vec::new();
    let mut created = 0;
    for (reference, spec) in wanted {
        let Some(&department) = departments.get(&spec.department.to_lowercase()) else {
            errors.push(
                FieldError::new(&spec.path, "unknown_reference")
                    .arg("what", "department")
                    .arg("value", &spec.department),
            );
            continue;
        };
        let item = reference.and_then(|r| items.get(r).copied());
        let mut existing = assignments_t::table
            .filter(assignments_t::plan_id.eq(plan.id))
            .filter(assignments_t::department_id.eq(department))
            .filter(assignments_t::deleted_at.is_null())
            .filter(assignments_t::status.ne(AssignmentStatus::Cancelled))
            .into_boxed();
        existing = match item {
            Some(item) => existing.filter(assignments_t::plan_item_id.eq(item)),
            None => existing.filter(assignments_t::plan_item_id.is_null()),
        };
        match existing.select(assignments::AssignmentRow::as_select()).first(conn).optional()? {
            Some(current) if current.role == spec.role && current.reporting == spec.reporting => {}
            Some(current) => {
                let changes = assignments::AssignmentChanges {
                    role: Some(spec.role),
                    reporting: Some(spec.reporting),
                    ..Default::default()
                };
                assignments::update(conn, current.id, &changes)?;
            }
            None => {
                let row = assignments::insert(
                    conn,
                    &assignments::NewAssignment {
                        id: Uuid::now_v7(),
                        organization_id: plan.organization_id,
                        plan_id: plan.id,
                        plan_item_id: item,
                        department_id: department,
                        role: spec.role,
                        duty: spec.duty.clone(),
                        starts_on: plan.period_from,
                        due_on: plan.period_to,
                        reporting: spec.reporting,
                        created_by: actor.id,
                    },
                )?;
                audit::record(
                    conn,
                    actor,
                    Event::created(
                        "assignment",
                        row.id,
                        Some(plan.organization_id),
                        &json!({"department": spec.department, "role": row.role, "reporting": row.reporting, "plan_item_id": item}),
                    ),
                )?;
                created += 1;
            }
        }
    }
    if errors.is_empty() { Ok(created) } else { Err(fail(errors)) }
}

/// Files imported before assignments existed: create the assignments they name, once.
pub fn backfill_assignments(conn: &mut PgConnection) -> Result<usize, ApiError> {
    let pending: Vec<(Uuid, Value)> = plan_imports::table
        .inner_join(plans_t::table)
        .filter(plan_imports::assignments_applied.eq(false))
        .filter(plans_t::deleted_at.is_null())
        .order((plan_imports::plan_id, plan_imports::imported_at.desc()))
        .distinct_on(plan_imports::plan_id)
        .select((plan_imports::plan_id, plan_imports::content))
        .load(conn)?;
    let mut created = 0;
    for (plan_id, content) in pending {
        let Ok(file) = crate::domain::import::parse(&content) else {
            tracing::warn!(%plan_id, "a kept plan file no longer reads; its assignments were not created");
            continue;
        };
        let plan = plans::find(conn, plan_id, None)?;
        created += apply_assignments(conn, &file, &plan, &Actor::system())?;
        diesel::update(plan_imports::table.filter(plan_imports::plan_id.eq(plan_id)))
            .set(plan_imports::assignments_applied.eq(true))
            .execute(conn)?;
    }
    Ok(created)
}

fn fail(errors: Vec<FieldError>) -> ApiError {
    ApiError::unprocessable("import_invalid").arg("count", errors.len()).with_errors(errors)
}

/// The plan of an ancestor organisation issued by decision `number`, if the service has it.
fn parent_plan_by_decision(conn: &mut PgConnection, org: Uuid, number: &str) -> QueryResult<Option<Uuid>> {
    let mut ancestor =
        organizations_t::table.find(org).select(organizations_t::parent_id).first::<Option<Uuid>>(conn)?;
    for _ in 0..16 {
        let Some(at) = ancestor else { return Ok(None) };
        let found: Option<Uuid> = plans_t::table
            .filter(plans_t::organization_id.eq(at))
            .filter(plans_t::deleted_at.is_null())
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("decision->>'number' = ")
                    .bind::<diesel::sql_types::Text, _>(number),
            )
            .select(plans_t::id)
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
        ancestor = organizations_t::table.find(at).select(organizations_t::parent_id).first::<Option<Uuid>>(conn)?;
    }
    Ok(None)
}
