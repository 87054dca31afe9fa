use std::process::ExitCode;

use cchc_outreach::{config::Settings, openapi, startup, telemetry};
use clap::{Parser, Subcommand};

/// Administrative-reform communication plans, evidence and citizen feedback, as a REST service.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, create the system administrator if missing, and serve (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document to stdout: the same bytes the server serves.
    Openapi,
    /// Import a plan file (`plan-fixture/1`, see docs/plan-fixture.md), all or nothing.
    Import {
        /// The JSON file.
        file: std::path::PathBuf,
        /// Update the plan in place if the organisation already has one with its code.
        #[arg(long)]
        update: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let telemetry = telemetry::init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!("invalid configuration: {err}");
            telemetry.shutdown();
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Some(Command::Migrate) => startup::migrate_only(&settings),
        Some(Command::Import { file, update }) => startup::import_only(&settings, &file, update),
        _ => actix_web::rt::System::new().block_on(startup::serve(settings)),
    };
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
