//! Counters for `GET /metrics`, in the Prometheus text format:
//!
//! - `proofline_http_requests_total{route,status}`: requests answered, by route pattern
//!   (`unmatched` for unknown paths) and status;
//! - `proofline_events_accepted_total`, `proofline_events_duplicate_total`,
//!   `proofline_events_rejected_total{code}`: push rulings since start (gaps included);
//! - `proofline_notifications_queued_total`, `…_sent_total`, `…_dead_total`: escalation
//!   alerts queued by the dispatcher, delivered, and given up on (dead letters);
//! - `proofline_blob_bytes_stored`: bytes of verified blobs held;
//! - `proofline_devices`: enrolled devices not revoked;
//! - `proofline_sync_lag_seconds`: a gauge, the longest time since any active device was
//!   last seen (server clock minus its `last_seen`, or its enrollment if never seen).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Duration;
use proofline_core::sync::protocol::PushOutcome;

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    accepted: AtomicU64,
    duplicate: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    blob_bytes: AtomicU64,
    /// Notifications queued by the dispatcher since start.
    pub notifications_queued: AtomicU64,
    /// Notifications delivered since start.
    pub notifications_sent: AtomicU64,
    /// Notifications given up on since start.
    pub notifications_dead: AtomicU64,
}

/// Gauges read from elsewhere when rendering.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// Active devices.
    pub devices: usize,
    /// Longest time since an active device was seen.
    pub sync_lag: Duration,
}

impl Metrics {
    /// Counters starting at zero, with `blob_bytes` already stored.
    pub fn new(blob_bytes: u64) -> Metrics {
        let metrics = Metrics::default();
        metrics.blob_bytes.store(blob_bytes, Ordering::Relaxed);
        metrics
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((route.to_string(), status)).or_default() += 1;
    }

    /// Counts the rulings of a push.
    pub fn rulings(&self, outcomes: &[PushOutcome]) {
        let mut rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        for outcome in outcomes {
            match outcome {
                PushOutcome::Accepted { .. } => {
                    self.accepted.fetch_add(1, Ordering::Relaxed);
                }
                PushOutcome::Duplicate => {
                    self.duplicate.fetch_add(1, Ordering::Relaxed);
                }
                PushOutcome::Rejected { code, .. } => {
                    *rejected.entry(code.as_str()).or_default() += 1;
                }
            }
        }
    }

    /// Counts a newly stored blob.
    pub fn blob_stored(&self, bytes: u64) {
        self.blob_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP proofline_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE proofline_http_requests_total counter\n");
        {
            let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "proofline_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        counter(
            &mut out,
            "proofline_events_accepted_total",
            "Pushed events accepted.",
            self.accepted.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "proofline_events_duplicate_total",
            "Pushed events already accepted before.",
            self.duplicate.load(Ordering::Relaxed),
        );
        out.push_str("# HELP proofline_events_rejected_total Pushed events rejected, by code.\n");
        out.push_str("# TYPE proofline_events_rejected_total counter\n");
        {
            let rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
            for (code, count) in rejected.iter() {
                let _ = writeln!(
                    out,
                    "proofline_events_rejected_total{{code=\"{code}\"}} {count}"
                );
            }
        }
        for (name, help, value) in [
            (
                "proofline_notifications_queued_total",
                "Escalation alerts queued by the dispatcher.",
                &self.notifications_queued,
            ),
            (
                "proofline_notifications_sent_total",
                "Escalation alerts delivered to a push service or webhook.",
                &self.notifications_sent,
            ),
            (
                "proofline_notifications_dead_total",
                "Escalation alerts given up on (dead letters).",
                &self.notifications_dead,
            ),
        ] {
            counter(&mut out, name, help, value.load(Ordering::Relaxed));
        }
        gauge(
            &mut out,
            "proofline_blob_bytes_stored",
            "Bytes of verified blobs stored.",
            self.blob_bytes.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "proofline_devices",
            "Enrolled devices not revoked.",
            gauges.devices.to_string(),
        );
        gauge(
            &mut out,
            "proofline_sync_lag_seconds",
            "Longest time since an active device was last seen.",
            format!("{:.3}", gauges.sync_lag.num_milliseconds() as f64 / 1000.0),
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
    );
}

fn gauge(out: &mut String, name: &str, help: &str, value: String) {
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
    );
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_core::sync::protocol::RejectCode;

    #[test]
    fn the_text_lists_every_counter() {
        let m = Metrics::new(10);
        m.request("/v1/sync/push", 200);
        m.rulings(&[
            PushOutcome::Accepted { server_seq: 1 },
            PushOutcome::Duplicate,
            PushOutcome::Rejected {
                code: RejectCode::NotAllowed,
                reason: "no".into(),
                expected_seq: None,
            },
        ]);
        let text = m.render(Gauges {
            devices: 2,
            sync_lag: Duration::seconds(3),
        });
        for line in [
            "proofline_http_requests_total{route=\"/v1/sync/push\",status=\"200\"} 1",
            "proofline_events_accepted_total 1",
            "proofline_events_duplicate_total 1",
            "proofline_events_rejected_total{code=\"not_allowed\"} 1",
            "proofline_blob_bytes_stored 10",
            "proofline_devices 2",
            "proofline_sync_lag_seconds 3.000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
