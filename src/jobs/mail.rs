//! Notices by e-mail: one message per notice, over SMTP (`CCHC_SMTP_URL`) through
//! lettre. Its id is the Message-ID on every attempt; a failure is tried again on the
//! webhook schedule; the text never goes to the logs.
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType};

use super::Runner;
use crate::{
    config::Settings,
    db::{self, jobs::Job, notifications},
    domain::events::subject_url,
    error::ApiError,
};

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
    let (job_id, worker) = (job.id, runner.worker);
    let id = job.payload.get("message_id").and_then(|v| v.as_str()).and_then(|v| v.parse().ok());
    let mail = match id {
        Some(id) => db::run(&runner.pool, move |conn| Ok(notifications::mail(conn, id)?)).await?,
        None => None,
    };
    let finish = |status: &'static str, error: Option<String>| {
        let pool = runner.pool.clone();
        async move {
            db::run(&pool, move |conn| {
                diesel::Connection::transaction(conn, |conn| {
                    if db::jobs::finish(conn, job_id, worker)?
                        && let Some(id) = id
                    {
                        notifications::mail_outcome(conn, id, status, error.as_deref())?;
                    }
                    Ok(())
                })
            })
            .await
        }
    };
    let Some(mail) = mail.filter(|m| m.status == "pending") else {
        // Sent already (a job taken again after a crash), or gone: nothing to do.
        let pool = runner.pool.clone();
        return db::run(&pool, move |conn| Ok(db::jobs::finish(conn, job_id, worker).map(|_| ())?)).await;
    };
    let (Some(transport), Some(to)) = (&runner.mailer.transport, mail.email.as_deref()) else {
        return finish("skipped", Some("no SMTP server configured".to_owned())).await;
    };
    let link = mail.subject_id.and_then(|s| subject_url(&mail.subject_type, s)).unwrap_or_default();
    let body =
        format!("Kính gửi {},\n\n{}\n\nXem chi tiết: {link}\n\n— Hệ thống cchc-outreach\n", mail.full_name, mail.title);
    let message = Message::builder()
        .message_id(Some(format!("<{}@cchc-outreach>", mail.id)))
        .from(runner.mailer.from.clone())
        .to(match to.parse() {
            Ok(to) => to,
            Err(_) => return finish("failed", Some("the person's e-mail address is not valid".to_owned())).await,
        })
        .subject(format!("[CCHC] {}", mail.title))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(ApiError::internal)?;
    match transport.send(message).await {
        Ok(_) => finish("sent", None).await,
        Err(err) => {
            let error = err.to_string().chars().take(300).collect::<String>();
            tracing::warn!(message = %mail.id, "e-mail not sent: {error}");
            match runner.settings.webhooks.retry.wait_after(job.attempts, rand::random::<f64>()) {
                Some(wait) => {
                    let (pool, mail_id) = (runner.pool.clone(), mail.id);
                    db::run(&pool, move |conn| {
                        diesel::Connection::transaction(conn, |conn| {
                            if db::jobs::put_off(conn, job_id, worker, wait.as_secs_f64())? {
                                notifications::mail_outcome(conn, mail_id, "pending", Some(&error))?;
                            }
                            Ok(())
                        })
                    })
                    .await
                }
                None => finish("failed", Some(error)).await,
            }
        }
    }
}
