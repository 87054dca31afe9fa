//! One attempt at sending an outbound message (`db::outbound`), whichever the channel:
//! the message read, and what came of it written back with the job's end — only while
//! this instance still holds the job.
use uuid::Uuid;

use super::Runner;
use crate::{
    db::{self, jobs::Job, outbound},
    error::ApiError,
};

pub struct Attempt<'a> {
    runner: &'a Runner,
    job: i64,
    attempts: i32,
    message: Uuid,
}

impl<'a> Attempt<'a> {
    /// The message to send, or `None` (the job finished) when there is nothing to do:
    /// sent already (a job taken again after a crash), gone, or no longer consented to.
    pub async fn start(runner: &'a Runner, job: &Job) -> Result<Option<(Attempt<'a>, outbound::Outgoing)>, ApiError> {
        let (job_id, worker) = (job.id, runner.worker);
        let id: Option<Uuid> = job.payload.get("message_id").and_then(|v| v.as_str()).and_then(|v| v.parse().ok());
        let message = match id {
            Some(id) => db::run(&runner.pool, move |conn| Ok(outbound::outgoing(conn, id)?)).await?,
            None => None,
        };
        let Some(message) = message.filter(|m| m.status == "pending") else {
            db::run(&runner.pool, move |conn| Ok(db::jobs::finish(conn, job_id, worker).map(|_| ())?)).await?;
            return Ok(None);
        };
        let attempt = Attempt { runner, job: job_id, attempts: job.attempts, message: message.id };
        if !message.consented {
            attempt.give_up("skipped", "the sender withdrew consent to this channel").await?;
            return Ok(None);
        }
        Ok(Some((attempt, message)))
    }

    pub async fn done(self) -> Result<(), ApiError> {
        self.finish("sent", None).await
    }

    /// Not sent, and not to be tried again: `failed` or `skipped`.
    pub async fn give_up(self, status: &'static str, why: &str) -> Result<(), ApiError> {
        self.finish(status, Some(why.to_owned())).await
    }

    /// Tried again after the next wait of the schedule, or `failed` when it has run out.
    pub async fn again(self, error: String) -> Result<(), ApiError> {
        tracing::warn!(message = %self.message, "a message was not sent: {error}");
        match self.runner.settings.webhooks.retry.wait_after(self.attempts, rand::random::<f64>()) {
            None => self.finish("failed", Some(error)).await,
            Some(wait) => {
                let (job, worker, id) = (self.job, self.runner.worker, self.message);
                db::run(&self.runner.pool, move |conn| {
                    diesel::Connection::transaction(conn, |conn| {
                        if db::jobs::put_off(conn, job, worker, wait.as_secs_f64())? {
                            outbound::outcome(conn, id, "pending", Some(&error))?;
                        }
                        Ok(())
                    })
                })
                .await
            }
        }
    }

    async fn finish(self, status: &'static str, error: Option<String>) -> Result<(), ApiError> {
        let (job, worker, id) = (self.job, self.runner.worker, self.message);
        db::run(&self.runner.pool, move |conn| {
            diesel::Connection::transaction(conn, |conn| {
                if db::jobs::finish(conn, job, worker)? {
                    outbound::outcome(conn, id, status, error.as_deref())?;
                }
                Ok(())
            })
        })
        .await
    }
}
