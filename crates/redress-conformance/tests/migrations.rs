//! Both backends number their migrations alike from 0016 on: a migration
//! added to one is added to the other with the same number and name, in
//! the code that applies it and in the file that holds it. (Migrations are
//! recorded by number, so the older ones keep the numbers they had.)

use std::collections::BTreeSet;
use std::path::Path;

/// The first migration numbered alike on both backends.
const FIRST_SHARED: i64 = 16;

fn listed(migrations: &[(i64, &str, &str)]) -> BTreeSet<(i64, String)> {
    migrations
        .iter()
        .filter(|(version, _, _)| *version >= FIRST_SHARED)
        .map(|(version, name, _)| (*version, name.to_string()))
        .collect()
}

/// `NNNN_name.sql` files of a crate's `migrations/` directory.
fn files(krate: &str) -> BTreeSet<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("migrations");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|file| {
            let stem = file.strip_suffix(".sql")?;
            let (number, name) = stem.split_once('_')?;
            Some((number.parse::<i64>().ok()?, name.to_string()))
        })
        .filter(|(version, _)| *version >= FIRST_SHARED)
        .collect()
}

#[test]
fn both_backends_number_their_migrations_alike() {
    let sqlite = listed(redress_sqlite::MIGRATIONS);
    let postgres = listed(redress_postgres::MIGRATIONS);
    assert!(
        sqlite.contains(&(16, "corrective_actions".to_string())),
        "{sqlite:?}"
    );
    assert_eq!(sqlite, postgres, "SQLite's migrations vs PostgreSQL's");
    assert_eq!(
        files("redress-sqlite"),
        sqlite,
        "SQLite's files vs its list"
    );
    assert_eq!(
        files("redress-postgres"),
        postgres,
        "PostgreSQL's files vs its list"
    );
}

#[test]
fn versions_rise_without_repeats() {
    for list in [redress_sqlite::MIGRATIONS, redress_postgres::MIGRATIONS] {
        let versions: Vec<i64> = list.iter().map(|(v, _, _)| *v).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    }
}
