//! Pinning a crash on the execution that caused it, so a restart does not crash again.
//!
//! The file `stepping` in the data directory holds, while the engine steps an execution,
//! that execution's ARN (written through a shared memory map: plain stores, no system
//! call and no file-time update per step, which made every group commit's sync slower
//! when written with `pwrite`), and at
//! [`ABORT_FLAG_AT`] a byte a SIGABRT handler sets: Rust aborts the process that way on a
//! stack overflow, a failed allocation or a panic while panicking. At the next start, an
//! ARN together with that flag names the execution the process died in; the engine fails
//! it (`States.Runtime`) instead of resuming it. An ARN without the flag (`kill -9`, a
//! power cut) blames nobody: that execution resumes as usual.

use anyhow::Context;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use stepwise_engine::StepMarker;

/// Room for an ARN (AWS's are at most 256 characters) and its newline.
const ARN_AREA: usize = 1024;
/// Where the SIGABRT handler writes `A`.
const ABORT_FLAG_AT: u64 = ARN_AREA as u64;

/// The file descriptor the SIGABRT handler writes to (-1: none).
static ABORT_FD: AtomicI32 = AtomicI32::new(-1);

/// The marker: the file's first page, mapped shared (what is stored there is in the page
/// cache at once, so it outlives the process).
#[derive(Debug)]
pub struct StepMarkerFile {
    map: *mut u8,
    _file: File,
}

// SAFETY: the mapping lives as long as the value; the engine calls `mark` with its lock
// held, so writes never race (the signal handler writes another byte, by `pwrite`).
unsafe impl Send for StepMarkerFile {}
unsafe impl Sync for StepMarkerFile {}

impl StepMarker for StepMarkerFile {
    fn mark(&self, execution_arn: Option<&str>) {
        let line: &[u8] = match execution_arn {
            Some(arn) if arn.len() < ARN_AREA => arn.as_bytes(),
            _ => b"",
        };
        // SAFETY: `map` points to MAP_BYTES writable bytes; `line.len() < ARN_AREA`.
        unsafe {
            std::ptr::copy_nonoverlapping(line.as_ptr(), self.map, line.len());
            *self.map.add(line.len()) = b'\n';
        }
    }
}

impl Drop for StepMarkerFile {
    fn drop(&mut self) {
        // SAFETY: unmaps what `open` mapped.
        unsafe {
            libc::munmap(self.map.cast(), MAP_BYTES);
        }
    }
}

/// The mapped part of the file: the ARN area and the abort flag.
const MAP_BYTES: usize = 4096;

/// Open (creating) the marker in `dir`; returns it and the execution the previous
/// process aborted in, if any. Installs the SIGABRT handler.
pub fn open(dir: &Path) -> anyhow::Result<(Arc<StepMarkerFile>, Option<String>)> {
    let path = dir.join("stepping");
    let file = crate::data_dir::private_file(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut area = vec![0u8; ARN_AREA + 1];
    let read = read_at_most(&file, &mut area)?;
    area.truncate(read);
    let arn = area
        .iter()
        .position(|&b| b == b'\n')
        .and_then(|end| std::str::from_utf8(&area[..end]).ok())
        .map(str::to_string)
        .filter(|a| !a.is_empty());
    let aborted = area.get(ARN_AREA) == Some(&b'A');
    let poisoned = match (&arn, aborted) {
        (Some(arn), true) => Some(arn.clone()),
        (Some(arn), false) => {
            tracing::info!(execution = %arn, "the previous process stopped (killed, not crashed) while stepping this execution; it resumes");
            None
        }
        (None, true) => {
            tracing::warn!("the previous process crashed outside any execution's step");
            None
        }
        (None, false) => None,
    };
    file.set_len(MAP_BYTES as u64)
        .and_then(|()| file.write_all_at(b"\n", 0))
        .and_then(|()| file.write_all_at(&[0], ABORT_FLAG_AT))
        .with_context(|| format!("writing {}", path.display()))?;
    // SAFETY: maps MAP_BYTES of a file that long, read-write and shared.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            MAP_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("mapping {}", path.display()));
    }
    install_abort_handler(&file);
    Ok((
        Arc::new(StepMarkerFile {
            map: map.cast(),
            _file: file,
        }),
        poisoned,
    ))
}

fn read_at_most(file: &File, buf: &mut [u8]) -> anyhow::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// Runs in the signal handler: only async-signal-safe calls (pwrite, signal, raise).
extern "C" fn on_abort(sig: libc::c_int) {
    let fd = ABORT_FD.load(Ordering::Relaxed);
    // SAFETY: pwrite on a descriptor kept open for the process's life, from a static
    // buffer; then the default action is restored and the signal raised again, so the
    // process still ends as an abort.
    unsafe {
        if fd >= 0 {
            let flag = b"A";
            libc::pwrite(fd, flag.as_ptr().cast(), 1, ABORT_FLAG_AT as libc::off_t);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn install_abort_handler(file: &File) {
    // The descriptor stays open: the marker lives as long as the server.
    ABORT_FD.store(file.as_raw_fd(), Ordering::Relaxed);
    // SAFETY: installs a handler that only makes async-signal-safe calls.
    unsafe {
        libc::signal(libc::SIGABRT, on_abort as *const () as libc::sighandler_t);
    }
}

/// The cause an execution fails with when the previous process aborted while stepping it.
pub fn cause() -> String {
    "The server process crashed while running this execution (see the server's log from that time); it was failed at restart so that it cannot crash the server again.".to_string()
}
