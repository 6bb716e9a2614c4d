//! PostgreSQL's prepared statements (`redress_postgres::codec::Prepared`):
//! each connection prepares a statement once, keeps at most 256, and
//! recovers from a statement the server refuses as stale.

use std::sync::Arc;

use redress_postgres::{PgStore, Reader};
use redress_store::Store;
use redress_store::rows::Columns;
use redress_store::sql::{Conn, Param};

use crate::harness::{case, event, runtime, verify};

fn names(r: &mut Reader) -> Vec<String> {
    r.query("SELECT name FROM stale_probe ORDER BY name", &[], |row| {
        row.text(0)
    })
    .expect("the read answers")
}

/// A statement the server forgot (`DEALLOCATE ALL`, as a pooler in
/// transaction mode sends) and a plan whose result changed shape (another
/// instance's migration) are prepared anew, and a read outside a
/// transaction answers at once instead of failing; a connection keeps
/// at most 256 statements, and every one still answers past that.
pub fn stale_statements_are_prepared_again(url: &str) {
    let mut r = Reader::connect(url).expect("connect");
    r.batch_execute(
        "CREATE TABLE stale_probe (name text NOT NULL); \
         INSERT INTO stale_probe VALUES ('a'), ('b')",
    )
    .unwrap();
    assert_eq!(names(&mut r), ["a", "b"]);
    assert_eq!(r.prepared_count(), 1, "prepared once");
    assert_eq!(names(&mut r), ["a", "b"]);
    assert_eq!(r.prepared_count(), 1, "and reused");

    r.batch_execute("DEALLOCATE ALL").unwrap();
    assert_eq!(names(&mut r), ["a", "b"], "after DEALLOCATE ALL");

    r.batch_execute("ALTER TABLE stale_probe ALTER COLUMN name TYPE varchar(20)")
        .unwrap();
    assert_eq!(names(&mut r), ["a", "b"], "after the result type changed");

    for n in 0..300i64 {
        let got = r
            .query(
                &format!("SELECT count(*) + {n} FROM stale_probe WHERE name <> ?1"),
                &[Param::Text("c".into())],
                |row| row.int(0),
            )
            .unwrap();
        assert_eq!(got, [2 + n]);
        assert!(r.prepared_count() <= 256, "{}", r.prepared_count());
    }
}

/// The writer's own statements recover the same way: after another
/// instance's migration changes the type of a column that the journal's
/// head statement returns, each writer thread fails at most the one group
/// that met its stale statement (that transaction cannot run again), and
/// prepares anew for the next; every other registration is written, with
/// the journal's chain intact. (Before, a writer that had prepared the
/// statement failed every group it took, for ever.)
pub fn the_writer_prepares_stale_statements_again(url: &str) {
    let s: Arc<dyn Store> = Arc::new(PgStore::open(url).expect("open"));
    let rt = runtime();
    let insert = |n: u32| {
        let s = Arc::clone(&s);
        rt.block_on(async move {
            let row = case(n);
            s.insert_case(row.clone(), vec![event(Some(row.id), "submitted")], None)
                .await
        })
    };
    rt.block_on(s.migrate()).unwrap();
    for n in 0..8 {
        insert(n).expect("a registration before the change");
    }

    let mut other = Reader::connect(url).expect("connect");
    other
        .batch_execute("ALTER TABLE journal_head ALTER COLUMN hash TYPE varchar(200)")
        .unwrap();

    let failed = (8..48).filter(|&n| insert(n).is_err()).count();
    assert!(
        failed <= redress_postgres::WRITERS,
        "{failed} of 40 registrations failed after the change"
    );
    let events = rt.block_on(verify(s.as_ref()));
    assert_eq!(
        events,
        48 - failed as u64,
        "the chain holds every written event"
    );
}
