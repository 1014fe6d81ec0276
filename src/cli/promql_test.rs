//! Not built yet: its issue is open. Exits with status 2 so nobody mistakes it for a pass.
use super::Status;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

pub fn run(_args: &Args) -> anyhow::Result<Status> {
    anyhow::bail!("this command is not implemented yet")
}
