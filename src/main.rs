use clap::Parser;

/// mimalloc: ~19 % less CPU per order page than glibc malloc (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `.env` first, so that `serve --help` and the flags' environment fallbacks see it.
    let _ = dotenvy::dotenv();
    let cli = campus_photo::cli::Cli::parse();
    match &cli.command {
        Some(campus_photo::cli::Command::Serve(args)) => campus_photo::init_tracing_with(
            args.given.get("RUST_LOG").map(String::as_str),
            args.given.get("LOG_FORMAT").map(String::as_str),
        ),
        _ => campus_photo::init_tracing(),
    }
    match campus_photo::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("campus-photo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
