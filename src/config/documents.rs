//! `GRAPHQL_TRUSTED_DOCUMENTS`: the manifest of the only documents a production deployment
//! answers, and `CAMPUS_PHOTO_PUBLIC_URL`, the address clients reach the service at.
use std::{collections::BTreeMap, sync::Arc};

use sha2::{Digest, Sha256};

use super::{ConfigError, invalid};

const VARIABLE: &str = "GRAPHQL_TRUSTED_DOCUMENTS";

/// Trusted documents by their SHA-256 (lowercase hex).
pub type TrustedDocuments = Arc<BTreeMap<String, String>>;

/// Reads a manifest: either a JSON object `{ "<sha256>": "<document>", … }` (what
/// `campus-photo trusted-documents` writes, and graphql-codegen's persisted documents), or
/// Apollo's `{ "format": "apollo-persisted-query-manifest", "operations": [{ "id", "body" }] }`.
/// Every hash must be the SHA-256 of its document.
pub fn parse_manifest(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let mut documents = BTreeMap::new();
    let pairs: Vec<(String, String)> = match value.get("operations") {
        Some(serde_json::Value::Array(operations)) => operations
            .iter()
            .map(|op| {
                match (
                    op.get("id").and_then(|v| v.as_str()),
                    op.get("body").and_then(|v| v.as_str()),
                ) {
                    (Some(id), Some(body)) => Ok((id.to_string(), body.to_string())),
                    _ => Err("each operation needs an `id` and a `body`".to_string()),
                }
            })
            .collect::<Result<_, _>>()?,
        _ => value
            .as_object()
            .ok_or("expected an object of hash → document")?
            .iter()
            .map(|(hash, doc)| {
                doc.as_str()
                    .map(|d| (hash.clone(), d.to_string()))
                    .ok_or_else(|| format!("the document of {hash} is not a string"))
            })
            .collect::<Result<_, _>>()?,
    };
    for (hash, body) in pairs {
        let actual = hex::encode(Sha256::digest(body.as_bytes()));
        if !hash.eq_ignore_ascii_case(&actual) {
            return Err(format!(
                "{hash} is not the SHA-256 of its document (that is {actual})"
            ));
        }
        documents.insert(actual, body);
    }
    if documents.is_empty() {
        return Err("the manifest lists no documents".into());
    }
    Ok(documents)
}

pub fn read_trusted(path: Option<&str>) -> Result<Option<TrustedDocuments>, ConfigError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| invalid(VARIABLE, format!("{path}: {e}")))?;
    let documents = parse_manifest(&text).map_err(|e| invalid(VARIABLE, format!("{path}: {e}")))?;
    Ok(Some(Arc::new(documents)))
}

/// `CAMPUS_PHOTO_PUBLIC_URL`: `http(s)://host[:port][/prefix]`, without the trailing slash.
pub fn read_public_url(value: Option<&str>) -> Result<Option<String>, ConfigError> {
    let Some(url) = value else {
        return Ok(None);
    };
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            invalid(
                "CAMPUS_PHOTO_PUBLIC_URL",
                "expected http(s)://host[:port][/prefix], e.g. https://photo.example.edu.cn",
            )
        })?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(invalid(
            "CAMPUS_PHOTO_PUBLIC_URL",
            "expected http(s)://host[:port][/prefix] without a query",
        ));
    }
    Ok(Some(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_manifest_formats_are_read_and_hashes_checked() {
        let doc = "{ __typename }";
        let hash = hex::encode(Sha256::digest(doc.as_bytes()));
        let map = serde_json::json!({ hash.clone(): doc }).to_string();
        assert_eq!(parse_manifest(&map).unwrap()[&hash], doc);
        let apollo = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": hash.clone(), "name": "T", "type": "query", "body": doc }]
        })
        .to_string();
        assert_eq!(parse_manifest(&apollo).unwrap().len(), 1);
        let wrong = serde_json::json!({ "00": doc }).to_string();
        assert!(parse_manifest(&wrong).unwrap_err().contains("SHA-256"));
        assert!(parse_manifest("{}").is_err());
    }

    #[test]
    fn public_urls_lose_their_trailing_slash() {
        assert_eq!(
            read_public_url(Some("https://p.example/")).unwrap(),
            Some("https://p.example".into())
        );
        assert!(read_public_url(Some("p.example")).is_err());
        assert_eq!(read_public_url(None).unwrap(), None);
    }
}
