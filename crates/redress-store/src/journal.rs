//! The append-only journal and its hash chain.
//!
//! Each entry's hash covers the previous entry's hash and the entry's own
//! fields, so editing or removing any entry breaks every hash after it.
//! Every backend computes hashes with [`chain_hash`]; the head of the chain
//! is also kept apart, so that removing the newest entries is caught too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub case_id: Option<Uuid>,
    pub kind: String,
    /// `kind:id` of the actor, e.g. `staff:alice`, `system:sweep`.
    pub actor: String,
    pub at: DateTime<Utc>,
    /// JSON text; never holds unsealed personal data.
    pub data: String,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub seq: i64,
    pub case_id: Option<Uuid>,
    pub kind: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of the empty chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Hash of one entry: SHA-256 over the previous hash and the fields,
/// each length-prefixed so that no two field lists collide.
pub fn chain_hash(prev_hash: &str, seq: i64, e: &NewEvent) -> String {
    let mut h = Sha256::new();
    let case = e.case_id.map(|c| c.to_string()).unwrap_or_default();
    let at = e.at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let seq = seq.to_string();
    for part in [prev_hash, &seq, &case, &e.kind, &e.actor, &at, &e.data] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl JournalEntry {
    pub fn expected_hash(&self) -> String {
        let e = NewEvent {
            case_id: self.case_id,
            kind: self.kind.clone(),
            actor: self.actor.clone(),
            at: self.at,
            data: self.data.clone(),
        };
        chain_hash(&self.prev_hash, self.seq, &e)
    }
}

/// Incremental verification over entries read in order.
#[derive(Debug, Default)]
pub struct Verifier {
    last_seq: i64,
    last_hash: Option<String>,
    pub checked: u64,
    pub problem: Option<String>,
}

impl Verifier {
    /// Feeds the next entry; returns false once a problem was found.
    pub fn feed(&mut self, e: &JournalEntry) -> bool {
        if self.problem.is_some() {
            return false;
        }
        let expected_prev = self.last_hash.as_deref().unwrap_or(GENESIS);
        if e.seq != self.last_seq + 1 {
            self.problem = Some(format!("event {} is missing", self.last_seq + 1));
        } else if e.prev_hash != expected_prev {
            self.problem = Some(format!("event {} does not follow its predecessor", e.seq));
        } else if e.expected_hash() != e.hash {
            self.problem = Some(format!("event {} was altered", e.seq));
        }
        self.last_seq = e.seq;
        self.last_hash = Some(e.hash.clone());
        self.checked += 1;
        self.problem.is_none()
    }

    /// Compares the end of the chain with the separately kept head.
    pub fn finish(&mut self, head: Option<(i64, String)>) {
        if self.problem.is_some() {
            return;
        }
        match head {
            None if self.checked == 0 => {}
            None => self.problem = Some("the chain head is missing".into()),
            Some((seq, hash)) => {
                if seq != self.last_seq || Some(&hash) != self.last_hash.as_ref() {
                    self.problem = Some(format!(
                        "the chain ends at event {} but its head says {}",
                        self.last_seq, seq
                    ));
                }
            }
        }
    }
}
