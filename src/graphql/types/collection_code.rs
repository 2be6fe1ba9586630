use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use crate::services::collection_codes::CodeInfo;

/// What a collection code says, before anything is saved.
#[derive(SimpleObject)]
pub struct CollectionCodeInfo {
    pub registry_student_id: String,
    /// e.g. 张*三
    pub masked_name: String,
    /// e.g. 110101********123X
    pub masked_id_number: String,
    pub school_code: String,
    pub school_name: String,
    pub college: Option<String>,
    pub major: Option<String>,
    pub education_level: Option<String>,
    pub student_number: Option<String>,
    pub graduation_year: Option<i32>,
    pub expires_at: DateTime<Utc>,
}

impl From<CodeInfo> for CollectionCodeInfo {
    fn from(info: CodeInfo) -> Self {
        let c = info.claims;
        Self {
            registry_student_id: c.sid,
            masked_name: c.nm,
            masked_id_number: c.idm,
            school_code: c.sch,
            school_name: c.schn,
            college: c.col,
            major: c.maj,
            education_level: c.lvl,
            student_number: c.xh,
            graduation_year: c.gy,
            expires_at: info.expires_at,
        }
    }
}
