//! Sync with the server: the wire protocol both sides share ([`protocol`]) and the
//! device's blocking HTTP client ([`client`]). The device facade's `sync(now)` drives them:
//! upload pending photo proof, push the outbox, pull the sites' events, fetch thumbnails.

pub mod client;
pub mod protocol;
