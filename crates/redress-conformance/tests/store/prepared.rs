//! PostgreSQL's prepared statements (`redress_postgres::codec::Prepared`):
//! each connection prepares a statement once, keeps at most 256, and
//! recovers from a statement the server refuses as stale.

use redress_postgres::Reader;
use redress_store::rows::Columns;
use redress_store::sql::{Conn, Param};

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
