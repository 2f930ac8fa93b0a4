//! The command line: `proofline-server serve …` (flags and environment per docs/sync.md),
//! logs to stderr, the start-up lines to stdout, and a clean stop on SIGTERM or Ctrl-C.
//!
//! Exit codes: 0 after a clean stop (or `--help`), 1 when the server cannot start or
//! fails, 2 for bad flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use proofline_core::sync::protocol::MAX_BLOB_BYTES;
use tracing_subscriber::EnvFilter;

use crate::dispatch::DispatchSettings;
use crate::dispatch::settings::{ApnsSettings, FcmSettings, WebhookSettings};
use crate::server::{Config, ServerError, prepare, serve};

/// proofline-server: the sync server devices push completions and photo proof to.
#[derive(Debug, Parser)]
#[command(name = "proofline-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync protocol and the admin API.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Where the database, blobs and generated admin token live (created if missing).
    #[arg(long, env = "PROOFLINE_DATA_DIR", value_name = "DIR")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "PROOFLINE_LISTEN",
        default_value = "127.0.0.1:8787",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
    /// Seed the example restaurant on first start and print one-time codes for its people.
    #[arg(long)]
    demo: bool,
    /// The admin token (generated into DIR/admin-token when not given).
    #[arg(
        long,
        env = "PROOFLINE_ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    admin_token: Option<String>,
    /// Largest blob (photo) accepted, in bytes.
    #[arg(long, default_value_t = MAX_BLOB_BYTES, value_name = "N")]
    max_blob_bytes: u64,
    #[command(flatten)]
    dispatch: DispatchArgs,
}

/// The escalation dispatcher and its push providers.
#[derive(Debug, Args)]
#[command(next_help_heading = "Escalation alerts")]
struct DispatchArgs {
    /// Seconds between dispatcher ticks (0: never; alerts are then not sent).
    #[arg(
        long,
        env = "PROOFLINE_DISPATCH_TICK",
        default_value_t = 15,
        value_name = "SECS"
    )]
    dispatch_tick: u64,
    /// Delivery attempts per alert before it becomes a dead letter.
    #[arg(
        long,
        env = "PROOFLINE_PUSH_MAX_ATTEMPTS",
        default_value_t = 8,
        value_name = "N"
    )]
    push_max_attempts: u32,
    /// APNs .p8 key file (token-based auth); enables APNs with the other --apns-* flags.
    #[arg(long, env = "PROOFLINE_APNS_KEY_FILE", value_name = "FILE", requires_all = ["apns_key_id", "apns_team_id", "apns_topic"])]
    apns_key_file: Option<PathBuf>,
    /// The APNs key id.
    #[arg(long, env = "PROOFLINE_APNS_KEY_ID", value_name = "ID")]
    apns_key_id: Option<String>,
    /// The Apple developer team id.
    #[arg(long, env = "PROOFLINE_APNS_TEAM_ID", value_name = "ID")]
    apns_team_id: Option<String>,
    /// The iOS app's bundle id (apns-topic).
    #[arg(long, env = "PROOFLINE_APNS_TOPIC", value_name = "BUNDLE_ID")]
    apns_topic: Option<String>,
    /// APNs endpoint (the sandbox for development builds, or a test stub).
    #[arg(long, env = "PROOFLINE_APNS_ENDPOINT", default_value = proofline_push::apns::PRODUCTION_ENDPOINT, value_name = "URL")]
    apns_endpoint: String,
    /// FCM service-account JSON key file; enables FCM.
    #[arg(long, env = "PROOFLINE_FCM_SERVICE_ACCOUNT", value_name = "FILE")]
    fcm_service_account: Option<PathBuf>,
    /// FCM endpoint (or a test stub).
    #[arg(long, env = "PROOFLINE_FCM_ENDPOINT", default_value = proofline_push::fcm::DEFAULT_ENDPOINT, value_name = "URL")]
    fcm_endpoint: String,
    /// Webhook for alerts in chat (Slack-compatible `text`, HMAC-SHA256 signed).
    #[arg(
        long,
        env = "PROOFLINE_WEBHOOK_URL",
        value_name = "URL",
        requires = "webhook_secret"
    )]
    webhook_url: Option<String>,
    /// The webhook's signing secret.
    #[arg(
        long,
        env = "PROOFLINE_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    webhook_secret: Option<String>,
}

impl DispatchArgs {
    fn settings(self) -> DispatchSettings {
        let apns = match (
            self.apns_key_file,
            self.apns_key_id,
            self.apns_team_id,
            self.apns_topic,
        ) {
            (Some(key_file), Some(key_id), Some(team_id), Some(topic)) => Some(ApnsSettings {
                endpoint: self.apns_endpoint,
                key_file,
                key_id,
                team_id,
                topic,
            }),
            _ => None,
        };
        DispatchSettings {
            tick: (self.dispatch_tick > 0).then(|| Duration::from_secs(self.dispatch_tick)),
            apns,
            fcm: self.fcm_service_account.map(|file| FcmSettings {
                endpoint: self.fcm_endpoint,
                service_account_file: file,
            }),
            webhook: match (self.webhook_url, self.webhook_secret) {
                (Some(url), Some(secret)) => Some(WebhookSettings { url, secret }),
                _ => None,
            },
            max_attempts: self.push_max_attempts,
            ..DispatchSettings::default()
        }
    }
}

/// Runs the command line; the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let Command::Serve(args) = cli.command;
    init_logging();
    let config = Config {
        data_dir: args.data_dir,
        listen: args.listen,
        admin_token: args.admin_token,
        demo: args.demo,
        max_blob_bytes: args.max_blob_bytes,
        dispatch: args.dispatch.settings(),
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proofline-server: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn run(config: Config) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    runtime.block_on(async move {
        let prepared = prepare(config).await?;
        prepared.startup().print();
        serve(prepared, shutdown_signal()).await
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_flags_parse_as_documented() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "proofline-server",
            "serve",
            "--data-dir",
            "/tmp/x",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--admin-token",
            "t",
            "--max-blob-bytes",
            "10",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command;
        assert!(args.demo);
        assert_eq!(args.max_blob_bytes, 10);
        assert_eq!(args.listen.port(), 0);
    }

    #[test]
    fn a_bad_address_is_a_usage_error() {
        let err = Cli::try_parse_from([
            "proofline-server",
            "serve",
            "--data-dir",
            "/tmp/x",
            "--listen",
            "nowhere",
        ])
        .expect_err("bad address");
        assert!(err.use_stderr());
    }
}
