//! The job runner every instance runs: it claims due jobs from the shared queue
//! (`db::jobs`), works up to `CCHC_JOB_WORKERS` of them at once, and finishes or puts
//! off each: webhook deliveries (`webhooks`), e-mails (`mail`) and SMS (`sms`) of
//! outbound messages, and the recurring deadline scan (`db::deadlines`) with the
//! day's digests.
pub mod fetch;
pub mod mail;
mod outcome;
pub mod sms;
pub mod webhooks;

/// The recurring job that looks at deadlines (`CCHC_DEADLINE_SCAN_SECONDS`).
pub const DEADLINES: &str = "recurring.deadlines";
/// The recurring job that anonymises senders past retention (`CCHC_RETENTION_SCAN_SECONDS`).
pub const RETENTION: &str = "recurring.retention";

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    config::Settings,
    db::{self, PgPool, jobs::Job},
};

pub struct Runner {
    pool: PgPool,
    settings: Arc<Settings>,
    /// This instance's name on the jobs it holds.
    worker: Uuid,
    sender: webhooks::Sender,
    mailer: mail::Mailer,
    gateway: sms::Gateway,
    /// The file store, for the files of erased senders.
    evidence: crate::storage::EvidenceStore,
}

impl Runner {
    pub fn new(pool: PgPool, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let sender = webhooks::Sender::new(&settings.webhooks)?;
        let mailer = mail::Mailer::new(&settings)?;
        let gateway = sms::Gateway::new(&settings)?;
        let evidence = crate::storage::EvidenceStore::open(settings.storage_url.as_deref(), &settings.data_dir)?;
        Ok(Self { pool, settings, worker: Uuid::now_v7(), sender, mailer, gateway, evidence })
    }

    /// Runs for as long as the process does (nothing when `CCHC_JOB_WORKERS=0`).
    pub fn spawn(self) {
        let workers = self.settings.jobs.workers;
        if workers == 0 {
            tracing::info!("CCHC_JOB_WORKERS=0: this instance works no jobs");
            return;
        }
        let runner = Arc::new(self);
        actix_web::rt::spawn(async move { runner.run(workers).await });
    }

    async fn run(self: Arc<Self>, workers: usize) {
        let permits = Arc::new(Semaphore::new(workers));
        let mut recurring = false;
        loop {
            if !recurring {
                recurring = db::run(&self.pool, |conn| {
                    db::jobs::ensure_recurring(conn, DEADLINES)?;
                    Ok(db::jobs::ensure_recurring(conn, RETENTION)?)
                })
                .await
                .is_ok();
            }
            if permits.available_permits() == 0 {
                // Wait until one job of ours is done before claiming more.
                drop(permits.acquire().await);
            }
            let free = permits.available_permits().max(1) as i64;
            let (worker, lease) = (self.worker, self.settings.jobs.lease.as_secs_f64());
            let claimed = db::run(&self.pool, move |conn| Ok(db::jobs::claim(conn, worker, lease, free)?)).await;
            match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    for job in jobs {
                        let permit = permits.clone().acquire_owned().await.expect("the semaphore stays open");
                        let runner = self.clone();
                        // A trace of its own per job (traces, see `telemetry`).
                        let span = tracing::debug_span!(target: crate::telemetry::SPANS, parent: None, "job", otel.name = %format!("job {}", job.kind),
                            job.kind = %job.kind, job.id = job.id);
                        actix_web::rt::spawn(
                            async move {
                                runner.work(job).await;
                                drop(permit);
                            }
                            .instrument(span),
                        );
                    }
                }
                // Until the next look, or until a transaction of this instance queues one.
                Ok(_) => {
                    let _ = actix_web::rt::time::timeout(self.settings.jobs.poll, db::jobs::WAKE.notified()).await;
                }
                Err(err) => {
                    tracing::warn!("claiming jobs failed: {err}");
                    actix_web::rt::time::sleep(self.settings.jobs.poll.max(Duration::from_secs(1))).await;
                }
            }
        }
    }

    /// The deadline scan (`db::deadlines`) and, from `CCHC_DIGEST_HOUR` on, the day's
    /// digests; then the job put off until the next one.
    async fn scan_deadlines(&self, job: Job) -> Result<(), crate::error::ApiError> {
        use diesel::Connection;
        let (id, worker, clock) = (job.id, self.worker, self.settings.clock.clone());
        let d = &self.settings.deadlines;
        let (warn, remind, every) = (d.warn_days, d.remind_days, d.scan_every.as_secs_f64());
        let due_days = self.settings.report_due_days;
        let digest_hour = self.settings.digest_hour;
        // The open records a page at a time, each page in its own transaction (a page's
        // effects commit together; a scan cut off is run again, and every effect is once
        // per cause), then the duties, the digests and the next run in one.
        let mut after = None;
        let mut scanned = db::deadlines::Scanned::default();
        loop {
            let (today, now) = (clock.today(), clock.now());
            let (page, last) = db::run(&self.pool, move |conn| {
                Ok(conn.transaction(|conn| db::deadlines::scan(conn, today, now, warn, after))?)
            })
            .await?;
            scanned.records += page.records;
            scanned.notices += page.notices;
            scanned.escalated += page.escalated;
            match last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        let done = db::run(&self.pool, move |conn| {
            conn.transaction(|conn| {
                let mut done = scanned;
                let duties = db::deadlines::scan_duties(conn, clock.today(), remind, due_days)?;
                done.notices += duties.notices;
                done.escalated += duties.escalated;
                let local = clock.now().with_timezone(&crate::clock::vietnam());
                if chrono::Timelike::hour(&local) >= digest_hour {
                    done.notices += db::notifications::digests(conn, clock.today(), clock.now())?;
                }
                db::jobs::put_off(conn, id, worker, every)?;
                Ok(done)
            })
        })
        .await?;
        if done.notices > 0 || done.escalated > 0 {
            tracing::info!(notices = done.notices, escalated = done.escalated, "deadline scan");
        }
        Ok(())
    }

    /// The retention run (Decree 13/2023): anonymises the senders of records closed longer
    /// ago than their retention and not under legal hold, and erases the evidence files
    /// that show a person past the organisation's retention; then put off until the next.
    async fn apply_retention(&self, job: Job) -> Result<(), crate::error::ApiError> {
        let (id, worker, today) = (job.id, self.worker, self.settings.clock.today());
        let every = self.settings.retention_every.as_secs_f64();
        let run = crate::db::privacy::run_retention(&self.pool, today).await?;
        if run.records > 0 || run.evidence > 0 {
            tracing::info!(records = run.records, evidence = run.evidence, "retention run");
        }
        crate::db::privacy::remove_files(&self.pool, &self.evidence, run.files).await;
        db::run(&self.pool, move |conn| Ok(db::jobs::put_off(conn, id, worker, every).map(drop)?)).await
    }

    async fn work(&self, job: Job) {
        let (id, kind) = (job.id, job.kind.clone());
        let result = match kind.as_str() {
            webhooks::DELIVER => webhooks::deliver(self, job).await,
            DEADLINES => self.scan_deadlines(job).await,
            RETENTION => self.apply_retention(job).await,
            db::outbound::MAIL => mail::send(self, job).await,
            db::outbound::SMS => sms::send(self, job).await,
            _ => {
                // A kind a newer version of the service queued: leave it to that one.
                let worker = self.worker;
                db::run(&self.pool, move |conn| Ok(db::jobs::put_off(conn, id, worker, 60.0).map(|_| ())?)).await
            }
        };
        if let Err(err) = result {
            // The job stays claimed until its lease runs out, then it is tried again.
            tracing::warn!(job = id, kind, "a job failed: {err}");
        }
    }
}
