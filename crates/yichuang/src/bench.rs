//! `yichuang bench`: submit+accept pairs and reads, on SQLite and (where its binaries are
//! on the machine) a throwaway PostgreSQL.

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Print JSON records instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(_args: &BenchArgs) -> Result<(), String> {
    Err("bench: not built yet".into())
}
