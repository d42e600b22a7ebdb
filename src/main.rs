use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = packtrack::cli::Cli::parse();
    packtrack::logging::init(cli.log_json, cli.default_log_level());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(packtrack::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::debug!(error = ?e, "command failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
