//! A minimal LSP client over the real binary's stdin/stdout (`gitops-lint lsp`), for the stdio
//! tests (`tests/lsp.rs`) and the latency driver (`examples/lsp_latency.rs`). It frames JSON-RPC
//! messages with `Content-Length` headers as the protocol says, keeps notifications that
//! arrive while it waits for a response, and never blocks forever (every wait has a timeout).

#![allow(dead_code)] // the test and the example use different parts

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running server and the messages it sent that nobody has taken yet.
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<(Instant, Value)>,
    backlog: VecDeque<(Instant, Value)>,
    next_id: i64,
}

/// The `file:` URI of an absolute path (the test directories have no characters to escape
/// but spaces).
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display()).replace(' ', "%20")
}

/// Reads one framed message; `None` at the end of the stream or on a broken frame.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length:") {
            length = n.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts `bin lsp` in `cwd`; the server's log (stderr) goes to `stderr`.
    pub fn spawn(bin: &Path, cwd: &Path, stderr: Stdio) -> Client {
        let mut child = Command::new(bin)
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send((Instant::now(), message)).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming: rx,
            backlog: VecDeque::new(),
            next_id: 0,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("stdin closed"));
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("cannot write to the server: {e}"));
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits (at most 60 s) for its response; returns the whole response
    /// (`result` or `error`). Notifications that arrive meanwhile are kept for later waits.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(wait) {
                Ok((_, m)) if m.get("id") == Some(&json!(id)) && m.get("method").is_none() => {
                    return m
                }
                Ok(other) => self.backlog.push_back(other),
                Err(e) => panic!("no response to `{method}`: {e:?}"),
            }
        }
    }

    /// The next notification (kept or new) that satisfies `want`, with when it arrived;
    /// `None` after `timeout`. Notifications passed over are dropped.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Option<(Instant, Value)> {
        while let Some((at, m)) = self.backlog.pop_front() {
            if want(&m) {
                return Some((at, m));
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(wait) {
                Ok((at, m)) if want(&m) => return Some((at, m)),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The next `publishDiagnostics` for `uri` (at most `timeout` away): its diagnostics and
    /// when it arrived.
    pub fn diagnostics(&mut self, uri: &str, timeout: Duration) -> Option<(Instant, Vec<Value>)> {
        let (at, m) = self.wait_for(timeout, |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        })?;
        let list = m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Some((at, list))
    }

    /// `initialize` with these workspace folders and initialization options, then
    /// `initialized`; returns the server's capabilities.
    pub fn initialize(&mut self, folders: &[&Path], options: Value) -> Value {
        let folders: Vec<Value> = folders
            .iter()
            .map(|f| json!({"uri": file_uri(f), "name": f.display().to_string()}))
            .collect();
        let response = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": null,
                "capabilities": {},
                "workspaceFolders": folders,
                "initializationOptions": options,
            }),
        );
        self.notify("initialized", json!({}));
        response["result"]["capabilities"].clone()
    }

    /// `shutdown`, then `exit`; returns the server's exit status (waiting at most 30 s).
    pub fn shutdown(mut self) -> ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = self.child.kill();
                    panic!("the server did not exit after `exit`");
                }
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Applies LSP text edits (ASCII texts: a UTF-16 unit is a byte) to `text`.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap_or(0) as usize;
        let character = pos["character"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + character
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end, &new);
    }
    out
}
