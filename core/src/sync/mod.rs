//! Sync with the server: the wire protocol both sides share ([`protocol`] for devices,
//! [`admin_protocol`] for the admin API), the device's blocking HTTP client ([`client`])
//! and the admin API's ([`admin`]). The device facade's `sync(now)` drives the device
//! client: upload pending photo proof, push the outbox, pull the sites' events, fetch
//! thumbnails.

pub mod admin;
pub mod admin_protocol;
pub mod client;
pub mod protocol;
