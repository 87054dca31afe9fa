//! Fetching a file a caller names by address (Open311's `media_url`): through the same
//! guarded client as webhook deliveries — the same address rules
//! (`CCHC_WEBHOOK_ALLOW_HTTP`, `CCHC_WEBHOOK_ALLOW_PRIVATE`), no redirects, no proxy,
//! time-outs — and never more than `max_bytes`.
use crate::{config::WebhookSettings, domain::webhooks::check_url};

/// The file at `url`, or why not (in English, for the caller).
pub async fn fetch(settings: &WebhookSettings, url: &str, max_bytes: u64) -> Result<Vec<u8>, String> {
    let url = check_url(url, settings.allow_http, settings.allow_private)
        .map_err(|code| format!("the address is refused ({code})"))?;
    let client = super::webhooks::guarded_client(settings, "media").map_err(|e| e.to_string())?;
    let mut answer = client.get(url).send().await.map_err(super::webhooks::describe)?;
    if !answer.status().is_success() {
        return Err(format!("it answered {}", answer.status().as_u16()));
    }
    let too_large = || format!("it is larger than {max_bytes} bytes");
    if answer.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(super::webhooks::describe)? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > max_bytes {
            return Err(too_large());
        }
    }
    Ok(body)
}
