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

/// A journal being re-sealed (an upgrade in progress): the events up to
/// `seq` were rewritten and chain with new hashes, ending in `new_hash`;
/// the event after `seq` still names `old_hash`, the hash its predecessor
/// had. Appends go on from the old head meanwhile; the rewrite that
/// reaches the head moves it to the new chain and records both heads in a
/// `journal_resealed` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalSplice {
    pub seq: i64,
    pub old_hash: String,
    pub new_hash: String,
    /// Events whose payload was rewritten so far.
    pub rewritten: i64,
    /// The head when the rewrite started.
    pub started_seq: i64,
    pub started_hash: String,
}

impl JournalSplice {
    /// A rewrite that starts after the event whose hash is `hash_after`
    /// (`GENESIS` for the start of the journal), with the head as it is.
    pub fn start(after: i64, hash_after: String, head: (i64, String)) -> Self {
        Self {
            seq: after,
            old_hash: hash_after.clone(),
            new_hash: hash_after,
            rewritten: 0,
            started_seq: head.0,
            started_hash: head.1,
        }
    }
}

/// What a call to rewrite the journal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteOutcome {
    /// The rewrite goes on after the splice.
    Continues(JournalSplice),
    /// The rewrite reached the head: the chain is whole again.
    Finished {
        rewritten: i64,
        old_head: (i64, String),
        new_head: (i64, String),
    },
}

/// The kind of the event that closes a rewrite of the journal.
pub const RESEALED_EVENT: &str = "journal_resealed";

/// Plans one step of a rewrite: `stored` are the events after
/// `splice.seq`, consecutive and as stored; `data` gives each a new
/// payload (`None`: unchanged). Returns the entries as they are to be
/// written and the splice after them. `None` when the stored events do not
/// continue the splice (another rewrite moved it, or the chain is broken
/// there): nothing is written then.
pub fn plan_rewrite(
    splice: &JournalSplice,
    stored: &[JournalEntry],
    data: &[(i64, Option<String>)],
) -> Option<(Vec<JournalEntry>, JournalSplice)> {
    let mut next = splice.clone();
    let mut out = Vec::with_capacity(stored.len());
    if stored.len() != data.len() {
        return None;
    }
    for (e, (seq, new)) in stored.iter().zip(data) {
        if e.seq != next.seq + 1 || *seq != e.seq || e.prev_hash != next.old_hash {
            return None;
        }
        let mut rewritten = e.clone();
        if let Some(new) = new
            && *new != e.data
        {
            rewritten.data = new.clone();
            next.rewritten += 1;
        }
        rewritten.prev_hash = next.new_hash.clone();
        rewritten.hash = rewritten.expected_hash();
        next.seq = e.seq;
        next.old_hash = e.hash.clone();
        next.new_hash = rewritten.hash.clone();
        out.push(rewritten);
    }
    Some((out, next))
}

/// The event that closes a rewrite: both heads, so that a copy of the old
/// head kept elsewhere can still be matched.
pub fn resealed_event(finished: &JournalSplice, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        case_id: None,
        kind: RESEALED_EVENT.into(),
        actor: "system:keys".into(),
        at,
        data: serde_json::json!({
            "old_head": {"seq": finished.seq, "hash": finished.old_hash},
            "new_head": {"seq": finished.seq, "hash": finished.new_hash},
            "started_at_head": {"seq": finished.started_seq, "hash": finished.started_hash},
            "rewritten": finished.rewritten,
        })
        .to_string(),
    }
}

/// Incremental verification over entries read in order.
#[derive(Debug, Default)]
pub struct Verifier {
    last_seq: i64,
    last_hash: Option<String>,
    /// A rewrite in progress: the one place the chain may switch from new
    /// hashes to old ones.
    splice: Option<JournalSplice>,
    pub checked: u64,
    pub problem: Option<String>,
}

impl Verifier {
    /// A verifier that knows of a rewrite in progress.
    pub fn spliced(splice: Option<JournalSplice>) -> Self {
        Self {
            splice,
            ..Self::default()
        }
    }

    /// Feeds the next entry; returns false once a problem was found.
    pub fn feed(&mut self, e: &JournalEntry) -> bool {
        if self.problem.is_some() {
            return false;
        }
        let mut expected_prev = self.last_hash.as_deref().unwrap_or(GENESIS);
        if let Some(s) = &self.splice
            && e.seq == s.seq + 1
            && expected_prev == s.new_hash
        {
            expected_prev = &s.old_hash;
        }
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
