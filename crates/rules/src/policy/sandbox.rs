//! `--policy` packages evaluated in a child process. A user's policy directory may be written
//! by the pull request being linted, and regorus allocates what a policy asks for up front
//! (`numbers.range(1, 1000000000)` reserves 24 GB in one call, before any check of its own
//! could run), so a user package runs in a child whose address space is capped
//! (`RLIMIT_AS`, Linux) at what it holds when the evaluation starts plus
//! `limits.regoMemoryBytes`. When the child runs out, the allocation fails there and the
//! child aborts; this process reports the package as over budget and goes on. The child is
//! this executable again, started with [`SANDBOX_ARG`] ([`child_main`]).
//!
//! The protocol: one line of JSON ([`Request`]) and the input's JSON on the child's standard
//! input; one [`Reply`] as JSON on its standard output.

use super::{eval_package, PolicyLimits, PolicySet, RegoBudget, Stop};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The hidden first argument that makes the `gitops-lint` binary evaluate one package for
/// its parent ([`child_main`]).
pub const SANDBOX_ARG: &str = "__evaluate-policy-package";

/// What the parent asks.
#[derive(Serialize, Deserialize)]
struct Request {
    /// The `--policy` directories (compiled with the embedded policies, as in the parent).
    dirs: Vec<PathBuf>,
    /// The package to evaluate (`data.acme.x`).
    package: String,
    /// `limits.regoSeconds`, in milliseconds.
    time_ms: u64,
    /// `limits.regoMemoryBytes`.
    memory_bytes: u64,
}

/// What the child answers.
#[derive(Serialize, Deserialize)]
enum Reply {
    /// The `deny` and `warn` items, each with its set.
    Items(Vec<(String, Value)>),
    /// A budget ran out (`time`, `memory`).
    Budget(String),
    /// The policy failed at run time.
    Failed(String),
}

/// How much longer than the time budget the parent waits before it kills the child: the
/// child also compiles the policies and reads the input, and stops itself at the budget.
const GRACE: Duration = Duration::from_secs(10);

/// Evaluates `package` in a child process started from `exe`; what [`eval_package`] gives.
pub(crate) fn run_package(
    exe: &Path,
    dirs: &[PathBuf],
    package: &str,
    limits: PolicyLimits,
    input_json: &str,
) -> Result<Vec<(&'static str, Value)>, Stop> {
    let request = Request {
        dirs: dirs.to_vec(),
        package: package.to_string(),
        time_ms: u64::try_from(limits.time.as_millis()).unwrap_or(u64::MAX),
        memory_bytes: limits.memory_bytes,
    };
    let header = serde_json::to_string(&request).map_err(|e| Stop::Failed(e.to_string()))?;
    let mut child = Command::new(exe)
        .arg(SANDBOX_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .spawn()
        .map_err(|e| {
            Stop::Failed(format!(
                "cannot start the policy evaluator `{}`: {e}",
                exe.display()
            ))
        })?;
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Stop::Failed("cannot talk to the policy evaluator".into()));
    };
    let deadline = Instant::now() + limits.time.saturating_mul(2) + GRACE;
    let (status, out, err, killed) = std::thread::scope(|s| {
        s.spawn(move || {
            // The child may die before it has read everything: nothing to do about that here.
            let _ = stdin
                .write_all(header.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .and_then(|()| stdin.write_all(input_json.as_bytes()));
        });
        let out = s.spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            buf
        });
        let err = s.spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        let mut killed = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    killed = true;
                    let _ = child.kill();
                    break child.wait().ok();
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => {
                    let _ = child.kill();
                    break child.wait().ok();
                }
            }
        };
        (
            status,
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
            killed,
        )
    });
    if killed {
        return Err(Stop::Budget(RegoBudget::Time));
    }
    let stderr = String::from_utf8_lossy(&err);
    match status {
        Some(status) if status.success() => match serde_json::from_slice::<Reply>(&out) {
            Ok(Reply::Items(items)) => Ok(items
                .into_iter()
                .map(|(set, item)| (if set == "deny" { "deny" } else { "warn" }, item))
                .collect()),
            Ok(Reply::Budget(b)) if b == "memory" => Err(Stop::Budget(RegoBudget::Memory)),
            Ok(Reply::Budget(_)) => Err(Stop::Budget(RegoBudget::Time)),
            Ok(Reply::Failed(message)) => Err(Stop::Failed(message)),
            Err(e) => Err(Stop::Failed(format!(
                "the policy evaluator gave no result ({e})"
            ))),
        },
        // Rust's allocation failure handler (`memory allocation of N bytes failed`) and
        // `Vec`'s `capacity overflow`: the address space cap was reached.
        Some(_)
            if stderr.contains("memory allocation of")
                || stderr.contains("capacity overflow")
                || stderr.contains("out of memory") =>
        {
            Err(Stop::Budget(RegoBudget::Memory))
        }
        Some(status) if killed_by_sigkill(&status) => Err(Stop::Budget(RegoBudget::Memory)),
        other => {
            let tail: String = stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .chars()
                .take(300)
                .collect();
            Err(Stop::Failed(format!(
                "the policy evaluator stopped ({}){}",
                other.map_or_else(|| "no status".to_string(), |s| s.to_string()),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {tail}")
                }
            )))
        }
    }
}

/// Whether the child was killed by `SIGKILL` that we did not send (the kernel's
/// out-of-memory killer).
#[cfg(unix)]
fn killed_by_sigkill(status: &std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

#[cfg(not(unix))]
fn killed_by_sigkill(_: &std::process::ExitStatus) -> bool {
    false
}

/// The child's side: reads a [`Request`] and the input from standard input, evaluates the
/// package with the address space capped, and writes a [`Reply`]. Returns the exit code.
pub fn child_main() -> u8 {
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        return 2;
    }
    let reply = child_reply(&text);
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, &reply) {
        Ok(()) => {
            let _ = stdout.flush();
            0
        }
        Err(_) => 2,
    }
}

fn child_reply(text: &str) -> Reply {
    let (header, input) = text.split_once('\n').unwrap_or((text, "{}"));
    let request: Request = match serde_json::from_str(header) {
        Ok(r) => r,
        Err(e) => return Reply::Failed(format!("bad request: {e}")),
    };
    let limits = PolicyLimits {
        time: Duration::from_millis(request.time_ms),
        memory_bytes: request.memory_bytes,
    };
    let set = match PolicySet::load(&request.dirs, limits) {
        Ok(set) => set,
        Err(e) => return Reply::Failed(e.to_string()),
    };
    let input = match regorus::Value::from_json_str(input) {
        Ok(v) => v,
        Err(e) => return Reply::Failed(format!("bad input: {e}")),
    };
    let mut engine = set.engine.clone();
    engine.set_input(input);
    cap_memory(request.memory_bytes);
    match eval_package(&mut engine, &request.package) {
        Ok(items) => Reply::Items(
            items
                .into_iter()
                .map(|(set, item)| (set.to_string(), item))
                .collect(),
        ),
        Err(Stop::Budget(RegoBudget::Time)) => Reply::Budget("time".into()),
        Err(Stop::Budget(RegoBudget::Memory)) => Reply::Budget("memory".into()),
        Err(Stop::Failed(message)) => Reply::Failed(message),
    }
}

/// Caps this process's address space at what it maps now plus `budget` bytes.
#[cfg(target_os = "linux")]
fn cap_memory(budget: u64) {
    // /proc/self/statm: the first field is the address space size, in pages.
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let (Some(pages), Ok(page)) = (pages, u64::try_from(page)) else {
        return;
    };
    let cap = pages.saturating_mul(page).saturating_add(budget);
    let limit = libc::rlimit {
        rlim_cur: cap as libc::rlim_t,
        rlim_max: cap as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct it is given; it changes only this process's limit.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit);
    }
}

/// Elsewhere there is no cap: the time budget still stops the child, and an allocation the
/// system refuses still ends only the child.
#[cfg(not(target_os = "linux"))]
fn cap_memory(_: u64) {}
