//! Pinning a crash on the execution that caused it, so a restart does not crash again.
//!
//! Several threads step executions at once. The file `stepping` in the data directory
//! has one slot per stepping thread ([`SLOTS`] of [`SLOT_BYTES`]): while a thread steps
//! an execution, its slot holds that execution's ARN (written through a shared memory
//! map: plain stores, no system call and no file-time update per step, which made every
//! group commit's sync slower when written with `pwrite`). The slot's last byte is an
//! abort flag a SIGABRT handler sets: Rust aborts the process that way on a stack
//! overflow, a failed allocation or a panic while panicking, on the thread that failed.
//! A SIGABRT handled by a thread outside any step (sent by another process, say) sets
//! the file's own flag instead, which blames every execution being stepped then.
//!
//! At the next start, an ARN with its flag (or the file's) names an execution the
//! process died in; the engine fails it (`States.Runtime`) instead of resuming it. An
//! ARN without a flag (`kill -9`, a power cut) blames nobody: it resumes as usual.

use anyhow::Context;
use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use stepwise_engine::StepMarker;

/// Stepping threads with a slot of their own (more share slots by number).
pub const SLOTS: usize = 64;
/// A slot: an ARN (AWS's are at most 256 characters), its newline, and the abort flag
/// in the last byte.
pub const SLOT_BYTES: usize = 512;
/// The file's own abort flag (a SIGABRT outside any step).
const ANY_ABORT_FLAG_AT: usize = SLOTS * SLOT_BYTES;
/// The mapped part of the file.
const MAP_BYTES: usize = ANY_ABORT_FLAG_AT + 4096;

/// The file descriptor the SIGABRT handler writes to (-1: none).
static ABORT_FD: AtomicI32 = AtomicI32::new(-1);
/// Slots handed to threads so far.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot, once it stepped (-1 before).
    static SLOT: Cell<i32> = const { Cell::new(-1) };
    /// Whether this thread is inside a step (read by the SIGABRT handler).
    static IN_STEP: Cell<bool> = const { Cell::new(false) };
}

/// The marker: the file's first pages, mapped shared (what is stored there is in the
/// page cache at once, so it outlives the process).
#[derive(Debug)]
pub struct StepMarkerFile {
    map: *mut u8,
    _file: File,
}

// SAFETY: the mapping lives as long as the value; each thread writes only its own slot
// (threads beyond SLOTS share slots by number; a torn ARN matches no execution).
unsafe impl Send for StepMarkerFile {}
unsafe impl Sync for StepMarkerFile {}

fn this_threads_slot() -> usize {
    SLOT.with(|s| {
        if s.get() < 0 {
            s.set((NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS) as i32);
        }
        s.get() as usize
    })
}

impl StepMarker for StepMarkerFile {
    fn mark(&self, execution_arn: Option<&str>) {
        let slot = this_threads_slot();
        let line: &[u8] = match execution_arn {
            Some(arn) if arn.len() < SLOT_BYTES - 1 => arn.as_bytes(),
            _ => b"",
        };
        IN_STEP.with(|s| s.set(!line.is_empty()));
        // SAFETY: the slot lies within MAP_BYTES; `line.len() + 1 < SLOT_BYTES`.
        unsafe {
            let at = self.map.add(slot * SLOT_BYTES);
            std::ptr::copy_nonoverlapping(line.as_ptr(), at, line.len());
            *at.add(line.len()) = b'\n';
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

/// What the previous process left in the file: the executions it died in.
fn blamed(area: &[u8]) -> Vec<String> {
    let any_abort = area.get(ANY_ABORT_FLAG_AT) == Some(&b'A');
    let mut blamed = Vec::new();
    for slot in area.chunks(SLOT_BYTES).take(SLOTS) {
        let arn = slot
            .iter()
            .position(|&b| b == b'\n')
            .and_then(|end| std::str::from_utf8(&slot[..end]).ok())
            .filter(|a| !a.is_empty());
        let Some(arn) = arn else { continue };
        let aborted = slot.len() == SLOT_BYTES && slot[SLOT_BYTES - 1] == b'A';
        if aborted || any_abort {
            blamed.push(arn.to_string());
        } else {
            tracing::info!(execution = %arn, "the previous process stopped (killed, not crashed) while stepping this execution; it resumes");
        }
    }
    if any_abort && blamed.is_empty() {
        tracing::warn!("the previous process crashed outside any execution's step");
    }
    blamed
}

/// Open (creating) the marker in `dir`; returns it and the executions the previous
/// process aborted in. Installs the SIGABRT handler.
pub fn open(dir: &Path) -> anyhow::Result<(Arc<StepMarkerFile>, Vec<String>)> {
    let path = dir.join("stepping");
    let file = crate::data_dir::private_file(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut area = vec![0u8; ANY_ABORT_FLAG_AT + 1];
    let read = read_at_most(&file, &mut area)?;
    area.truncate(read);
    let poisoned = blamed(&area);
    // A fresh file: every slot empty, no flag.
    file.set_len(0)
        .and_then(|()| file.set_len(MAP_BYTES as u64))
        .with_context(|| format!("writing {}", path.display()))?;
    for slot in 0..SLOTS {
        file.write_all_at(b"\n", (slot * SLOT_BYTES) as u64)
            .with_context(|| format!("writing {}", path.display()))?;
    }
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
            // Thread-locals with constant initializers and no destructor are plain
            // reads of thread memory here.
            let slot = SLOT.with(Cell::get);
            let at = if slot >= 0 && IN_STEP.with(Cell::get) {
                (slot as usize + 1) * SLOT_BYTES - 1
            } else {
                ANY_ABORT_FLAG_AT
            };
            let flag = b"A";
            libc::pwrite(fd, flag.as_ptr().cast(), 1, at as libc::off_t);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(slots: &[(usize, &str, bool)], any_abort: bool) -> Vec<u8> {
        let mut area = vec![0u8; ANY_ABORT_FLAG_AT + 1];
        for s in 0..SLOTS {
            area[s * SLOT_BYTES] = b'\n';
        }
        for &(slot, arn, aborted) in slots {
            let at = slot * SLOT_BYTES;
            area[at..at + arn.len()].copy_from_slice(arn.as_bytes());
            area[at + arn.len()] = b'\n';
            if aborted {
                area[at + SLOT_BYTES - 1] = b'A';
            }
        }
        if any_abort {
            area[ANY_ABORT_FLAG_AT] = b'A';
        }
        area
    }

    #[test]
    fn only_the_thread_that_aborted_is_blamed() {
        let area = file_with(&[(1, "arn:a", false), (7, "arn:b", true)], false);
        assert_eq!(blamed(&area), vec!["arn:b".to_string()]);
    }

    #[test]
    fn an_abort_outside_any_step_blames_every_step_then_running() {
        let area = file_with(&[(0, "arn:a", false), (63, "arn:b", false)], true);
        assert_eq!(
            blamed(&area),
            vec!["arn:a".to_string(), "arn:b".to_string()]
        );
        assert!(blamed(&file_with(&[], true)).is_empty());
    }

    #[test]
    fn a_kill_blames_nobody_and_a_short_file_is_read_as_far_as_it_goes() {
        assert!(blamed(&file_with(&[(2, "arn:a", false)], false)).is_empty());
        assert!(blamed(b"arn:old-format\n").is_empty());
        assert!(blamed(b"").is_empty());
    }
}
