//! Reading a plan file in the `plan-fixture/1` format (see `docs/plan-fixture.md`).
//!
//! The whole file is checked before anything is written, and every problem is
//! reported with its JSON path, so one round trip shows all there is to fix.
use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::{
    domain::validate,
    domain::{
        assignments::{AssignmentRole, Reporting},
        plans::{Audience, Channel, Comparator, Decision, IndicatorScope, ItemKind, Unit},
    },
    error::FieldError,
};

pub const FORMAT: &str = "plan-fixture/1";

#[derive(Debug, Clone)]
pub struct OrganizationSpec {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub parent: Option<String>,
    pub website: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct DepartmentSpec {
    pub organization: String,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct DocumentSpec {
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct IndicatorSpec {
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub target: Option<f64>,
    pub baseline: Option<f64>,
    pub item: Option<String>,
    pub scope: IndicatorScope,
}

/// A department's assignment named in the file: on an item, or (from the decision's
/// articles) on the plan as a whole.
#[derive(Debug, Clone)]
pub struct AssignmentSpec {
    /// The department's code, in the plan's organisation.
    pub department: String,
    pub role: AssignmentRole,
    pub reporting: Reporting,
    pub duty: Option<String>,
    /// Where the department is named, for problems found against the database.
    pub path: String,
}

/// An item, flattened in tree order: `parent` is the index of its parent in the list.
#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub reference: String,
    pub kind: ItemKind,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub documents: Vec<String>,
    pub assignments: Vec<AssignmentSpec>,
    pub parent: Option<usize>,
    pub position: i32,
    /// The reference of the parent plan's item this one carries out (`implements`).
    pub implements: Option<String>,
    /// Where it is in the file, for problems found against the database.
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct PlanFile {
    pub organizations: Vec<OrganizationSpec>,
    pub departments: Vec<DepartmentSpec>,
    pub documents: Vec<DocumentSpec>,
    /// The issuing decision as written (number, date, signer, articles, recipients).
    pub decision: Option<Value>,
    pub legal_bases: Vec<String>,
    pub plan_code: String,
    pub plan_organization: String,
    pub year: i32,
    pub title: String,
    pub implements: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub items: Vec<ItemSpec>,
    pub indicators: Vec<IndicatorSpec>,
    /// Plan-wide assignments, from the decision's articles.
    pub plan_assignments: Vec<AssignmentSpec>,
}

/// Collects problems while reading.
struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    fn error(&mut self, path: &str, code: &'static str) -> &mut FieldError {
        self.errors.push(FieldError::new(path, code));
        self.errors.last_mut().expect("just pushed")
    }

    fn object<'a>(&mut self, value: Option<&'a Value>, path: &str) -> Option<&'a Map<String, Value>> {
        match value {
            Some(Value::Object(map)) => Some(map),
            None | Some(Value::Null) => {
                self.error(path, "required");
                None
            }
            Some(_) => {
                self.error(path, "invalid_value").args.push(("reason", "an object is expected".into()));
                None
            }
        }
    }

    fn array<'a>(&mut self, obj: &'a Map<String, Value>, key: &str, path: &str) -> &'a [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.error(&format!("{path}.{key}"), "invalid_value")
                    .args
                    .push(("reason", "an array is expected".into()));
                &[]
            }
        }
    }

    fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str, required: bool) -> Option<String> {
        let at = format!("{path}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.error(&at, "required");
                }
                None
            }
            Some(Value::String(s)) if s.contains('\0') => {
                self.error(&at, "nul_character");
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                if required {
                    self.error(&at, "not_blank");
                }
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => {
                self.error(&at, "invalid_value").args.push(("reason", "text is expected".into()));
                None
            }
        }
    }

    fn code(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        let value = self.text(obj, key, path, true)?;
        if validate::code(&value).is_err() {
            self.error(&format!("{path}.{key}"), "invalid_format");
            return None;
        }
        Some(value)
    }

    fn date(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<NaiveDate> {
        let text = self.text(obj, key, path, false)?;
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(&format!("{path}.{key}"), "invalid_value")
                    .args
                    .push(("reason", "a YYYY-MM-DD date is expected".into()));
                None
            }
        }
    }

    fn number(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<f64> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                self.error(&format!("{path}.{key}"), "invalid_value")
                    .args
                    .push(("reason", "a number is expected".into()));
                None
            }
        }
    }

    fn code_of<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.text(obj, key, path, required)?;
        let parsed = parse(&text);
        if parsed.is_none() {
            self.error(&format!("{path}.{key}"), "invalid_value")
                .args
                .push(("reason", format!("unknown code {text:?}")));
        }
        parsed
    }

    fn strings(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Vec<(String, String)> {
        let items = self.array(obj, key, path);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}.{key}[{i}]");
            match item.as_str() {
                Some(s) if !s.trim().is_empty() => out.push((s.trim().to_owned(), at)),
                _ => {
                    self.error(&at, "invalid_value").args.push(("reason", "text is expected".into()));
                }
            }
        }
        out
    }

    fn unknown(&mut self, path: &str, what: &str, value: &str) {
        self.error(path, "unknown_reference").args.extend([("what", what.to_owned()), ("value", value.to_owned())]);
    }

    fn duplicate(&mut self, path: &str, value: &str) {
        self.error(path, "duplicate").args.push(("value", value.to_owned()));
    }
}

/// Reads and checks a whole file; `Err` lists every problem found.
pub fn parse(root: &Value) -> Result<PlanFile, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let Some(top) = r.object(Some(root), "$") else { return Err(r.errors) };
    match top.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        _ => {
            r.error("$.format", "invalid_value").args.push(("reason", format!("must be \"{FORMAT}\"")));
        }
    }

    let mut organizations = Vec::new();
    for (i, org) in r.array(top, "organizations", "$").iter().enumerate() {
        let path = format!("$.organizations[{i}]");
        let Some(obj) = r.object(Some(org), &path) else { continue };
        let (code, name) = (r.code(obj, "code", &path), r.text(obj, "name", &path, true));
        let name_en = r.text(obj, "name_en", &path, false);
        let parent = r.text(obj, "parent", &path, false);
        let website = r.text(obj, "website", &path, false);
        if let Some(site) = &website
            && validate::http_url(site).is_err()
        {
            r.error(&format!("{path}.website"), "invalid_url");
        }
        if let (Some(code), Some(name)) = (code, name) {
            if organizations.iter().any(|o: &OrganizationSpec| o.code.eq_ignore_ascii_case(&code)) {
                r.duplicate(&format!("{path}.code"), &code);
            }
            organizations.push(OrganizationSpec { code, name, name_en, parent, website, path });
        }
    }
    let mut departments = Vec::new();
    for (i, dept) in r.array(top, "departments", "$").iter().enumerate() {
        let path = format!("$.departments[{i}]");
        let Some(obj) = r.object(Some(dept), &path) else { continue };
        let organization = r.text(obj, "organization", &path, true);
        let (code, name) = (r.code(obj, "code", &path), r.text(obj, "name", &path, true));
        let name_en = r.text(obj, "name_en", &path, false);
        if let (Some(organization), Some(code), Some(name)) = (organization, code, name) {
            if departments
                .iter()
                .any(|d: &DepartmentSpec| d.organization == organization && d.code.eq_ignore_ascii_case(&code))
            {
                r.duplicate(&format!("{path}.code"), &code);
            }
            departments.push(DepartmentSpec { organization, code, name, name_en, path });
        }
    }

    let mut documents: Vec<DocumentSpec> = Vec::new();
    for (i, doc) in r.array(top, "documents", "$").iter().enumerate() {
        let path = format!("$.documents[{i}]");
        let Some(obj) = r.object(Some(doc), &path) else { continue };
        let number = r.text(obj, "number", &path, true);
        let issued_on = r.date(obj, "issued_on", &path);
        let issuer = r.text(obj, "issuer", &path, true);
        let title = r.text(obj, "title", &path, true);
        if let (Some(number), Some(issuer), Some(title)) = (number, issuer, title) {
            if documents.iter().any(|d| d.number.eq_ignore_ascii_case(&number)) {
                r.duplicate(&format!("{path}.number"), &number);
            }
            documents.push(DocumentSpec { number, issued_on, issuer, title });
        }
    }
    let known_document = |number: &str| documents.iter().any(|d| d.number == number);

    let plan_obj = r.object(top.get("plan"), "$.plan");
    let decision = top.get("decision").filter(|d| !d.is_null());
    let mut legal_bases = Vec::new();
    if let Some(decision) = decision {
        if let Err(e) = serde_json::from_value::<Decision>(kept_decision(decision)) {
            r.error("$.decision", "invalid_value").args.push(("reason", e.to_string()));
        }
        if let Some(obj) = r.object(Some(decision), "$.decision") {
            r.text(obj, "number", "$.decision", true);
            r.date(obj, "issued_on", "$.decision");
            for (number, at) in r.strings(obj, "legal_bases", "$.decision") {
                if known_document(&number) {
                    legal_bases.push(number);
                } else {
                    r.unknown(&at, "document", &number);
                }
            }
        }
    }

    let mut file = PlanFile {
        organizations,
        departments,
        documents: documents.clone(),
        decision: decision.map(kept_decision),
        legal_bases,
        plan_code: String::new(),
        plan_organization: String::new(),
        year: 0,
        title: String::new(),
        implements: None,
        period_from: None,
        period_to: None,
        items: Vec::new(),
        indicators: Vec::new(),
        plan_assignments: Vec::new(),
    };
    let Some(plan) = plan_obj else { return Err(r.errors) };

    file.plan_code = r.code(plan, "code", "$.plan").unwrap_or_default();
    file.plan_organization = r.text(plan, "organization", "$.plan", true).unwrap_or_default();
    file.title = r.text(plan, "title", "$.plan", true).unwrap_or_default();
    match plan.get("year").and_then(Value::as_i64) {
        Some(y) if (2000..=2100).contains(&y) => file.year = y as i32,
        _ => {
            r.error("$.plan.year", "invalid_value")
                .args
                .push(("reason", "a year from 2000 to 2100 is expected".into()));
        }
    }
    if let (Some(issued_by), Some(decision)) = (r.text(plan, "issued_by_decision", "$.plan", false), decision)
        && decision.get("number").and_then(Value::as_str) != Some(issued_by.as_str())
    {
        r.unknown("$.plan.issued_by_decision", "decision", &issued_by);
    }
    if let Some(number) = r.text(plan, "implements", "$.plan", false) {
        if known_document(&number) {
            file.implements = Some(number);
        } else {
            r.unknown("$.plan.implements", "document", &number);
        }
    }
    if let Some(period) = plan.get("period").filter(|p| !p.is_null())
        && let Some(obj) = r.object(Some(period), "$.plan.period")
    {
        file.period_from = r.date(obj, "from", "$.plan.period");
        file.period_to = r.date(obj, "to", "$.plan.period");
        if let (Some(from), Some(to)) = (file.period_from, file.period_to)
            && from > to
        {
            r.error("$.plan.period", "invalid_value").args.push(("reason", "from is after to".into()));
        }
    }

    // Items, depth first, in the order written.
    let mut item_indicators: Vec<(String, String)> = Vec::new();
    let mut seen_refs = HashSet::new();
    let items = r.array(plan, "items", "$.plan");
    let mut walk = Walk { documents: &documents, seen_refs: &mut seen_refs, item_indicators: &mut item_indicators };
    read_items(&mut r, &mut walk, &mut file, items, "$.plan.items", None);

    // Every reference written, even on an item with problems of its own: an indicator
    // pointing at it is not a further problem.
    let refs = seen_refs;
    let mut codes = HashSet::new();
    for (i, value) in r.array(plan, "indicators", "$.plan").iter().enumerate() {
        let path = format!("$.plan.indicators[{i}]");
        let Some(obj) = r.object(Some(value), &path) else { continue };
        let code = r.code(obj, "code", &path);
        let name = r.text(obj, "name", &path, true);
        let unit = r.code_of(obj, "unit", &path, true, Unit::parse);
        let comparator = r.code_of(obj, "comparator", &path, true, Comparator::parse);
        let target = r.number(obj, "target", &path);
        let baseline = r.number(obj, "baseline", &path);
        let scope =
            r.code_of(obj, "scope", &path, false, IndicatorScope::parse).unwrap_or(IndicatorScope::Organization);
        let item = r.text(obj, "item", &path, false);
        if let Some(item) = &item
            && !refs.contains(item)
        {
            r.unknown(&format!("{path}.item"), "plan item", item);
        }
        if target.is_none() && comparator.is_some_and(|c| c != Comparator::Improves) {
            r.error(&format!("{path}.target"), "required");
        }
        if let Some(code) = &code
            && !codes.insert(code.to_lowercase())
        {
            r.duplicate(&format!("{path}.code"), code);
        }
        if let (Some(code), Some(name), Some(unit), Some(comparator)) = (code, name, unit, comparator) {
            file.indicators.push(IndicatorSpec { code, name, unit, comparator, target, baseline, item, scope });
        }
    }
    if let Some(decision) = decision {
        file.plan_assignments = decision_assignments(&mut r, decision);
    }
    for (code, at) in &item_indicators {
        if !file.indicators.iter().any(|i| i.code.eq_ignore_ascii_case(code)) {
            r.unknown(at, "indicator", code);
        }
    }

    if r.errors.is_empty() { Ok(file) } else { Err(r.errors) }
}

/// The decision as kept on the plan: what it says, without the links (legal bases and
/// organisation) that the plan holds as records of their own.
fn kept_decision(decision: &Value) -> Value {
    let mut kept = decision.clone();
    if let Some(map) = kept.as_object_mut() {
        map.remove("legal_bases");
        map.remove("organization");
    }
    kept
}

struct Walk<'a> {
    documents: &'a [DocumentSpec],
    seen_refs: &'a mut HashSet<String>,
    item_indicators: &'a mut Vec<(String, String)>,
}

/// Reads `list` (the children of `parent`) and, after each item, its subtree.
fn read_items(
    r: &mut Reader,
    walk: &mut Walk<'_>,
    file: &mut PlanFile,
    list: &[Value],
    base: &str,
    parent: Option<usize>,
) {
    for (position, value) in list.iter().enumerate() {
        let path = format!("{base}[{position}]");
        let Some(obj) = r.object(Some(value), &path) else { continue };
        let reference = r.text(obj, "ref", &path, true);
        let kind = r.code_of(obj, "kind", &path, true, ItemKind::parse);
        let audience = r.code_of(obj, "audience", &path, false, Audience::parse);
        let channel = r.code_of(obj, "channel", &path, false, Channel::parse);
        let title = r.text(obj, "title", &path, true);
        let body = r.text(obj, "body", &path, false);
        let due_on = r.date(obj, "due_on", &path);
        let implements = r.text(obj, "implements", &path, false);
        let mut documents = Vec::new();
        for (number, at) in r.strings(obj, "documents", &path) {
            if walk.documents.iter().any(|d| d.number == number) {
                documents.push(number);
            } else {
                r.unknown(&at, "document", &number);
            }
        }
        if let Some(reference) = &reference
            && !walk.seen_refs.insert(reference.clone())
        {
            r.duplicate(&format!("{path}.ref"), reference);
        }
        walk.item_indicators.extend(r.strings(obj, "indicators", &path));
        if kind == Some(ItemKind::Channel) && !obj.contains_key("channel") {
            r.error(&format!("{path}.channel"), "required");
        }
        let assignments = read_assignments(r, obj, "assignments", "department", &path, title.as_deref());
        let children = r.array(obj, "children", &path);
        let mut index = None;
        if let (Some(reference), Some(kind), Some(title)) = (reference, kind, title) {
            index = Some(file.items.len());
            file.items.push(ItemSpec {
                reference,
                kind,
                audience,
                channel,
                title,
                body,
                due_on,
                documents,
                assignments,
                parent,
                position: position as i32,
                implements,
                path: path.clone(),
            });
        }
        // Below a broken item too, so that every problem is found in one pass.
        read_items(r, walk, file, children, &format!("{path}.children"), index);
    }
}

/// The departments named in `obj[key]` (by `code_key`), with their role and reporting
/// frequency. Two entries for one department, or two leads, are problems.
fn read_assignments(
    r: &mut Reader,
    obj: &Map<String, Value>,
    key: &str,
    code_key: &str,
    path: &str,
    duty: Option<&str>,
) -> Vec<AssignmentSpec> {
    let mut out: Vec<AssignmentSpec> = Vec::new();
    for (i, value) in r.array(obj, key, path).iter().enumerate() {
        let at = format!("{path}.{key}[{i}]");
        let Some(a) = r.object(Some(value), &at) else { continue };
        let department = r.text(a, code_key, &at, true);
        let role = r.code_of(a, "role", &at, true, AssignmentRole::parse);
        let reporting = r.code_of(a, "reporting", &at, false, Reporting::parse).unwrap_or(Reporting::None);
        let (Some(department), Some(role)) = (department, role) else { continue };
        if out.iter().any(|o| o.department == department) {
            r.duplicate(&format!("{at}.{code_key}"), &department);
            continue;
        }
        if role == AssignmentRole::Lead && out.iter().any(|o| o.role == AssignmentRole::Lead) {
            r.error(&format!("{at}.role"), "invalid_value").args.push(("reason", "a second lead".to_owned()));
            continue;
        }
        out.push(AssignmentSpec {
            department,
            role,
            reporting,
            duty: duty.map(str::to_owned),
            path: format!("{at}.{code_key}"),
        });
    }
    out
}

/// Plan-wide assignments from the decision's articles, in article order. A department
/// named again by a later article (Article 3 names TCHC, which Article 2 makes lead)
/// keeps its first assignment.
fn decision_assignments(r: &mut Reader, decision: &Value) -> Vec<AssignmentSpec> {
    let mut out: Vec<AssignmentSpec> = Vec::new();
    let Some(obj) = decision.as_object() else { return out };
    for (i, article) in r.array(obj, "articles", "$.decision").iter().enumerate() {
        let path = format!("$.decision.articles[{i}]");
        let Some(a) = article.as_object() else { continue };
        let text = a.get("text").and_then(Value::as_str).map(str::to_owned);
        for spec in read_assignments(r, a, "departments", "code", &path, text.as_deref()) {
            if out.iter().any(|o| o.department == spec.department) {
                continue;
            }
            if spec.role == AssignmentRole::Lead && out.iter().any(|o| o.role == AssignmentRole::Lead) {
                r.error(&format!("{path}.departments"), "invalid_value")
                    .args
                    .push(("reason", "a second lead for the plan".to_owned()));
                continue;
            }
            out.push(spec);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../fixtures/kdpm-2021.json")).unwrap()
    }

    #[test]
    fn the_2021_plan_reads_whole_and_in_order() {
        let file = parse(&fixture()).unwrap();
        assert_eq!(file.organizations.len(), 2);
        assert_eq!(file.departments.len(), 7);
        assert_eq!(file.documents.len(), 10);
        assert_eq!(file.items.len(), 45);
        assert_eq!(file.indicators.len(), 5);
        let refs: Vec<&str> = file.items.iter().take(7).map(|i| i.reference.as_str()).collect();
        assert_eq!(refs, ["I", "I.1", "I.1.1", "I.1.2", "I.1.3", "I.2", "I.2.1"]);
        assert_eq!(file.items.last().unwrap().reference, "III.5");
        for item in &file.items {
            if let Some(p) = item.parent {
                assert!(p < file.items.len());
                assert!(
                    item.reference.starts_with(&file.items[p].reference),
                    "{} under {}",
                    item.reference,
                    file.items[p].reference
                );
            }
        }
        assert_eq!(file.legal_bases, ["3595/QĐ-UBND", "590/QĐ-UBND", "3322/QĐ-UBND", "05/QĐ-BQL"]);
        let plan_wide: Vec<(&str, AssignmentRole)> =
            file.plan_assignments.iter().map(|a| (a.department.as_str(), a.role)).collect();
        assert_eq!(plan_wide[0], ("TCHC", AssignmentRole::Lead));
        assert_eq!(plan_wide.len(), 6, "TCHC leads (Art. 2); five more carry it out (Art. 3)");
        let per_item: usize = file.items.iter().map(|i| i.assignments.len()).sum();
        assert_eq!(per_item, 8);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut bad = fixture();
        bad["plan"]["items"][0]["children"][0]["children"][1]["kind"] = "wish".into();
        bad["plan"]["indicators"][1]["item"] = "IX.9".into();
        bad["documents"][2]["issued_on"] = "31/12/2020".into();
        let errors = parse(&bad).unwrap_err();
        let found: Vec<(String, String)> = errors.iter().map(|e| (e.field.clone(), e.code.to_string())).collect();
        assert_eq!(
            found,
            [
                ("$.documents[2].issued_on".to_owned(), "invalid_value".to_owned()),
                ("$.plan.items[0].children[0].children[1].kind".to_owned(), "invalid_value".to_owned()),
                ("$.plan.indicators[1].item".to_owned(), "unknown_reference".to_owned()),
            ]
        );
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::Value;

        use super::{fixture, parse};

        /// Any JSON value.
        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
                ".{0,40}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 64, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Every leaf of `value`, as paths of keys and indexes.
        fn leaves(value: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
            match value {
                Value::Object(map) => {
                    map.iter().for_each(|(k, v)| leaves(v, [path.clone(), vec![k.clone()]].concat(), out))
                }
                Value::Array(list) => list
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| leaves(v, [path.clone(), vec![i.to_string()]].concat(), out)),
                _ => out.push(path),
            }
        }

        fn at<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
            path.iter().fold(value, |v, key| match v {
                Value::Array(list) => &mut list[key.parse::<usize>().unwrap()],
                other => &mut other[key.as_str()],
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Whatever arrives, the reader answers with a plan or with problems, each
            /// pointing into the document; it never panics.
            #[test]
            fn any_json_is_read_or_refused_with_located_problems(value in json()) {
                if let Err(errors) = parse(&value) {
                    prop_assert!(!errors.is_empty());
                    prop_assert!(errors.iter().all(|e| e.field.starts_with('$')));
                }
            }

            /// The real plan with one value replaced by anything: read, or refused
            /// with located problems.
            #[test]
            fn the_plan_with_any_one_value_changed_is_read_or_refused(pick in any::<prop::sample::Index>(), new in json()) {
                let mut doc = fixture();
                let mut paths = Vec::new();
                leaves(&doc, Vec::new(), &mut paths);
                let path = pick.get(&paths).clone();
                *at(&mut doc, &path) = new;
                match parse(&doc) {
                    Ok(file) => prop_assert!(!file.items.is_empty()),
                    Err(errors) => prop_assert!(errors.iter().all(|e| e.field.starts_with('$'))),
                }
            }
        }
    }
}
