//! Starting and stopping the server: the configuration, opening the data dir (database,
//! blob directories, admin token), rebuilding the in-memory state, binding the socket,
//! serving until shutdown, and [`start`]: the same on a thread of its own, for tests and
//! benches.

use std::fs;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use proofline_core::model::DeviceId;
use proofline_core::sync::protocol::MAX_BLOB_BYTES;
use thiserror::Error;

use crate::app::{AppState, StateParts, router};
use crate::auth::{self, NoRandomness};
use crate::blob_files::{BlobFileError, BlobFiles};
use crate::demo::{self, DemoIntro};
use crate::devices::Devices;
use crate::dispatch::deliver::DeliveryReport;
use crate::dispatch::{self, DispatchSettings, Dispatcher, TickReport};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::org::OrgState;
use crate::storage::notifications::{DeliveryState, QueuedNotification};
use crate::storage::{SqliteStorage, Storage, StorageError};
use crate::writer::Writer;

/// File in the data dir holding the generated admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// How the server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the database, blobs and generated admin token live (created if missing).
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The admin token; generated into `data_dir/admin-token` when `None`.
    pub admin_token: Option<String>,
    /// Seed the example restaurant on first start and issue demo codes.
    pub demo: bool,
    /// Largest blob accepted.
    pub max_blob_bytes: u64,
    /// The escalation dispatcher: tick, push providers, webhook.
    pub dispatch: DispatchSettings,
}

impl Config {
    /// A configuration with the defaults: `127.0.0.1:8787`, generated admin token, no demo,
    /// [`MAX_BLOB_BYTES`].
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            admin_token: None,
            demo: false,
            max_blob_bytes: MAX_BLOB_BYTES,
            dispatch: DispatchSettings::default(),
        }
    }
}

/// Why the server could not start (or stopped with an error).
#[derive(Debug, Error)]
pub enum ServerError {
    /// The data dir cannot be created or used.
    #[error("cannot use the data dir {path}: {source}")]
    DataDir {
        /// The dir.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened or read.
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    /// The blob directories cannot be used.
    #[error("cannot use the blob store: {0}")]
    Blobs(#[from] BlobFileError),
    /// The admin token is empty or its file cannot be read or written.
    #[error("admin token: {0}")]
    AdminToken(String),
    /// No randomness for secrets.
    #[error(transparent)]
    Randomness(#[from] NoRandomness),
    /// The listening socket cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The dispatcher's settings are wrong (a key file, an endpoint).
    #[error("escalation dispatcher: {0}")]
    Dispatch(String),
    /// Seeding the demo failed.
    #[error("cannot seed the demo: {0}")]
    Demo(String),
    /// The async runtime or the server thread failed.
    #[error("the server runtime failed: {0}")]
    Runtime(String),
}

/// What the start-up lines report.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The bound address.
    pub addr: SocketAddr,
    /// The data dir, absolute.
    pub data_dir: PathBuf,
    /// The admin token.
    pub admin_token: String,
    /// The admin-token file, when the token was generated rather than configured.
    pub admin_token_file: Option<PathBuf>,
    /// The demo's codes, with `--demo`.
    pub demo: Option<DemoIntro>,
}

impl Startup {
    /// The stdout lines of docs/sync.md, in order.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("proofline-server {}", env!("CARGO_PKG_VERSION")),
            format!("  listening on http://{}", self.addr),
            format!("  data in {}", self.data_dir.display()),
        ];
        if let Some(file) = &self.admin_token_file {
            lines.push(format!("  admin token in {}", file.display()));
        }
        if let Some(demo) = &self.demo {
            lines.extend(demo.lines(&self.admin_token));
        }
        lines
    }

    /// Prints [`Startup::lines`] to stdout and flushes.
    pub fn print(&self) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for line in self.lines() {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
}

/// A server opened and bound, not serving yet.
pub(crate) struct Prepared {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    startup: Startup,
}

impl Prepared {
    pub(crate) fn startup(&self) -> &Startup {
        &self.startup
    }
}

/// Opens the data dir, rebuilds the state and binds the socket.
pub(crate) async fn prepare(config: Config) -> Result<Prepared, ServerError> {
    let data_err = |source| ServerError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    };
    fs::create_dir_all(&config.data_dir).map_err(data_err)?;
    let data_dir = fs::canonicalize(&config.data_dir).map_err(data_err)?;
    let (admin_token, admin_token_file) = admin_token(&data_dir, config.admin_token.as_deref())?;
    let dispatcher = config.dispatch.build().map_err(ServerError::Dispatch)?;
    let opened = {
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || {
            open_state(&data_dir, admin_token, config.max_blob_bytes, dispatcher)
        })
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))??
    };
    let state = Arc::new(opened);
    Writer::start(&state)
        .map_err(|e| ServerError::Runtime(format!("cannot start the writer: {e}")))?;
    let demo = if config.demo {
        let state = Arc::clone(&state);
        Some(
            tokio::task::spawn_blocking(move || demo::prepare(&state, Utc::now()))
                .await
                .map_err(|e| ServerError::Runtime(e.to_string()))?
                .map_err(|e: ApiError| ServerError::Demo(e.to_string()))?,
        )
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let startup = Startup {
        addr,
        data_dir,
        admin_token: state.admin_token().to_string(),
        admin_token_file,
        demo,
    };
    tracing::info!(%addr, "proofline-server listening");
    Ok(Prepared {
        listener,
        state,
        startup,
    })
}

/// The configured token, or the one in (or generated into) the data dir's file.
fn admin_token(
    data_dir: &Path,
    configured: Option<&str>,
) -> Result<(String, Option<PathBuf>), ServerError> {
    if let Some(token) = configured {
        let token = token.trim();
        if token.is_empty() {
            return Err(ServerError::AdminToken(
                "the configured admin token is empty".into(),
            ));
        }
        return Ok((token.to_string(), None));
    }
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok((text.trim().to_string(), Some(path))),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(ServerError::AdminToken(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    }
    let token = auth::new_admin_token()?;
    write_private(&path, &token)
        .map_err(|e| ServerError::AdminToken(format!("cannot write {}: {e}", path.display())))?;
    Ok((token, Some(path)))
}

/// Writes a secret readable by the owner only, durably.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Opens storage and rebuilds the in-memory state. Blocking.
pub(crate) fn open_state(
    data_dir: &Path,
    admin_token: String,
    max_blob_bytes: u64,
    dispatcher: Dispatcher,
) -> Result<AppState, ServerError> {
    let storage = SqliteStorage::open(data_dir)?;
    let blobs = BlobFiles::open(data_dir)?;
    let org = OrgState::from_definitions(&storage.definitions()?);
    let devices = Devices::new(storage.devices()?);
    let metrics = Metrics::new(storage.blob_bytes()?);
    let server_device = storage.server_device(DeviceId(auth::random_uuid()?), Utc::now())?;
    Ok(AppState::new(StateParts {
        storage: Arc::new(storage),
        org,
        devices,
        metrics,
        blobs,
        admin_token,
        max_blob_bytes,
        server_device,
        dispatcher,
    }))
}

/// Serves until `shutdown` resolves, then finishes in-flight requests and saves what only
/// memory holds.
pub(crate) async fn serve(
    prepared: Prepared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let Prepared {
        listener, state, ..
    } = prepared;
    let app = router(Arc::clone(&state));
    let (stop_dispatch, dispatch_stopped) = tokio::sync::watch::channel(false);
    let dispatching = tokio::spawn(dispatch::run(Arc::clone(&state), dispatch_stopped));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_dispatch.send(true);
    let _ = dispatching.await;
    let stopping = Arc::clone(&state);
    let _ = tokio::task::spawn_blocking(move || stopping.writer.stop()).await;
    let storage = Arc::clone(&state.storage);
    let unsaved = state.devices.unsaved_seen();
    let _ = tokio::task::spawn_blocking(move || {
        for (device, seen) in unsaved {
            if let Err(e) = storage.touch_device(device, seen) {
                tracing::warn!(%device, error = %e, "could not save last_seen at shutdown");
            }
        }
    })
    .await;
    tracing::info!("proofline-server stopped");
    served.map_err(|e| ServerError::Runtime(e.to_string()))
}

/// A server running on a thread of its own (see [`start`]).
#[derive(Debug)]
pub struct RunningServer {
    startup: Startup,
    state: Arc<AppState>,
    runtime: tokio::runtime::Handle,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServerError>>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.startup.addr
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.startup.addr)
    }

    /// The admin token.
    pub fn admin_token(&self) -> &str {
        &self.startup.admin_token
    }

    /// What the start-up lines report (demo codes included).
    pub fn startup(&self) -> &Startup {
        &self.startup
    }

    /// Runs one dispatcher tick at `now` (tests drive the dispatcher with a scripted clock
    /// by starting the server with `dispatch.tick = None`).
    pub fn dispatch_tick(&self, now: DateTime<Utc>) -> Result<TickReport, ApiError> {
        self.state.dispatcher.tick(&self.state, now)
    }

    /// Attempts every queued notification due at `now` once (see [`RunningServer::dispatch_tick`]).
    pub fn deliver_due(&self, now: DateTime<Utc>) -> Result<DeliveryReport, StorageError> {
        self.runtime
            .block_on(dispatch::deliver::deliver_due(&self.state, now))
    }

    /// The notification outbox, newest first (every state when `state` is `None`).
    pub fn notifications(
        &self,
        state: Option<DeliveryState>,
    ) -> Result<Vec<QueuedNotification>, StorageError> {
        self.state.storage.notifications(state, usize::MAX)
    }

    /// Stops accepting, finishes in-flight requests, closes the database and waits for
    /// all of it.
    pub fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| ServerError::Runtime("the server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "server stopped with an error");
        }
    }
}

/// Starts a server on its own thread and tokio runtime; returns once it is listening.
pub fn start(config: Config) -> Result<RunningServer, ServerError> {
    type Ready = (Startup, Arc<AppState>, tokio::runtime::Handle);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Ready, ServerError>>();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("proofline-server".into())
        .spawn(move || -> Result<(), ServerError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("proofline-server-worker")
                .build()
                .map_err(|e| ServerError::Runtime(e.to_string()));
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(ServerError::Runtime(e.to_string())));
                    return Err(e);
                }
            };
            runtime.block_on(async move {
                let prepared = match prepare(config).await {
                    Ok(prepared) => prepared,
                    Err(e) => {
                        let message = e.to_string();
                        let _ = ready_tx.send(Err(e));
                        return Err(ServerError::Runtime(message));
                    }
                };
                let _ = ready_tx.send(Ok((
                    prepared.startup().clone(),
                    Arc::clone(&prepared.state),
                    tokio::runtime::Handle::current(),
                )));
                serve(prepared, async move {
                    let _ = shutdown_rx.await;
                })
                .await
            })
        })
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    let (startup, state, runtime) = match ready_rx.recv() {
        Ok(Ok(ready)) => ready,
        Ok(Err(e)) => {
            let _ = thread.join();
            return Err(e);
        }
        Err(_) => {
            let outcome = thread.join();
            return Err(match outcome {
                Ok(Err(e)) => e,
                _ => ServerError::Runtime("the server thread ended before it was ready".into()),
            });
        }
    };
    Ok(RunningServer {
        startup,
        state,
        runtime,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}
