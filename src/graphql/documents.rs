//! Documents known by hash: Apollo's automatic persisted queries and, in production, trusted
//! documents (`GRAPHQL_TRUSTED_DOCUMENTS`), plus a cache of parsed documents by hash.
//!
//! Automatic persisted queries (`extensions.persistedQuery { version: 1, sha256Hash }`): a hash
//! alone is answered from the store (`services::persisted_queries`: Redis when configured) or
//! refused with `PERSISTED_QUERY_NOT_FOUND`, upon which the client sends the hash with the
//! document; that is checked against the hash (`PERSISTED_QUERY_HASH_MISMATCH` otherwise) and
//! stored once it parsed and passed the shape checks.
//!
//! With a manifest of trusted documents only the listed documents are answered: by hash
//! (`PERSISTED_QUERY_NOT_IN_LIST` for another hash) or by their text (`QUERY_NOT_IN_SAFELIST`
//! for any other text). Nothing is stored then.
//!
//! Either way a document that comes with its hash (or, with a manifest, whose hash is listed) is
//! parsed once per process: its parsed form is kept by hash (a bounded LRU) and handed to
//! async-graphql, which then does not parse it again. Validation still runs on every request: it
//! checks the variables too.
use std::sync::{Arc, Mutex};

use async_graphql::{
    ErrorExtensionValues, Pos, Request, ServerError, ServerResult, Value,
    parser::types::ExecutableDocument,
};

use crate::{
    AppState,
    services::persisted_queries::{Lru, sha256_hex},
};

pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
pub const QUERY_NOT_IN_SAFELIST: &str = "QUERY_NOT_IN_SAFELIST";

/// Parsed documents one process keeps.
const PARSED_CAPACITY: usize = 500;

fn refusal(code: &str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None::<Pos>);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// The hash of `extensions.persistedQuery`, if the request has one.
fn persisted_hash(request: &Request) -> ServerResult<Option<String>> {
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let Value::Object(fields) = persisted else {
        return Err(refusal(
            PERSISTED_QUERY_NOT_SUPPORTED,
            "extensions.persistedQuery must be an object { version: 1, sha256Hash }",
        ));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => {
            return Err(refusal(
                PERSISTED_QUERY_NOT_SUPPORTED,
                "only version 1 of persisted queries is supported",
            ));
        }
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(refusal(
            PERSISTED_QUERY_NOT_SUPPORTED,
            "extensions.persistedQuery.sha256Hash must be 64 hex digits",
        )),
    }
}

/// What to do with a request once its text is known.
pub struct Resolved {
    /// The document's hash when it is to be cached parsed.
    pub hash: Option<String>,
    /// Store the document under the hash once it has passed the shape checks.
    pub store: bool,
}

/// Fills in the text of a request sent by hash, and refuses what the mode does not allow. Also
/// called by `GET /graphql` before it looks at the operation's type.
pub async fn resolve(state: &AppState, request: &mut Request) -> ServerResult<Resolved> {
    let hash = persisted_hash(request)?;
    if let Some(trusted) = &state.config.trusted_documents {
        let hash = match hash {
            Some(hash) => {
                let Some(document) = trusted.get(&hash) else {
                    return Err(refusal(
                        PERSISTED_QUERY_NOT_IN_LIST,
                        "this deployment answers only its trusted documents, and this hash is not one of them",
                    ));
                };
                if request.query.is_empty() {
                    request.query = document.clone();
                } else if request.query != *document {
                    return Err(refusal(
                        PERSISTED_QUERY_HASH_MISMATCH,
                        "the document does not match extensions.persistedQuery.sha256Hash",
                    ));
                }
                hash
            }
            None => {
                let hash = sha256_hex(&request.query);
                if !trusted.contains_key(&hash) {
                    return Err(refusal(
                        QUERY_NOT_IN_SAFELIST,
                        "this deployment answers only its trusted documents (GRAPHQL_TRUSTED_DOCUMENTS), and this document is not one of them",
                    ));
                }
                hash
            }
        };
        return Ok(Resolved {
            hash: Some(hash),
            store: false,
        });
    }
    let Some(hash) = hash else {
        return Ok(Resolved {
            hash: None,
            store: false,
        });
    };
    if request.query.is_empty() {
        return match state.persisted_queries.get(&hash).await {
            Some(document) => {
                request.query = document;
                Ok(Resolved {
                    hash: Some(hash),
                    store: false,
                })
            }
            None => Err(refusal(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")),
        };
    }
    if sha256_hex(&request.query) != hash {
        return Err(refusal(
            PERSISTED_QUERY_HASH_MISMATCH,
            "provided sha does not match query",
        ));
    }
    Ok(Resolved {
        hash: Some(hash),
        store: true,
    })
}

/// The cache of parsed documents by hash, shared by every request of the schema. The shape
/// checks (`request_shape::prepare`) call [`Documents::before`] first, so that a document sent by
/// hash has its text (and its parsed form, when cached) before they run, and
/// [`Documents::after`] once they passed.
#[derive(Clone)]
pub struct Documents {
    parsed: Arc<Mutex<Lru<ExecutableDocument>>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            parsed: Arc::new(Mutex::new(Lru::new(PARSED_CAPACITY))),
        }
    }
}

/// A request whose document is known by hash.
pub struct Known {
    hash: String,
    /// Its parsed form came from the cache.
    cached: bool,
    store: bool,
}

impl Documents {
    /// Gives a request sent by hash its text (refusing what the mode does not allow), and its
    /// parsed form when the cache has it.
    pub async fn before(
        &self,
        state: &AppState,
        request: &mut Request,
    ) -> ServerResult<Option<Known>> {
        if state.config.trusted_documents.is_none()
            && !request.extensions.contains_key("persistedQuery")
        {
            return Ok(None);
        }
        let resolved = resolve(state, request).await?;
        let Some(hash) = resolved.hash else {
            return Ok(None);
        };
        let cached = self.parsed.lock().ok().and_then(|mut p| p.get(&hash));
        let was_cached = cached.is_some();
        if let Some(document) = cached {
            request.set_parsed_query(document);
        }
        Ok(Some(Known {
            hash,
            cached: was_cached,
            store: resolved.store,
        }))
    }

    /// Once the document parsed and passed the shape checks: keeps its parsed form, and stores a
    /// new persisted query.
    pub async fn after(
        &self,
        state: &AppState,
        known: Known,
        request: &mut Request,
    ) -> ServerResult<()> {
        state.metrics.count_document(!known.cached);
        if known.cached {
            return Ok(());
        }
        let document = request.parsed_query()?.clone();
        if let Ok(mut parsed) = self.parsed.lock() {
            parsed.put(known.hash.clone(), document);
        }
        if known.store {
            state
                .persisted_queries
                .put(&known.hash, &request.query)
                .await;
        }
        Ok(())
    }
}
