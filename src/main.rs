use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mgbridge::cli::run(mgbridge::cli::Cli::parse()).await
}
