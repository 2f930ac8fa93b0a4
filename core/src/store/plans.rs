//! The hot reads use the indexes meant for them: `EXPLAIN QUERY PLAN` of each statement
//! on the latest schema (a plan that scans `events` would cost a read per stored event,
//! years of them).

use crate::store::{
    DEFINITIONS, LAST_OF_CHAIN, NOT_REJECTED, Store, history, outbox, pull, server,
};

/// The plan's lines (`detail` column), for `sql` with every parameter NULL.
fn plan(store: &Store, sql: &str) -> Vec<String> {
    let mut stmt = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let params = vec![rusqlite::types::Null; stmt.parameter_count()];
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .expect("plan");
    rows.map(|r| r.expect("plan row")).collect()
}

#[test]
fn hot_reads_search_their_index_and_never_scan_the_events() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("plans.db")).expect("open");
    let pending = outbox::pending_sql();
    let cases: [(&str, &str, &str); 10] = [
        (
            "history by due",
            history::DUE,
            "USING INDEX events_due (due>? AND due<?)",
        ),
        (
            "history by routine",
            history::ROUTINE,
            "USING INDEX events_routine_due (routine=? AND due>?)",
        ),
        (
            "acknowledgements",
            history::ACKS,
            "USING INDEX events_acks (acted_at>?)",
        ),
        (
            "occurrence lookup",
            history::OCCURRENCE_DUE,
            "USING INDEX events_occurrence_prefix (<expr>=?)",
        ),
        (
            "definitions",
            DEFINITIONS,
            "SCAN events USING INDEX events_definitions",
        ),
        (
            "skewed completions",
            server::SKEWED,
            "USING INDEX events_skewed (kind=?)",
        ),
        (
            "fired escalations",
            server::FIRED,
            "USING INDEX events_fired (acted_at>?)",
        ),
        (
            "pending events",
            &pending,
            "USING INDEX outbox_state (state=?)",
        ),
        ("last of a chain", LAST_OF_CHAIN, "(device=?)"),
        (
            "a chain position",
            pull::CHAIN_POSITION,
            "(device=? AND seq=?)",
        ),
    ];
    for (what, sql, wanted) in cases {
        let lines = plan(&store, sql);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("SEARCH events") || l.starts_with("SEARCH outbox"))
                && lines.iter().any(|l| l.contains(wanted)),
            "{what}: wanted {wanted:?}, got {lines:#?}"
        );
        // Walking a partial index (the definitions, a few hundred) is fine; walking the
        // table is not.
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("SCAN events") && !l.contains("USING INDEX")),
            "{what} scans the events: {lines:#?}"
        );
        // The rejected check lists the rejected ids through `outbox_state` once, never
        // scans the outbox nor probes it per row.
        assert!(
            !lines.iter().any(|l| l.starts_with("SCAN outbox")),
            "{what} scans the outbox: {lines:#?}"
        );
        if sql.contains(NOT_REJECTED) {
            assert!(
                lines.iter().any(|l| l == "LIST SUBQUERY 1")
                    && lines
                        .iter()
                        .any(|l| l == "SEARCH outbox USING INDEX outbox_state (state=?)")
                    && !lines.iter().any(|l| l.contains("CORRELATED")),
                "{what}: {lines:#?}"
            );
        }
    }
}
