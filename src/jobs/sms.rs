//! SMS to senders through an HTTP gateway (`CCHC_SMS_GATEWAY_URL`): `POST` of
//! `{"to": "+84…", "text": "…", "reference": "<message id>"}` with
//! `Authorization: Bearer CCHC_SMS_GATEWAY_TOKEN`; any 2xx is sent. The reference is
//! the same on every attempt, so a gateway can drop a repeat. A 4xx other than 408 and
//! 429 is not tried again; anything else is, on the webhook schedule. Nothing of the
//! gateway's answer is kept but its status (it may repeat the number).
use std::time::Duration;

use super::{Runner, mail::short, outcome::Attempt};
use crate::{config::Settings, db::jobs::Job, domain::messages::e164, error::ApiError};

pub struct Gateway {
    client: reqwest::Client,
    url: Option<String>,
    token: Option<String>,
}

impl Gateway {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            url: settings.sms_gateway_url.clone(),
            token: settings.sms_gateway_token.as_ref().map(|t| t.expose().to_owned()),
        })
    }
}

/// Works one `sms.send` job.
pub async fn send(runner: &Runner, job: Job) -> Result<(), ApiError> {
    let Some((attempt, sms)) = Attempt::start(runner, &job).await? else { return Ok(()) };
    let gateway = &runner.gateway;
    let (Some(url), Some(phone)) = (&gateway.url, sms.contact.as_deref()) else {
        return attempt.give_up("skipped", "no SMS gateway configured, or no phone").await;
    };
    let Some(to) = e164(phone) else {
        return attempt.give_up("failed", "the phone number is not one").await;
    };
    let body = serde_json::json!({"to": to, "text": sms.body.as_deref().unwrap_or_default(), "reference": sms.id});
    let mut request = gateway
        .client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).map_err(ApiError::internal)?);
    if let Some(token) = &gateway.token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(res) if res.status().is_success() => attempt.done().await,
        Ok(res) => {
            let status = res.status();
            let error = format!("the gateway answered HTTP {}", status.as_u16());
            if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
                attempt.give_up("failed", &error).await
            } else {
                attempt.again(error).await
            }
        }
        Err(err) => attempt.again(short(&format!("the gateway could not be reached: {}", without_url(err)))).await,
    }
}

/// A transport error without the URL (its query could hold a key).
fn without_url(err: reqwest::Error) -> String {
    err.without_url().to_string()
}
