//! [`JsonLinesStore`]: one JSON line per change, appended and fsynced.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Change, RequestStore, StoredRequest, blocking, now_ms, store_error};
use crate::BoxFuture;
use crate::error::{ApiError, ErrorKind};

/// Keeps changes in a JSON Lines file: one [`StoredRequest`] per line, each
/// appended and flushed to disk (`fsync`) before [`record`](RequestStore::record)
/// returns.
///
/// Reading (at [`open`](JsonLinesStore::open) and [`replay`](RequestStore::replay)):
/// a last line that is not a whole stored request ending in a newline is a write
/// torn by a crash; its change was never acknowledged nor applied, so it is
/// ignored and cut off the file, with a warning. A bad line anywhere else is an
/// error naming the file and the line number: the file was damaged or edited,
/// and guessing would lose or reorder changes. Blank lines are skipped.
///
/// If an append fails half-way, the file is cut back to its last whole line; if
/// even that fails, the store refuses every later change (the next start-up cuts
/// the torn line).
#[derive(Debug, Clone)]
pub struct JsonLinesStore {
    path: Arc<PathBuf>,
    state: Arc<Mutex<FileState>>,
}

#[derive(Debug)]
struct FileState {
    file: File,
    /// The length of the file's whole lines.
    len: u64,
    last_seq: u64,
    /// Set when a failed append could not be undone.
    broken: bool,
}

impl JsonLinesStore {
    /// Opens (or creates) the file at `path`, checks it and cuts a torn last line.
    ///
    /// This does blocking file I/O; call it at start-up.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Store`] when the file cannot be opened, read or cut, or holds
    /// a bad line before its last one.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonLinesStore, ApiError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| store_error(format!("cannot open {}", path.display()), e))?;
        let scan = scan(&path)?;
        let mut state = FileState {
            file,
            len: scan.whole_len,
            last_seq: scan.requests.last().map_or(0, |r| r.seq),
            broken: false,
        };
        cut_torn_tail(&path, &mut state, &scan)?;
        Ok(JsonLinesStore {
            path: Arc::new(path),
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RequestStore for JsonLinesStore {
    fn record<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Result<StoredRequest, ApiError>> {
        let change = change.clone();
        let (path, state) = (Arc::clone(&self.path), Arc::clone(&self.state));
        Box::pin(blocking(move || {
            let mut state = state.lock();
            if state.broken {
                return Err(ApiError::new(
                    ErrorKind::Store,
                    format!(
                        "{} has a torn line that could not be cut; restart to repair it",
                        path.display()
                    ),
                ));
            }
            let stored = StoredRequest {
                seq: state.last_seq + 1,
                at_ms: now_ms(),
                change,
            };
            let mut line = serde_json::to_vec(&stored)
                .map_err(|e| store_error("cannot encode the change as JSON", e))?;
            line.push(b'\n');
            let written = state
                .file
                .write_all(&line)
                .and_then(|()| state.file.sync_data());
            if let Err(error) = written {
                let len = state.len;
                if state
                    .file
                    .set_len(len)
                    .and_then(|()| state.file.sync_data())
                    .is_err()
                {
                    state.broken = true;
                }
                return Err(store_error(
                    format!("cannot append to {}", path.display()),
                    error,
                ));
            }
            state.len += line.len() as u64;
            state.last_seq = stored.seq;
            Ok(stored)
        }))
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<StoredRequest>, ApiError>> {
        let (path, state) = (Arc::clone(&self.path), Arc::clone(&self.state));
        Box::pin(blocking(move || {
            let mut state = state.lock();
            let scan = scan(&path)?;
            cut_torn_tail(&path, &mut state, &scan)?;
            state.len = scan.whole_len;
            state.broken = false;
            Ok(scan.requests)
        }))
    }

    fn compact<'a>(&'a self, keep: &'a [StoredRequest]) -> BoxFuture<'a, Result<(), ApiError>> {
        let keep = keep.to_vec();
        let (path, state) = (Arc::clone(&self.path), Arc::clone(&self.state));
        Box::pin(blocking(move || {
            let mut state = state.lock();
            let mut text = Vec::new();
            for request in &keep {
                serde_json::to_writer(&mut text, request)
                    .map_err(|e| store_error("cannot encode a change as JSON", e))?;
                text.push(b'\n');
            }
            let temporary = path.with_extension("compacting");
            let replace = || -> std::io::Result<File> {
                let mut file = File::create(&temporary)?;
                file.write_all(&text)?;
                file.sync_all()?;
                std::fs::rename(&temporary, path.as_path())?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    File::open(dir)?.sync_all()?;
                }
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(path.as_path())
            };
            let file = replace()
                .map_err(|e| store_error(format!("cannot rewrite {}", path.display()), e))?;
            let kept_max = keep.iter().map(|r| r.seq).max().unwrap_or(0);
            state.file = file;
            state.len = text.len() as u64;
            state.last_seq = state.last_seq.max(kept_max);
            state.broken = false;
            Ok(())
        }))
    }
}

/// What reading the file found.
struct Scan {
    requests: Vec<StoredRequest>,
    /// The length up to the end of the last good line.
    whole_len: u64,
    /// The file's full length.
    file_len: u64,
    /// The 1-based line number of a torn last line, if any.
    torn_line: Option<usize>,
}

/// Reads and checks every line of `path` (a missing file is empty).
fn scan(path: &Path) -> Result<Scan, ApiError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(store_error(format!("cannot read {}", path.display()), e)),
    };
    let mut requests: Vec<StoredRequest> = Vec::new();
    let mut whole_len = 0;
    let mut torn_line = None;
    let mut start = 0;
    let mut number = 0;
    while start < bytes.len() {
        number += 1;
        let rest = bytes.get(start..).unwrap_or_default();
        let (line, terminated) = match rest.iter().position(|b| *b == b'\n') {
            Some(end) => (rest.get(..end).unwrap_or_default(), true),
            None => (rest, false),
        };
        let next = start + line.len() + usize::from(terminated);
        if line.iter().all(u8::is_ascii_whitespace) {
            if terminated {
                whole_len = next;
            }
            start = next;
            continue;
        }
        let is_last = bytes
            .get(next..)
            .unwrap_or_default()
            .iter()
            .all(u8::is_ascii_whitespace);
        // A line without its newline is the end of the file, and torn.
        let parsed = if terminated {
            serde_json::from_slice::<StoredRequest>(line).map_err(Some)
        } else {
            Err(None)
        };
        match parsed {
            Ok(request) => {
                if let Some(previous) = requests.last().filter(|p| p.seq >= request.seq) {
                    return Err(ApiError::new(
                        ErrorKind::Store,
                        format!(
                            "line {number} of {} has seq {} after seq {}",
                            path.display(),
                            request.seq,
                            previous.seq
                        ),
                    ));
                }
                requests.push(request);
                whole_len = next;
            }
            Err(_) if is_last => {
                torn_line = Some(number);
                break;
            }
            Err(error) => {
                let message = format!(
                    "line {number} of {} is not a stored request",
                    path.display()
                );
                return Err(match error {
                    Some(error) => store_error(message, error),
                    None => ApiError::new(ErrorKind::Store, message),
                });
            }
        }
        start = next;
    }
    Ok(Scan {
        requests,
        whole_len: whole_len as u64,
        file_len: bytes.len() as u64,
        torn_line,
    })
}

/// Cuts a torn last line off the file (with a warning), syncing the cut.
fn cut_torn_tail(path: &Path, state: &mut FileState, scan: &Scan) -> Result<(), ApiError> {
    let Some(line) = scan.torn_line else {
        return Ok(());
    };
    tracing::warn!(
        path = %path.display(),
        line,
        bytes = scan.file_len - scan.whole_len,
        "ignoring a torn last line of the request store (a write cut short by a crash)"
    );
    state
        .file
        .set_len(scan.whole_len)
        .and_then(|()| state.file.seek(SeekFrom::End(0)).map(|_| ()))
        .and_then(|()| state.file.sync_data())
        .map_err(|e| {
            store_error(
                format!("cannot cut the torn last line of {}", path.display()),
                e,
            )
        })
}
