use clap::Parser;

/// mimalloc: ~19 % less CPU per order page than glibc malloc (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    campus_photo::init_tracing();
    let cli = campus_photo::cli::Cli::parse();
    match campus_photo::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("campus-photo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
