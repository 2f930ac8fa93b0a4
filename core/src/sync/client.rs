//! The device's HTTP client for the sync protocol (reqwest, blocking, rustls).
