//! A fault-injecting TCP proxy on loopback, between devices and the server.
//!
//! Each accepted connection gets one fate, drawn from a generator derived from the seed
//! and the connection's index (so the fates do not depend on thread timing): forwarded
//! as is, delayed (a pause before each of its first chunks, both ways), or cut after a
//! number of bytes in one direction — client → server (the server sees a truncated
//! request) or server → client (the server acted, the answer is lost). A cut forwards
//! exactly that many bytes of that direction, then shuts both sockets down.
//!
//! The upstream can be repointed ([`FaultProxy::set_upstream`]) so devices keep one URL
//! across a server restart on a new port. Counters say what the proxy did. Plain std
//! threads; everything stops on drop.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::rng::Rng;

/// Bytes read from a socket at once (a "chunk" for delays and cuts).
const CHUNK: usize = 64 * 1024;

/// What faults to inject, per connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultConfig {
    /// Probability that a connection is cut in the client → server direction.
    pub cut_client_to_server: f64,
    /// Probability that a connection is cut in the server → client direction.
    pub cut_server_to_client: f64,
    /// Probability that a connection (not cut) is delayed.
    pub delay: f64,
    /// Pause before each delayed chunk, in milliseconds, `[lo, hi]`.
    pub delay_ms: (u64, u64),
    /// How many chunks per direction a delayed connection pauses before (bounds the time
    /// a large upload spends in the proxy).
    pub delayed_chunks: u32,
    /// A cut happens after a byte count drawn log-uniformly from `[lo, hi]`, so both
    /// header-sized and body-sized truncations happen.
    pub cut_after_bytes: (u64, u64),
}

impl FaultConfig {
    /// A storm: half the connections cut (a quarter each way), a quarter delayed; more
    /// than the device's retries absorb, so syncs end incomplete and must resume.
    pub fn storm() -> FaultConfig {
        FaultConfig {
            cut_client_to_server: 0.25,
            cut_server_to_client: 0.25,
            delay: 0.25,
            ..FaultConfig::flaky()
        }
    }

    /// No faults: a plain forwarder.
    pub fn none() -> FaultConfig {
        FaultConfig {
            cut_client_to_server: 0.0,
            cut_server_to_client: 0.0,
            delay: 0.0,
            delay_ms: (0, 0),
            delayed_chunks: 0,
            cut_after_bytes: (0, 0),
        }
    }

    /// The faulty network of the convergence tests: 20% of connections cut (10% each
    /// way), 25% delayed by 5–200 ms per chunk, the rest forwarded.
    pub fn flaky() -> FaultConfig {
        FaultConfig {
            cut_client_to_server: 0.10,
            cut_server_to_client: 0.10,
            delay: 0.25,
            delay_ms: (5, 200),
            delayed_chunks: 6,
            cut_after_bytes: (16, 512 * 1024),
        }
    }
}

/// A direction of a proxied connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Device → server (requests).
    ClientToServer,
    /// Server → device (answers).
    ServerToClient,
}

/// The fate drawn for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Forwarded untouched.
    Forward,
    /// Paused before its first chunks.
    Delay,
    /// Cut after `after` bytes in `direction`.
    Cut {
        /// The direction truncated.
        direction: Direction,
        /// Bytes forwarded in that direction before the cut.
        after: u64,
    },
}

/// One planned cut and whether the connection carried enough bytes for it to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutRecord {
    /// The connection's index (0-based, in accept order).
    pub connection: u64,
    /// The direction truncated.
    pub direction: Direction,
    /// Bytes forwarded in that direction before the cut.
    pub after: u64,
    /// Whether the cut happened (more than `after` bytes were sent that way).
    pub fired: bool,
}

/// What the proxy did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections forwarded untouched.
    pub forwarded: u64,
    /// Connections delayed.
    pub delayed: u64,
    /// Chunks paused before.
    pub delayed_chunks: u64,
    /// Connections planned to be cut client → server.
    pub cut_planned_client_to_server: u64,
    /// Connections planned to be cut server → client.
    pub cut_planned_server_to_client: u64,
    /// Cuts that happened client → server.
    pub cuts_client_to_server: u64,
    /// Cuts that happened server → client.
    pub cuts_server_to_client: u64,
    /// Connections dropped because the upstream did not answer (server down).
    pub upstream_unreachable: u64,
    /// Bytes forwarded client → server.
    pub bytes_client_to_server: u64,
    /// Bytes forwarded server → client.
    pub bytes_server_to_client: u64,
}

impl std::fmt::Display for ProxyStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections: {} forwarded, {} delayed ({} chunks paused), cuts planned {} c→s / {} s→c, \
             cuts done {} c→s / {} s→c, {} upstream unreachable; {} bytes c→s, {} bytes s→c",
            self.connections,
            self.forwarded,
            self.delayed,
            self.delayed_chunks,
            self.cut_planned_client_to_server,
            self.cut_planned_server_to_client,
            self.cuts_client_to_server,
            self.cuts_server_to_client,
            self.upstream_unreachable,
            self.bytes_client_to_server,
            self.bytes_server_to_client
        )
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    forwarded: AtomicU64,
    delayed: AtomicU64,
    delayed_chunks: AtomicU64,
    cut_planned_c2s: AtomicU64,
    cut_planned_s2c: AtomicU64,
    cuts_c2s: AtomicU64,
    cuts_s2c: AtomicU64,
    upstream_unreachable: AtomicU64,
    bytes_c2s: AtomicU64,
    bytes_s2c: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    seed: u64,
    upstream: Mutex<SocketAddr>,
    config: Mutex<FaultConfig>,
    stopping: AtomicBool,
    counters: Counters,
    cuts: Mutex<Vec<CutRecord>>,
    /// Client-side sockets of live connections, shut down when the proxy stops.
    live: Mutex<Vec<(u64, TcpStream, TcpStream)>>,
}

/// A running proxy on `127.0.0.1`; stops on drop.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on an ephemeral loopback port forwarding to `upstream`, drawing
    /// each connection's fate from `seed` and `config`.
    pub fn start(upstream: SocketAddr, seed: u64, config: FaultConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            seed,
            upstream: Mutex::new(upstream),
            config: Mutex::new(config),
            stopping: AtomicBool::new(false),
            counters: Counters::default(),
            cuts: Mutex::new(Vec::new()),
            live: Mutex::new(Vec::new()),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("e2e-proxy-accept".into())
                .spawn(move || accept_loop(listener, shared))?
        };
        Ok(FaultProxy {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the URL devices are given.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards new connections to `upstream` from now on.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.shared.upstream) = upstream;
    }

    /// Changes the faults for new connections (e.g. [`FaultConfig::none`] while
    /// enrolling: a one-time code cannot be retried).
    pub fn set_faults(&self, config: FaultConfig) {
        *lock(&self.shared.config) = config;
    }

    /// Shuts down every live connection (both ways), as a network outage would.
    pub fn sever_all(&self) {
        for (_, client, upstream) in lock(&self.shared.live).drain(..) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        ProxyStats {
            connections: get(&c.connections),
            forwarded: get(&c.forwarded),
            delayed: get(&c.delayed),
            delayed_chunks: get(&c.delayed_chunks),
            cut_planned_client_to_server: get(&c.cut_planned_c2s),
            cut_planned_server_to_client: get(&c.cut_planned_s2c),
            cuts_client_to_server: get(&c.cuts_c2s),
            cuts_server_to_client: get(&c.cuts_s2c),
            upstream_unreachable: get(&c.upstream_unreachable),
            bytes_client_to_server: get(&c.bytes_c2s),
            bytes_server_to_client: get(&c.bytes_s2c),
        }
    }

    /// Every planned cut so far, in the order connections finished planning.
    pub fn cuts(&self) -> Vec<CutRecord> {
        lock(&self.shared.cuts).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
        self.sever_all();
    }
}

/// The fate of connection `index`.
pub fn fate(seed: u64, index: u64, config: &FaultConfig) -> Fate {
    let mut rng = Rng::derive(seed, index);
    let u = rng.unit();
    let c2s = config.cut_client_to_server;
    let s2c = c2s + config.cut_server_to_client;
    let delay = s2c + config.delay;
    let cut = |direction, rng: &mut Rng| Fate::Cut {
        direction,
        after: log_uniform(rng, config.cut_after_bytes),
    };
    if u < c2s {
        cut(Direction::ClientToServer, &mut rng)
    } else if u < s2c {
        cut(Direction::ServerToClient, &mut rng)
    } else if u < delay {
        Fate::Delay
    } else {
        Fate::Forward
    }
}

/// A number in `[lo, hi]`, its binary magnitude uniform.
fn log_uniform(rng: &mut Rng, (lo, hi): (u64, u64)) -> u64 {
    if hi <= lo {
        return lo;
    }
    let lo_bits = 64 - lo.max(1).leading_zeros();
    let hi_bits = 64 - hi.leading_zeros();
    let bits = rng.between(u64::from(lo_bits), u64::from(hi_bits)) as u32;
    let start = 1u64 << (bits - 1);
    let end = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    rng.between(start, end).clamp(lo, hi)
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut index = 0u64;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = stream else { continue };
        let n = index;
        index += 1;
        shared.counters.connections.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name(format!("e2e-proxy-{n}"))
            .spawn(move || serve_connection(n, client, &shared));
        if spawned.is_err() {
            // Out of threads: the client sees its connection closed.
            continue;
        }
    }
}

fn serve_connection(index: u64, client: TcpStream, shared: &Shared) {
    let config = *lock(&shared.config);
    let fate = fate(shared.seed, index, &config);
    let upstream_addr = *lock(&shared.upstream);
    let Ok(upstream) = TcpStream::connect_timeout(&upstream_addr, Duration::from_secs(2)) else {
        shared
            .counters
            .upstream_unreachable
            .fetch_add(1, Ordering::SeqCst);
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let counters = &shared.counters;
    match fate {
        Fate::Forward => counters.forwarded.fetch_add(1, Ordering::SeqCst),
        Fate::Delay => counters.delayed.fetch_add(1, Ordering::SeqCst),
        Fate::Cut {
            direction: Direction::ClientToServer,
            ..
        } => counters.cut_planned_c2s.fetch_add(1, Ordering::SeqCst),
        Fate::Cut {
            direction: Direction::ServerToClient,
            ..
        } => counters.cut_planned_s2c.fetch_add(1, Ordering::SeqCst),
    };
    let clones = (|| {
        Ok::<_, std::io::Error>((
            client.try_clone()?,
            upstream.try_clone()?,
            upstream.try_clone()?,
            client.try_clone()?,
            client.try_clone()?,
            upstream.try_clone()?,
        ))
    })();
    let Ok((c_read, u_write, u_read, c_write, c_live, u_live)) = clones else {
        return;
    };
    lock(&shared.live).push((index, c_live, u_live));
    let both = Sockets {
        client: &client,
        upstream: &upstream,
    };
    let plan = |direction: Direction, salt: u64| {
        let mut rng = Rng::derive(shared.seed ^ salt, index);
        Pump {
            direction,
            cut_after: match fate {
                Fate::Cut {
                    direction: d,
                    after,
                } if d == direction => Some(after),
                _ => None,
            },
            delays: match fate {
                Fate::Delay => (0..config.delayed_chunks)
                    .map(|_| rng.between(config.delay_ms.0, config.delay_ms.1))
                    .collect(),
                _ => Vec::new(),
            },
        }
    };
    let c2s = plan(Direction::ClientToServer, 0x5EED);
    let s2c = plan(Direction::ServerToClient, 0xD1CE);
    let cut = std::thread::scope(|scope| {
        let back = scope.spawn(|| s2c.run(u_read, c_write, both, counters));
        let forth = c2s.run(c_read, u_write, both, counters);
        forth.or(back.join().ok().flatten())
    });
    if let Fate::Cut { direction, after } = fate {
        lock(&shared.cuts).push(CutRecord {
            connection: index,
            direction,
            after,
            fired: cut.is_some(),
        });
    }
    lock(&shared.live).retain(|(i, _, _)| *i != index);
}

#[derive(Clone, Copy)]
struct Sockets<'a> {
    client: &'a TcpStream,
    upstream: &'a TcpStream,
}

impl Sockets<'_> {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

struct Pump {
    direction: Direction,
    cut_after: Option<u64>,
    delays: Vec<u64>,
}

impl Pump {
    /// Copies `from` → `to` until EOF, an error, or the cut. Returns `Some(direction)`
    /// if it cut the connection.
    fn run(
        &self,
        mut from: TcpStream,
        mut to: TcpStream,
        both: Sockets<'_>,
        counters: &Counters,
    ) -> Option<Direction> {
        let bytes = match self.direction {
            Direction::ClientToServer => &counters.bytes_c2s,
            Direction::ServerToClient => &counters.bytes_s2c,
        };
        let mut buf = vec![0u8; CHUNK];
        let mut sent = 0u64;
        let mut chunk = 0usize;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(&ms) = self.delays.get(chunk) {
                counters.delayed_chunks.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(ms));
            }
            chunk += 1;
            if let Some(limit) = self.cut_after
                && sent + n as u64 > limit
            {
                let keep = (limit - sent) as usize;
                let _ = to.write_all(&buf[..keep]);
                let _ = to.flush();
                bytes.fetch_add(keep as u64, Ordering::SeqCst);
                match self.direction {
                    Direction::ClientToServer => counters.cuts_c2s.fetch_add(1, Ordering::SeqCst),
                    Direction::ServerToClient => counters.cuts_s2c.fetch_add(1, Ordering::SeqCst),
                };
                both.cut();
                return Some(self.direction);
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n as u64;
            bytes.fetch_add(n as u64, Ordering::SeqCst);
        }
        // Pass the half-close on; the other direction may still be talking.
        let _ = to.shutdown(Shutdown::Write);
        None
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback upstream that runs `serve` on each connection, in its own thread.
    fn upstream(serve: fn(TcpStream)) -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        addr
    }

    fn echo(mut stream: TcpStream) {
        let mut buf = vec![0u8; 10_000];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = stream.shutdown(Shutdown::Write);
    }

    /// Reads everything, then answers with the count as 8 bytes.
    fn count(mut stream: TcpStream) {
        let mut all = Vec::new();
        let _ = stream.read_to_end(&mut all);
        let _ = stream.write_all(&(all.len() as u64).to_be_bytes());
        let _ = stream.shutdown(Shutdown::Write);
    }

    /// Sends `payload(1 MiB)` and closes.
    fn talk(mut stream: TcpStream) {
        let _ = stream.write_all(&payload(1 << 20, 99));
        let _ = stream.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }

    fn payload(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| rng.next_u64() as u8).collect()
    }

    fn connect(proxy: &FaultProxy) -> TcpStream {
        let s = TcpStream::connect(proxy.addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        s
    }

    /// Writes `data` from a thread while reading the echo back; the echo's bytes.
    fn round_trip(stream: TcpStream, data: Vec<u8>) -> Vec<u8> {
        let mut writer = stream.try_clone().expect("clone");
        let sender = std::thread::spawn(move || {
            let _ = writer.write_all(&data);
            let _ = writer.shutdown(Shutdown::Write);
        });
        let mut back = Vec::new();
        let mut reader = stream;
        let _ = reader.read_to_end(&mut back);
        sender.join().expect("sender");
        back
    }

    #[test]
    fn forwarding_is_byte_exact_both_ways() {
        let proxy = FaultProxy::start(upstream(echo), 1, FaultConfig::none()).expect("proxy");
        for i in 0..3 {
            let data = payload(700_000 + i * 13, i as u64);
            let back = round_trip(connect(&proxy), data.clone());
            assert_eq!(back.len(), data.len());
            assert!(back == data, "echo differs from what was sent");
        }
        let stats = proxy.stats();
        assert_eq!(stats.connections, 3);
        assert_eq!(stats.forwarded, 3);
        assert_eq!(stats.bytes_client_to_server, stats.bytes_server_to_client);
    }

    #[test]
    fn delayed_connections_are_still_byte_exact() {
        let config = FaultConfig {
            delay: 1.0,
            delay_ms: (1, 5),
            delayed_chunks: 4,
            ..FaultConfig::none()
        };
        let proxy = FaultProxy::start(upstream(echo), 2, config).expect("proxy");
        let data = payload(300_000, 5);
        assert!(round_trip(connect(&proxy), data.clone()) == data);
        let stats = proxy.stats();
        assert_eq!(stats.delayed, 1);
        assert!(stats.delayed_chunks >= 1, "{stats}");
    }

    #[test]
    fn a_client_to_server_cut_truncates_the_request() {
        for (seed, after) in [(3, 1u64), (4, 1000), (5, 200_000)] {
            let config = FaultConfig {
                cut_client_to_server: 1.0,
                cut_after_bytes: (after, after),
                ..FaultConfig::none()
            };
            let proxy = FaultProxy::start(upstream(count), seed, config).expect("proxy");
            let stream = connect(&proxy);
            let back = round_trip(stream, payload(600_000, seed));
            // The upstream saw exactly `after` bytes, then end of stream; its answer was
            // cut off with the connection (it may or may not reach the client whole: the
            // cut shuts the client's side down as well).
            assert!(back.is_empty() || back == after.to_be_bytes(), "{back:?}");
            let cuts = wait_for_cuts(&proxy, 1);
            assert_eq!(
                cuts,
                vec![CutRecord {
                    connection: 0,
                    direction: Direction::ClientToServer,
                    after,
                    fired: true,
                }]
            );
            assert_eq!(proxy.stats().bytes_client_to_server, after);
            assert_eq!(proxy.stats().cuts_client_to_server, 1);
        }
    }

    #[test]
    fn a_client_to_server_cut_delivers_exactly_the_prefix() {
        // An upstream that counts what it received and reports it through a channel.
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            if let Some(Ok(mut s)) = listener.incoming().next() {
                let mut all = Vec::new();
                let _ = s.read_to_end(&mut all);
                let _ = tx.send(all);
            }
        });
        let config = FaultConfig {
            cut_client_to_server: 1.0,
            cut_after_bytes: (12_345, 12_345),
            ..FaultConfig::none()
        };
        let proxy = FaultProxy::start(addr, 6, config).expect("proxy");
        let data = payload(100_000, 6);
        let _ = round_trip(connect(&proxy), data.clone());
        let got = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("upstream result");
        assert_eq!(got.len(), 12_345);
        assert!(got[..] == data[..12_345]);
    }

    #[test]
    fn a_server_to_client_cut_truncates_the_answer() {
        let proxy = FaultProxy::start(
            upstream(talk),
            7,
            FaultConfig {
                cut_server_to_client: 1.0,
                cut_after_bytes: (77_777, 77_777),
                ..FaultConfig::none()
            },
        )
        .expect("proxy");
        let mut stream = connect(&proxy);
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        let sent = payload(1 << 20, 99);
        assert_eq!(got.len(), 77_777);
        assert!(got[..] == sent[..77_777]);
        let cuts = wait_for_cuts(&proxy, 1);
        assert_eq!(cuts[0].direction, Direction::ServerToClient);
        assert!(cuts[0].fired);
    }

    #[test]
    fn a_cut_planned_past_the_end_does_not_fire() {
        let proxy = FaultProxy::start(
            upstream(echo),
            8,
            FaultConfig {
                cut_server_to_client: 1.0,
                cut_after_bytes: (1_000_000, 1_000_000),
                ..FaultConfig::none()
            },
        )
        .expect("proxy");
        let data = payload(5_000, 8);
        assert!(round_trip(connect(&proxy), data.clone()) == data);
        let cuts = wait_for_cuts(&proxy, 1);
        assert!(!cuts[0].fired);
    }

    #[test]
    fn the_upstream_can_be_repointed() {
        let proxy = FaultProxy::start(upstream(echo), 9, FaultConfig::none()).expect("proxy");
        let data = payload(1000, 9);
        assert!(round_trip(connect(&proxy), data.clone()) == data);
        proxy.set_upstream(upstream(count));
        let back = round_trip(connect(&proxy), data);
        assert_eq!(back, 1000u64.to_be_bytes());
    }

    #[test]
    fn an_unreachable_upstream_closes_the_connection() {
        // A port nothing listens on: bind, read it, close.
        let dead = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("addr");
        let proxy = FaultProxy::start(dead, 10, FaultConfig::none()).expect("proxy");
        let mut stream = connect(&proxy);
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        assert!(got.is_empty());
        for _ in 0..100 {
            if proxy.stats().upstream_unreachable == 1 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("not counted: {}", proxy.stats());
    }

    #[test]
    fn fates_follow_the_configured_shares() {
        let config = FaultConfig::flaky();
        let n = 20_000;
        let mut cuts = [0u32; 2];
        let mut delayed = 0;
        for i in 0..n {
            match fate(1234, i, &config) {
                Fate::Cut { direction, after } => {
                    assert!((16..=512 * 1024).contains(&after));
                    cuts[usize::from(direction == Direction::ServerToClient)] += 1;
                }
                Fate::Delay => delayed += 1,
                Fate::Forward => {}
            }
        }
        let share = |k: u32| f64::from(k) / n as f64;
        assert!((share(cuts[0]) - 0.10).abs() < 0.01, "{cuts:?}");
        assert!((share(cuts[1]) - 0.10).abs() < 0.01, "{cuts:?}");
        assert!((share(delayed) - 0.25).abs() < 0.015, "{delayed}");
        assert_eq!(fate(1234, 17, &config), fate(1234, 17, &config));
    }

    fn wait_for_cuts(proxy: &FaultProxy, n: usize) -> Vec<CutRecord> {
        for _ in 0..500 {
            let cuts = proxy.cuts();
            if cuts.len() >= n {
                return cuts;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("fewer than {n} cuts recorded: {:?}", proxy.cuts());
    }
}
