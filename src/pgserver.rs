//! A private PostgreSQL server, started from the installed server binaries when no
//! `DATABASE_URL` is given.
//!
//! Written here rather than taken from a crate: `pgtemp` only makes throw-away servers
//! (and needs `sudo` as root), `postgresql_embedded` downloads its server unless
//! configured otherwise, cannot run as root and pulls in sqlx. This module keeps a
//! persistent cluster in a folder, listens on a Unix socket only (in a 0700 directory,
//! so trust authentication is safe), and when the process is root it runs the server as
//! an unprivileged account, because PostgreSQL refuses to run as root.
use std::{
    fs,
    os::unix::{
        fs::{PermissionsExt, chown},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The longest Unix socket path the kernel accepts is 107 bytes.
const MAX_SOCKET_DIR_LEN: usize = 90;

#[derive(Clone, Debug)]
pub struct PrivatePostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    owner: Option<(u32, u32)>,
    started_here: bool,
}

impl PrivatePostgres {
    /// Initialises `root/pgdata` on first use and starts the server unless it is
    /// already running (e.g. left over after the service was killed).
    pub fn start(root: &Path, bin_dir: Option<&Path>, run_as: Option<&str>) -> anyhow::Result<Self> {
        let bin_dir = match bin_dir {
            Some(dir) => dir.to_path_buf(),
            None => find_bin_dir()?,
        };
        fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let root = root.canonicalize()?;
        let owner = unprivileged_owner(run_as)?;
        let data_dir = root.join("pgdata");
        let mut socket_dir = root.join("pgrun");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            socket_dir =
                std::env::temp_dir().join(format!("cchc-pg-{:016x}", fnv(root.as_os_str().as_encoded_bytes())));
        }
        for dir in [&socket_dir, &data_dir] {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            if let Some((uid, gid)) = owner {
                chown(dir, Some(uid), Some(gid))?;
            }
        }
        let mut server = Self { bin_dir, data_dir, socket_dir, owner, started_here: false };
        if let Some((uid, _)) = owner {
            server.check_reachable(uid)?;
        }
        if !server.data_dir.join("PG_VERSION").exists() {
            server.initdb()?;
        }
        if !server.is_running() {
            server.pg_ctl_start()?;
            server.started_here = true;
        }
        Ok(server)
    }

    /// A libpq URL for `database` over the private socket.
    pub fn url(&self, database: &str) -> String {
        format!("postgres:///{database}?host={}&user=postgres", self.socket_dir.display())
    }

    /// Stops the server if this process started it.
    pub fn stop(&self) {
        if self.started_here {
            let _ = self.pg_ctl(&["stop", "-m", "fast", "-w"]);
        }
    }

    /// Stops the server at once (tests), whoever started it.
    pub fn stop_immediately(&self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// A streaming replica of this server under `root`: a base backup taken with
    /// `pg_basebackup --write-recovery-conf` over the private socket, started as a hot
    /// standby on a socket of its own. (For the replica tests and for trying
    /// `DATABASE_REPLICA_URL` on one machine.)
    pub fn start_replica(&self, root: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let root = root.canonicalize()?;
        let data_dir = root.join("pgdata");
        let socket_dir = root.join("pgrun");
        for dir in [&root, &socket_dir] {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            if let Some((uid, gid)) = self.owner {
                chown(dir, Some(uid), Some(gid))?;
            }
        }
        let target = data_dir.to_string_lossy().into_owned();
        let host = self.socket_dir.to_string_lossy().into_owned();
        let out = self.run(
            "pg_basebackup",
            &["-h", &host, "-U", "postgres", "-D", &target, "--write-recovery-conf", "--checkpoint=fast", "--no-sync"],
        )?;
        if !out.status.success() {
            bail!("pg_basebackup failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let replica =
            Self { bin_dir: self.bin_dir.clone(), data_dir, socket_dir, owner: self.owner, started_here: false };
        replica.pg_ctl_start()?;
        Ok(Self { started_here: true, ..replica })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The postmaster's process id, while it runs.
    pub fn postmaster_pid(&self) -> Option<i32> {
        let pid = self.recorded_pid()?;
        (process_state(pid) == ProcessState::Running).then_some(pid)
    }

    /// The process id in `postmaster.pid`, whatever became of it.
    fn recorded_pid(&self) -> Option<i32> {
        fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
    }

    /// Watches the server from a thread of its own and starts it again whenever it is
    /// found gone (a crash, an OOM kill, `kill -9`), waiting longer after each failed
    /// start (1 s, doubling, at most `MAX_BACKOFF`). PostgreSQL recovers from its WAL
    /// on start; the pool replaces the connections that died with it.
    pub fn supervise(&self, every: Duration) -> Supervisor {
        let server = self.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pg-supervisor".into())
            .spawn(move || {
                let mut backoff = Duration::from_secs(1);
                let mut next_check = Instant::now() + every;
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if Instant::now() < next_check {
                        continue;
                    }
                    next_check = Instant::now() + every;
                    if server.postmaster_pid().is_some() {
                        continue;
                    }
                    tracing::warn!("the private PostgreSQL is not running: starting it again");
                    match server.pg_ctl_start() {
                        Ok(()) => {
                            tracing::info!("the private PostgreSQL is running again");
                            backoff = Duration::from_secs(1);
                        }
                        Err(err) => {
                            tracing::error!(
                                "could not start the private PostgreSQL (next try in {backoff:?}): {err:#}"
                            );
                            next_check = Instant::now() + backoff;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            })
            .expect("a thread can be started");
        Supervisor { stop, thread: Some(thread) }
    }

    fn initdb(&self) -> anyhow::Result<()> {
        let data = self.data_dir.to_string_lossy().into_owned();
        let out = self.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
        )?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// Not `pg_ctl status`: it takes a killed postmaster that is not yet reaped for a
    /// running one (see `pg_ctl_start`).
    fn is_running(&self) -> bool {
        self.postmaster_pid().is_some()
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        // A postmaster killed outright stays a zombie until its parent reaps it — here
        // init, which may take a second or more. While it does, the process id in
        // `postmaster.pid` still exists, and a new postmaster refuses the data directory
        // ("lock file already exists"). Wait for the reaping (a restart at once after a
        // `kill -9` used to fail, or be skipped, on this).
        let reaped_by = Instant::now() + Duration::from_secs(30);
        while let Some(pid) = self.recorded_pid()
            && process_state(pid) == ProcessState::Zombie
            && Instant::now() < reaped_by
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Options go through a shell inside pg_ctl: single-quote the socket path.
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections=200 -c fsync=on",
            self.socket_dir.display().to_string().replace('\'', "")
        );
        let log = self.data_dir.join("server.log").to_string_lossy().into_owned();
        let out = self.pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options])?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            bail!(
                "pg_ctl start failed: {} {}",
                String::from_utf8_lossy(&out.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<Output> {
        let data = self.data_dir.to_string_lossy().into_owned();
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.args(args)
            .current_dir(self.data_dir.parent().unwrap_or(Path::new("/")))
            .env_remove("PGDATA")
            .env("LC_ALL", "C.UTF-8");
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid).env("HOME", &self.data_dir);
        }
        cmd.output().with_context(|| format!("cannot run {}", self.bin_dir.join(program).display()))
    }

    /// The server account must be able to walk to its folder; `/root/...` is not.
    fn check_reachable(&self, uid: u32) -> anyhow::Result<()> {
        let mut dir = self.data_dir.as_path();
        while let Some(parent) = dir.parent() {
            let meta = fs::metadata(parent)?;
            let mode = meta.permissions().mode();
            use std::os::unix::fs::MetadataExt;
            let traversable = mode & 0o001 != 0 || (meta.uid() == uid && mode & 0o100 != 0);
            if !traversable {
                bail!(
                    "the private PostgreSQL runs as an unprivileged account (uid {uid}), which cannot enter {}; \
                     set CCHC_DATA_DIR to a folder it can reach (e.g. /var/tmp/cchc) or set DATABASE_URL",
                    parent.display()
                );
            }
            dir = parent;
        }
        Ok(())
    }
}

/// The longest wait between two attempts to start the server again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The thread of `PrivatePostgres::supervise`; stops watching when stopped or dropped.
pub struct Supervisor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.halt();
    }
}

/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/<major>/bin`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries found (install the Debian package postgresql, \
             set CCHC_PG_BIN_DIR, or set DATABASE_URL)"
        ),
    }
}

/// When running as root, the (uid, gid) of the account that will own and run the server.
fn unprivileged_owner(requested: Option<&str>) -> anyhow::Result<Option<(u32, u32)>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let names: Vec<&str> = match requested {
        Some(name) => vec![name],
        None => vec!["postgres", "nobody"],
    };
    for name in &names {
        if let Some(user) = nix::unistd::User::from_name(name)? {
            if user.uid.is_root() {
                bail!("CCHC_PG_USER must not be root");
            }
            return Ok(Some((user.uid.as_raw(), user.gid.as_raw())));
        }
    }
    bail!("running as root, but no account {names:?} exists to run PostgreSQL; set CCHC_PG_USER")
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[derive(Debug, PartialEq, Eq)]
enum ProcessState {
    Running,
    /// Ended, not yet reaped by its parent.
    Zombie,
    Gone,
}

/// Whether process `pid` runs. Signal 0 only asks whether it exists (EPERM: it does, as
/// another user); a zombie exists too, so Linux's `/proc/<pid>/stat` tells it apart.
fn process_state(pid: i32) -> ProcessState {
    let probe = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None);
    if probe == Err(nix::errno::Errno::ESRCH) {
        return ProcessState::Gone;
    }
    // The state follows the command name in parentheses, which may itself hold spaces.
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false);
    if zombie { ProcessState::Zombie } else { ProcessState::Running }
}
