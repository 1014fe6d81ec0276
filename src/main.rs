//! Parses arguments, runs one front end, maps its outcome to an exit status: nothing else.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
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
