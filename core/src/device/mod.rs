//! The device facade: one object the shells and the CLI call; it owns a store and a person/site context.
