//! Parses arguments, runs one front end, maps its outcome to an exit status: nothing else.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
    keep_freed_memory();
    let cli = ruletest::cli::Cli::parse();
    match ruletest::cli::run(cli) {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(ruletest::cli::Status::Usage as u8)
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`ruletest ... | head -1`) would panic. A
/// command-line tool should instead stop quietly, as grep and cat do.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// ruletest is a short-lived process that allocates and frees large buffers (one per series and query)
/// in waves. glibc's defaults hand freed memory back to the kernel early and serve large blocks with
/// their own mappings, so each wave faults in fresh zeroed pages again: on the unit-test benchmark that
/// was a fifth of the page faults. Keeping freed memory for reuse costs nothing for a process that exits.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before any allocation-heavy work and
    // before any thread exists.
    unsafe {
        // 32 MiB is the largest mmap threshold glibc accepts on 64-bit systems.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}
