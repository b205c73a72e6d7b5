//! `command` functions: one process per invocation, the event JSON on stdin, the result
//! JSON on stdout. Exit 0 is success; otherwise a Lambda-style `{"errorType",
//! "errorMessage"}` on stdout or stderr names the error, else it is `Lambda.Unknown`.

use super::{Invoked, MAX_PAYLOAD};
use crate::config::Function;
use crate::TaskError;
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How much of stderr a failure's cause keeps (its end).
const STDERR_TAIL: usize = 4096;

pub(crate) async fn invoke(
    f: &Function,
    argv: &[String],
    env: &[(String, String)],
    payload: &[u8],
    request_id: &str,
) -> Result<Invoked, TaskError> {
    let mut cmd = super::function_process(f, argv, env);
    cmd.env("AWS_LAMBDA_REQUEST_ID", request_id)
        .stdin(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        TaskError::new(
            "Lambda.Unknown",
            format!(
                "Function '{}' could not start its command {:?} in {}: {e}",
                f.name,
                argv[0],
                f.cwd.display()
            ),
        )
    })?;
    let group = ProcessGroup(child.id());
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let input = payload.to_vec();
    let write = async move {
        if let Some(mut s) = stdin.take() {
            // A command that never reads its input is not an error.
            let _ = s.write_all(&input).await;
            let _ = s.shutdown().await;
        }
    };
    let run = async {
        let (_, out, err, status) = tokio::join!(
            write,
            read_limited(stdout, MAX_PAYLOAD),
            read_tail(stderr, STDERR_TAIL),
            child.wait()
        );
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(f.timeout, run).await {
        Ok(r) => r,
        Err(_) => {
            group.kill();
            return Ok(Invoked::timed_out(f, request_id));
        }
    };
    // Whatever it left running in its group goes with it.
    group.kill();
    let status = status.map_err(|e| {
        TaskError::new(
            "Lambda.Unknown",
            format!("Function '{}': waiting for its command failed: {e}", f.name),
        )
    })?;
    let (stdout, overflowed) = out;
    if overflowed {
        return Ok(Invoked::function_error(
            "Function.ResponseSizeTooLarge",
            &format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            ),
            request_id,
        ));
    }
    if status.success() {
        let payload = if stdout.iter().all(u8::is_ascii_whitespace) {
            b"null".to_vec()
        } else {
            stdout
        };
        return Ok(Invoked::Returned {
            payload,
            request_id: request_id.to_string(),
        });
    }
    if let Some(e) = lambda_error(&stdout).or_else(|| lambda_error(&err)) {
        return Ok(Invoked::FunctionError {
            payload: e,
            request_id: request_id.to_string(),
        });
    }
    let how = match status.code() {
        Some(c) => format!("exited with status {c}"),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                format!("was killed by signal {}", status.signal().unwrap_or(0))
            }
            #[cfg(not(unix))]
            {
                "was killed".to_string()
            }
        }
    };
    let tail = String::from_utf8_lossy(&err);
    let tail = tail.trim_end();
    Err(TaskError::new(
        "Lambda.Unknown",
        if tail.is_empty() {
            format!("Function '{}': its command {how}.", f.name)
        } else {
            format!(
                "Function '{}': its command {how}. The end of its stderr:\n{tail}",
                f.name
            )
        },
    ))
}

/// A `{"errorType": …}` object in `text`, as a whole or as its last line.
fn lambda_error(text: &[u8]) -> Option<Vec<u8>> {
    let is_error = |t: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(t)
            .ok()
            .filter(|v| v.get("errorType").is_some_and(|e| e.is_string()))
            .map(|_| t.to_vec())
    };
    let trimmed = trim(text);
    is_error(trimmed).or_else(|| {
        let last = trimmed.rsplit(|b| *b == b'\n').next()?;
        is_error(trim(last))
    })
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Up to `limit` bytes; `true` when there was more (the rest is drained, so the writer
/// is not blocked).
async fn read_limited(r: Option<impl AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let Some(mut r) = r else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut over = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !over && out.len() + n <= limit {
                    out.extend_from_slice(&buf[..n]);
                } else {
                    over = true;
                    out = Vec::new();
                }
            }
        }
    }
    (out, over)
}

/// The last `keep` bytes.
async fn read_tail(r: Option<impl AsyncRead + Unpin>, keep: usize) -> Vec<u8> {
    let Some(mut r) = r else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > 2 * keep {
                    out.drain(..out.len() - keep);
                }
            }
        }
    }
    if out.len() > keep {
        out.drain(..out.len() - keep);
    }
    out
}

/// The process group of a command; dropping it does not kill (see `kill`).
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    fn kill(&self) {
        #[cfg(unix)]
        if let Some(pid) = self.0 {
            // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

impl Drop for ProcessGroup {
    /// An invocation dropped half-way (its task stopped or timed out) ends its processes.
    fn drop(&mut self) {
        self.kill();
    }
}
