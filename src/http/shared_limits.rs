//! Rate limits every instance shares, kept in Redis when `CCHC_REDIS_URL` is set: the
//! same GCRA quota a minute as the in-memory limiter (`governor`), as one Lua script
//! run atomically by Redis on its own clock, so that instances behind a load balancer
//! count each caller once. A Redis that fails a check leaves that request to the
//! instance's in-memory limiter (logged), rather than refusing or admitting everyone.
use redis::{Script, aio::ConnectionManager};

/// GCRA on Redis's clock. KEYS[1]: the caller's key; ARGV[1]: the emission interval in
/// ms (60 000 / limit), ARGV[2]: the limit (the burst). Returns
/// `{allowed, remaining, wait_ms, reset_ms}`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local window = interval * limit
if new_tat - now > window then
  return {0, 0, new_tat - now - window, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((window - (new_tat - now)) / interval), 0, new_tat - now}
";

/// What Redis said of one request.
pub struct Verdict {
    pub allowed: bool,
    pub remaining: u32,
    /// Milliseconds until a refused request may be made.
    pub wait_ms: u64,
    /// Milliseconds until the whole allowance is back.
    pub reset_ms: u64,
}

#[derive(Clone)]
pub struct SharedLimits {
    conn: ConnectionManager,
    script: Script,
}

impl SharedLimits {
    /// Connects (and keeps reconnecting) to `url`; an unreachable Redis at start is an error.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self { conn, script: Script::new(GCRA) })
    }

    /// Counts one request of `key` against `per_minute`.
    pub async fn check(&self, key: &str, per_minute: u32) -> redis::RedisResult<Verdict> {
        let interval = 60_000 / u64::from(per_minute.max(1));
        let mut conn = self.conn.clone();
        let (allowed, remaining, wait_ms, reset_ms): (i64, i64, i64, i64) = self
            .script
            .key(format!("cchc:rate:{key}"))
            .arg(interval.max(1))
            .arg(per_minute)
            .invoke_async(&mut conn)
            .await?;
        Ok(Verdict {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            wait_ms: u64::try_from(wait_ms.max(0)).unwrap_or(0),
            reset_ms: u64::try_from(reset_ms.max(0)).unwrap_or(0),
        })
    }
}
