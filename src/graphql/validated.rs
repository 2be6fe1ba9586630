//! Documents that passed the full validation once, so that the same text is not validated again.
//!
//! async-graphql validates every request from scratch: 22 rules walk the whole document (one of
//! them, overlapping fields, compares every pair of fields that share a response key). For a
//! document without variables the outcome depends only on its text and the operation chosen, so a
//! repeat of a text that passed (the mini-program sends the same few documents all day) can run
//! on a second schema in async-graphql's `Fast` mode: that one only measures complexity and depth
//! (held to the same limits by the pipeline's validation step) and checks fragment cycles and
//! uploads. Apollo Server keeps its validated documents the same way.
//!
//! A repeat skips the rest of the pipeline's steps before execution too (the shape checks, the
//! parse hook's readings, the limits): for a text without variables or extensions they give what
//! they gave the first time, which is kept with the text ([`Learnt`]). So the second schema has no
//! extension at all, and its fields skip async-graphql's per-field extension chain.
//!
//! A request with variables always gets the full validation, which checks the variables' values
//! against their types. Only texts up to [`MAX_TEXT`] are kept, at most [`CAPACITY`] of them; a
//! text is kept with the operation name it was validated for.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Name, SchemaEnv,
    parser::types::{ExecutableDocument, OperationType},
};

use crate::services::persisted_queries::Lru;

/// The longest document text kept (the order page is under 400 bytes).
pub const MAX_TEXT: usize = 16 * 1024;
/// How many texts one process keeps.
pub const CAPACITY: usize = 500;

/// What the steps before execution learnt of a document that passed them all, which for a
/// document without variables or extensions depends only on its text: a repeat of the text is
/// answered from this by `pipeline::execute_repeat`, which the pipeline fills in.
pub struct Learnt {
    pub(super) fields: Option<usize>,
    pub(super) measured: Option<(usize, usize)>,
    pub(super) operations: Vec<(Option<Name>, OperationType)>,
    pub(super) described: Option<(String, &'static str)>,
    pub(super) aliases: Vec<(Name, Name)>,
    /// The document as parsed, when it selects at most `pipeline::KEEP_PARSED_FIELDS` fields:
    /// a repeat runs on a copy, which costs a fraction of parsing the text again (parsing was
    /// 7 % of the order page's CPU); a larger one is parsed again.
    pub(super) document: Option<ExecutableDocument>,
    /// The schema's types, for placing the nulls of failing fields.
    pub(super) schema_env: SchemaEnv,
}

/// A kept text's operation name and what the pipeline learnt of it.
type Kept = (Option<String>, Arc<Learnt>);

#[derive(Clone)]
pub struct ValidatedDocuments(Arc<Mutex<Lru<Kept>>>);

impl Default for ValidatedDocuments {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Lru::new(CAPACITY))))
    }
}

impl ValidatedDocuments {
    /// What the pipeline learnt of `text` when it passed every step for this operation name.
    pub fn get(&self, text: &str, operation_name: Option<&str>) -> Option<Arc<Learnt>> {
        if text.len() > MAX_TEXT {
            return None;
        }
        self.0
            .lock()
            .ok()
            .and_then(|mut kept| kept.get(text))
            .filter(|(name, _)| name.as_deref() == operation_name)
            .map(|(_, learnt)| learnt)
    }

    /// Records that `text` passed every step (the full validation and the limits included) for
    /// this operation name, and what the steps learnt.
    pub fn insert(&self, text: String, operation_name: Option<String>, learnt: Arc<Learnt>) {
        if text.len() > MAX_TEXT {
            return;
        }
        if let Ok(mut kept) = self.0.lock() {
            kept.put(text, (operation_name, learnt));
        }
    }
}
