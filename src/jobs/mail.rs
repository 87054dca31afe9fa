//! E-mails (notices, digests, messages to senders) over SMTP (`CCHC_SMTP_URL`)
//! through lettre. A message's id is its Message-ID on every attempt; a failure is
//! tried again on the webhook schedule; the text never goes to the logs.
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType};

use super::{Runner, outcome::Attempt};
use crate::{config::Settings, db::jobs::Job, domain::events::subject_url, error::ApiError};

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: lettre::message::Mailbox,
}

impl Mailer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let from = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("CCHC_MAIL_FROM is not an address ({e}): {:?}", settings.mail_from))?;
        let transport = match &settings.smtp_url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("CCHC_SMTP_URL is not an SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
            ),
        };
        Ok(Self { transport, from })
    }
}

/// Works one `mail.send` job.
pub async fn send(runner: &Runner, job: Job) -> Result<(), ApiError> {
    let Some((attempt, mail)) = Attempt::start(runner, &job).await? else { return Ok(()) };
    let (Some(transport), Some(to)) = (&runner.mailer.transport, mail.contact.as_deref()) else {
        return attempt.give_up("skipped", "no SMTP server configured, or no address").await;
    };
    let (subject, body) = match (&mail.subject, &mail.body) {
        (Some(subject), Some(body)) => (subject.clone(), body.clone()),
        _ => {
            // A notice: written from it now, in the person's language.
            let english = mail.language == "en";
            let title = if english { mail.title_en.as_ref().or(mail.title.as_ref()) } else { mail.title.as_ref() };
            let link = mail
                .subject_id
                .zip(mail.subject_type.as_deref())
                .and_then(|(id, kind)| subject_url(kind, id))
                .unwrap_or_default();
            let name = mail.full_name.as_deref().unwrap_or_default();
            crate::domain::notices::mail(name, english, title.map_or("", String::as_str), &link)
        }
    };
    let Ok(to) = to.parse() else {
        return attempt.give_up("failed", "the e-mail address is not valid").await;
    };
    let message = Message::builder()
        .message_id(Some(format!("<{}@cchc-outreach>", mail.id)))
        .from(runner.mailer.from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(ApiError::internal)?;
    match transport.send(message).await {
        Ok(_) => attempt.done().await,
        Err(err) if err.is_permanent() => attempt.give_up("failed", &short(&err.to_string())).await,
        Err(err) => attempt.again(short(&err.to_string())).await,
    }
}

/// At most 300 characters of an error.
pub(super) fn short(text: &str) -> String {
    text.chars().take(300).collect()
}
