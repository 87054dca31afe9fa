//! The organisation's templates of messages to senders (receipt, extension, answer,
//! publication, reopening; by e-mail and SMS): read, written with their placeholders
//! checked, or given back to the built-in ones.
use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::{self, Actor, Event},
        templates::{self, TemplateRow},
    },
    domain::messages::{MessageChannel, MessageKind, Template, builtin, check, render, sms_size},
    error::{ApiError, FieldError},
    http::{ApiJson, RequestContext, query::ApiQuery},
    state::AppState,
};

/// One template as the organisation uses it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"kind": "receipt", "channel": "sms", "subject": null,
    "body": "{organization}: đã tiếp nhận PAKN {code}, hạn trả lời {deadline}. Mã PIN tra cứu: {pin}",
    "custom": false, "placeholders": ["code", "organization", "tracking_url", "received_on", "deadline", "pin"],
    "sample": "Ban Quản lý dự án phát triển tỉnh Khánh Hòa: đã tiếp nhận PAKN PAKN-2021-000123, hạn trả lời 29/03/2021. Mã PIN tra cứu: 40718263",
    "sms": {"encoding": "ucs2", "length": 133, "parts": 2}, "version": null, "updated_at": null}))]
pub struct MessageTemplate {
    pub kind: MessageKind,
    pub channel: MessageChannel,
    /// The e-mail's subject; `null` for SMS.
    pub subject: Option<String>,
    pub body: String,
    /// `false`: the built-in template (no template of the organisation's own).
    pub custom: bool,
    /// What `{…}` this kind may use.
    pub placeholders: Vec<&'static str>,
    /// The body with typical values.
    pub sample: String,
    /// For SMS: what the sample takes (160 GSM characters or 70 UCS-2 ones — any
    /// Vietnamese diacritic outside GSM's few — in one part; 153 or 67 per part beyond).
    pub sms: Option<SmsParts>,
    /// The organisation's own template's version (`null` for the built-in one).
    pub version: Option<i32>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every kind on every channel.
#[derive(Serialize, ToSchema)]
pub struct MessageTemplates {
    pub organization_id: Uuid,
    pub items: Vec<MessageTemplate>,
    /// Always `null`: every template is on this page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SmsParts {
    /// `gsm` or `ucs2`.
    #[schema(pattern = "^(gsm|ucs2)$")]
    pub encoding: &'static str,
    pub length: usize,
    pub parts: usize,
}

impl MessageTemplate {
    fn new(kind: MessageKind, channel: MessageChannel, own: Option<TemplateRow>) -> Self {
        let custom = own.is_some();
        let (template, version, updated_at) = match own {
            Some(row) => (Template { subject: row.subject, body: row.body }, Some(row.version), Some(row.updated_at)),
            None => (builtin(kind, channel), None, None),
        };
        let sample = render(&template.body, &kind.sample());
        let sms = (channel == MessageChannel::Sms).then(|| {
            let size = sms_size(&sample);
            SmsParts { encoding: size.encoding, length: size.length, parts: size.parts }
        });
        Self {
            kind,
            channel,
            subject: template.subject,
            body: template.body,
            custom,
            placeholders: kind.placeholders(),
            sample,
            sms,
            version,
            updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateScope {
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// A template's text. `{name}` is replaced by a placeholder's value (the template's
/// `placeholders`); a brace is nothing else.
#[derive(Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "{organization} đã nhận phản ánh {code}; hạn trả lời {deadline}; mã tra cứu {pin}."}))]
pub struct PutTemplate {
    /// Required for e-mail, absent for SMS.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub subject: Option<String>,
    #[validate(length(min = 1, max = 5000), custom(function = "crate::domain::validate::not_blank"))]
    #[schema(min_length = 1, max_length = 5000, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$")]
    pub body: String,
}

type KindChannel = web::Path<(MessageKind, MessageChannel)>;

/// The organisation's message templates: every kind on every channel.
#[utoipa::path(
    tag = "feedback",
    params(TemplateScope),
    responses((status = 200, description = "Each kind and channel, the organisation's own or the built-in one.", body = MessageTemplates))
)]
#[get("")]
pub async fn list_message_templates(
    auth: AuthUser,
    query: ApiQuery<TemplateScope>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::MessageTemplatesManage)?;
    let org = auth.0.acting_org(query.0.organization_id)?;
    let own = db::run(&state.pool, move |conn| {
        crate::routes::checks::organization(conn, org)?;
        Ok(templates::all(conn, org)?)
    })
    .await?;
    let mut out = Vec::new();
    for &kind in MessageKind::ALL {
        for &channel in MessageChannel::ALL {
            let row = own.iter().find(|r| r.kind == kind.as_str() && r.channel == channel.as_str()).cloned();
            out.push(MessageTemplate::new(kind, channel, row));
        }
    }
    Ok(HttpResponse::Ok().json(MessageTemplates { organization_id: org, items: out, next_cursor: None }))
}

/// One message template.
#[utoipa::path(
    tag = "feedback",
    params(("kind" = MessageKind, Path), ("channel" = MessageChannel, Path), TemplateScope),
    responses((status = 200, description = "The organisation's own, or the built-in one.", body = MessageTemplate))
)]
#[get("/{kind}/{channel}")]
pub async fn get_message_template(
    auth: AuthUser,
    path: KindChannel,
    query: ApiQuery<TemplateScope>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::MessageTemplatesManage)?;
    let org = auth.0.acting_org(query.0.organization_id)?;
    let (kind, channel) = path.into_inner();
    let own = db::run(&state.pool, move |conn| {
        crate::routes::checks::organization(conn, org)?;
        Ok(templates::find(conn, org, kind, channel)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MessageTemplate::new(kind, channel, own)))
}

/// Checks a template's text for its kind and channel: a 422 naming the field.
fn checked(kind: MessageKind, channel: MessageChannel, body: PutTemplate) -> Result<Template, ApiError> {
    if body.subject.is_some() != (channel == MessageChannel::Email) {
        return Err(ApiError::rule("subject", "template_subject_email_only"));
    }
    let mut errors = Vec::new();
    for (field, text) in [("subject", body.subject.as_deref()), ("body", Some(body.body.as_str()))] {
        if let Some(Err((code, name))) = text.map(|t| check(kind, t)) {
            errors.push(FieldError::new(field, code).arg("name", name).arg("allowed", kind.placeholders().join(", ")));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::rules(errors));
    }
    Ok(Template { subject: body.subject.map(|s| s.trim().to_owned()), body: body.body.trim().to_owned() })
}

/// Write the organisation's own template.
///
/// Every `{…}` must be one of the kind's `placeholders` (422 `template_placeholder_unknown`,
/// `template_brace_unmatched`); e-mail templates have a subject, SMS ones none. The
/// answer gives the SMS's parts for a typical message.
#[utoipa::path(
    tag = "feedback",
    params(("kind" = MessageKind, Path), ("channel" = MessageChannel, Path), TemplateScope),
    request_body = PutTemplate,
    responses(
        (status = 200, description = "Saved.", body = MessageTemplate),
        (status = 422, description = "A placeholder the kind does not have, a lone brace, or a subject where it does not belong.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/{kind}/{channel}")]
pub async fn put_message_template(
    auth: AuthUser,
    ctx: RequestContext,
    path: KindChannel,
    query: ApiQuery<TemplateScope>,
    body: ApiJson<PutTemplate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::MessageTemplatesManage)?;
    let org = principal.acting_org(query.0.organization_id)?;
    let (kind, channel) = path.into_inner();
    let template = checked(kind, channel, body.0)?;
    let (actor, by) = (Actor::of(&principal, &ctx), principal.id);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            crate::routes::checks::organization(conn, org)?;
            let before = templates::find(conn, org, kind, channel)?;
            let row = templates::put(conn, org, kind, channel, &template, by)?;
            let text = |r: &TemplateRow| serde_json::json!({"kind": r.kind, "channel": r.channel, "subject": r.subject, "body": r.body});
            let event = Event {
                action: if before.is_some() { "update" } else { "create" },
                entity_type: "message_template",
                entity_id: None,
                organization_id: Some(org),
                changes: audit::diff(&before.as_ref().map(text).unwrap_or_default(), &text(&row)),
            };
            audit::record(conn, &actor, event)?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(MessageTemplate::new(kind, channel, Some(row))))
}

/// Go back to the built-in template.
#[utoipa::path(
    tag = "feedback",
    params(("kind" = MessageKind, Path), ("channel" = MessageChannel, Path), TemplateScope),
    responses((status = 200, description = "The built-in template, now in use.", body = MessageTemplate))
)]
#[delete("/{kind}/{channel}")]
pub async fn delete_message_template(
    auth: AuthUser,
    ctx: RequestContext,
    path: KindChannel,
    query: ApiQuery<TemplateScope>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::MessageTemplatesManage)?;
    let org = principal.acting_org(query.0.organization_id)?;
    let (kind, channel) = path.into_inner();
    let actor = Actor::of(&principal, &ctx);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            crate::routes::checks::organization(conn, org)?;
            if let Some(row) = templates::remove(conn, org, kind, channel)? {
                let before = serde_json::json!({"kind": row.kind, "channel": row.channel, "subject": row.subject, "body": row.body});
                let event = Event {
                    action: "delete",
                    entity_type: "message_template",
                    entity_id: None,
                    organization_id: Some(org),
                    changes: audit::diff(&before, &serde_json::Value::Null),
                };
                audit::record(conn, &actor, event)?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(MessageTemplate::new(kind, channel, None)))
}
