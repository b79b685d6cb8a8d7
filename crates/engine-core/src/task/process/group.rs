//! The process group of one child: signals to every process in it, and waiting
//! until none of them runs any more. Elsewhere than Unix there are no groups and
//! these do nothing (the caller kills the child itself).

use std::process::ExitStatus;
use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

#[cfg(unix)]
use nix::sys::signal::{Signal, killpg};
#[cfg(unix)]
use nix::unistd::Pid;

/// How often a dying group is looked at.
#[cfg(unix)]
const GONE_POLL: Duration = Duration::from_millis(5);

/// A child's process group (the child is its leader: `process_group(0)`).
///
/// While armed, dropping it kills the group with `SIGKILL`, so a run whose
/// future is dropped leaves nothing behind.
pub(super) struct Group {
    #[cfg(unix)]
    pgid: Option<Pid>,
    armed: bool,
}

impl Group {
    /// The group led by the child with process id `id`.
    pub(super) fn of(id: Option<u32>) -> Self {
        #[cfg(unix)]
        {
            // Never 0 (our own group) or 1: only a real child's id.
            let pgid = id
                .and_then(|id| i32::try_from(id).ok())
                .filter(|&id| id > 1);
            Group {
                pgid: pgid.map(Pid::from_raw),
                armed: true,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = id;
            Group { armed: true }
        }
    }

    /// Sends `SIGTERM` to the group; whether there was a group to signal.
    pub(super) fn terminate(&self) -> bool {
        #[cfg(unix)]
        {
            self.send(Signal::SIGTERM)
        }
        #[cfg(not(unix))]
        {
            false
        }
    }

    /// Sends `SIGKILL` to whatever is left in the group.
    pub(super) fn kill(&self) {
        #[cfg(unix)]
        self.send(Signal::SIGKILL);
    }

    /// Waits (at most `limit`, in real time) until no process of the group
    /// runs; a zombie (dead, not yet reaped by its new parent) does not count.
    pub(super) async fn wait_gone(&self, limit: Duration) {
        #[cfg(unix)]
        {
            let Some(pgid) = self.pgid else { return };
            if killpg(pgid, None).is_err() {
                return;
            }
            // Real time, whatever tokio's clock does: the processes die in real time.
            let waited = tokio::task::spawn_blocking(move || {
                let deadline = Instant::now() + limit;
                while any_alive(pgid) && Instant::now() < deadline {
                    std::thread::sleep(GONE_POLL);
                }
            });
            let _ = waited.await;
        }
        #[cfg(not(unix))]
        let _ = limit;
    }

    /// Stops the kill on drop (the group is gone or was killed already).
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Sends `signal` to the group; whether the group existed.
    #[cfg(unix)]
    fn send(&self, signal: Signal) -> bool {
        self.pgid.is_some_and(|pgid| killpg(pgid, signal).is_ok())
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.kill();
        }
    }
}

/// `killed by signal N (SIGNAME)` for a child ended by a signal.
pub(super) fn signal_text(status: ExitStatus) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let number = status.signal()?;
        let name = Signal::try_from(number).map_or("unknown signal", Signal::as_str);
        Some(format!("killed by signal {number} ({name})"))
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// Whether a process of group `pgid` still runs (not a zombie).
#[cfg(unix)]
fn any_alive(pgid: Pid) -> bool {
    if killpg(pgid, None).is_err() {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        linux_any_alive(pgid.as_raw()).unwrap_or(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Looks through `/proc` for a process of group `pgid` that is not a zombie;
/// `None` when `/proc` cannot be read.
#[cfg(target_os = "linux")]
fn linux_any_alive(pgid: i32) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // Gone since the listing, or not ours to read: not a live member we can see.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat.get(close + 1..).unwrap_or_default().split_whitespace();
        let (Some(state), Some(_ppid), Some(pgrp)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if pgrp.parse::<i32>() == Ok(pgid) && !matches!(state, "Z" | "X" | "x") {
            return Some(true);
        }
    }
    Some(false)
}
