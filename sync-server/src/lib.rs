//! The Proofline sync server.
