use clap::Parser;

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
