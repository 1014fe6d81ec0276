//! Parses arguments, runs one front end, maps its outcome to an exit status: nothing else.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = ruletest::cli::Cli::parse();
    match ruletest::cli::run(cli) {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(ruletest::cli::Status::Usage as u8)
        }
    }
}
