//! The `Store` contract, tested on every backend.
//!
//! Each test is a function of the store (`Arc<dyn Store>`, or `Db` when it
//! needs a test hook both backends have) and is registered below once per
//! backend, as `sqlite::<module>::<test>` and `postgres::<module>::<test>`;
//! the tests of several instances on one database are registered for
//! PostgreSQL only. A test that is written but not registered is dead code,
//! which the build refuses (`clippy -D warnings`).
//!
//! PostgreSQL tests run on a fresh schema each, on the server named by
//! `REDRESS_TEST_POSTGRES`; when it cannot be reached they are reported as
//! ignored (or fail when `REDRESS_TEST_POSTGRES_REQUIRED=1`).

use std::process::ExitCode;

use redress_testkit::{Backend, Trial, trial};

#[path = "store/actions.rs"]
mod actions;
#[path = "store/cases.rs"]
mod cases;
#[path = "store/claims.rs"]
mod claims;
#[path = "store/copy.rs"]
mod copy;
#[path = "store/harness.rs"]
mod harness;
#[path = "store/instances.rs"]
mod instances;
#[path = "store/journal.rs"]
mod journal;
#[path = "store/list.rs"]
mod list;
#[path = "store/model.rs"]
mod model;
#[path = "store/planner.rs"]
mod planner;
#[path = "store/prepared.rs"]
mod prepared;
#[path = "store/retention.rs"]
mod retention;
#[path = "store/settings.rs"]
mod settings;
#[path = "store/times.rs"]
mod times;
#[path = "store/webhooks.rs"]
mod webhooks;
#[path = "store/writer.rs"]
mod writer;

/// Registers `module::test` (a function of `Arc<dyn Store>`) on both backends.
macro_rules! on_both {
    ($trials:ident: $($module:ident::$test:ident),* $(,)?) => {$(
        for backend in Backend::ALL {
            $trials.push(trial(
                backend,
                concat!(stringify!($module), "::", stringify!($test)),
                move || harness::with_store(backend, $module::$test),
            ));
        }
    )*};
}

/// Registers `module::test` (a function of `Db`: the store and its test
/// hooks) on both backends.
macro_rules! on_both_with_hooks {
    ($trials:ident: $($module:ident::$test:ident),* $(,)?) => {$(
        for backend in Backend::ALL {
            $trials.push(trial(
                backend,
                concat!(stringify!($module), "::", stringify!($test)),
                move || harness::with_db(backend, $module::$test),
            ));
        }
    )*};
}

/// Registers `module::test` (a function of a source store and an empty
/// target store of the same backend) on both backends.
macro_rules! on_both_from_to {
    ($trials:ident: $($module:ident::$test:ident),* $(,)?) => {$(
        for backend in Backend::ALL {
            $trials.push(trial(
                backend,
                concat!(stringify!($module), "::", stringify!($test)),
                move || harness::with_two_stores(backend, $module::$test),
            ));
        }
    )*};
}

/// Registers `module::test` (a function of two stores on one schema) on
/// PostgreSQL.
macro_rules! on_two_instances {
    ($trials:ident: $($module:ident::$test:ident),* $(,)?) => {$(
        $trials.push(trial(
            Backend::Postgres,
            concat!(stringify!($module), "::", stringify!($test)),
            || harness::with_two_instances($module::$test),
        ));
    )*};
}

fn main() -> ExitCode {
    let mut trials: Vec<Trial> = Vec::new();
    on_both!(trials:
        actions::actions_are_indexed_with_the_case_row,
        cases::insert_and_get_round_trip,
        cases::tracking_number_collision_writes_nothing,
        cases::idempotent_replay_writes_nothing,
        cases::stale_version_conflicts_and_writes_nothing,
        cases::update_of_two_cases_is_atomic,
        cases::closed_requires_closure,
        cases::sweep_pairs_and_reports,
        cases::rollups_follow_every_save_and_match_a_rebuild,
        cases::monthly_rollups_answer_as_the_days_do,
        cases::deadline_queues_and_moved_calendar_days,
        claims::only_due_cases_oldest_first,
        claims::a_claim_holds_until_its_lease_runs_out,
        claims::saving_a_case_ends_its_claim,
        journal::concurrent_appends_make_one_chain,
        journal::events_for_case_in_order,
        list::filters_paging_and_totals,
        list::visibility,
        list::search,
        list::ranked,
        list::filed_rows,
        model::the_model_counts_as_the_domain_rule_does,
        model::case_texts_are_found_by_filter_within_the_visibility,
        settings::departments_and_categories,
        settings::users_and_sessions,
        settings::held_mail,
        settings::respondents_and_api_keys,
        settings::calendar,
        settings::calendar_feed,
        settings::run_time_settings,
        settings::canned_replies,
        settings::canned_replies_are_seeded_once,
        settings::imported_canned_replies_count_as_seeded,
        times::nanoseconds_are_truncated_to_microseconds,
        writer::migrate_is_idempotent,
        webhooks::subscriptions_start_at_the_journal_head,
        webhooks::claims_take_subscriptions_with_work,
        webhooks::a_claim_holds_until_its_lease_runs_out,
        webhooks::calls_record_attempts_and_their_effects,
        webhooks::the_call_log_pages_newest_first,
        retention::settled_webhook_calls_expire_with_their_attempts,
        retention::held_mail_expires_after_receipt_or_settlement,
        retention::idempotency_records_expire,
    );
    on_both_with_hooks!(trials:
        journal::failed_jobs_in_a_batch_do_not_break_the_chain,
        writer::group_commit_of_concurrent_inserts,
        writer::bulk_insert_loads_rows,
    );
    on_both_from_to!(trials:
        copy::held_mail_templates_and_webhooks_copy_verbatim,
    );
    on_two_instances!(trials:
        instances::concurrent_claims_are_disjoint,
        instances::concurrent_writes_make_one_chain,
        instances::one_version_wins_across_instances,
        instances::one_tracking_number_across_instances,
        instances::one_idempotency_key_across_instances,
        instances::canned_replies_are_seeded_once_across_instances,
        webhooks::webhook_claims_are_disjoint,
    );
    trials.push(trial(
        Backend::Postgres,
        "instances::instances_migrate_a_fresh_schema_at_once",
        || harness::with_schema(instances::instances_migrate_a_fresh_schema_at_once),
    ));
    trials.push(trial(
        Backend::Postgres,
        "prepared::stale_statements_are_prepared_again",
        || harness::with_schema(prepared::stale_statements_are_prepared_again),
    ));
    trials.push(trial(
        Backend::Postgres,
        "prepared::the_writer_prepares_stale_statements_again",
        || harness::with_schema(prepared::the_writer_prepares_stale_statements_again),
    ));
    trials.push(trial(
        Backend::Postgres,
        "planner::a_new_schema_leaves_cases_without_statistics",
        || harness::with_schema(planner::a_new_schema_leaves_cases_without_statistics),
    ));
    redress_testkit::run(trials).exit_code()
}
