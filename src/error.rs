//! One error type for the service layer and its one mapping to GraphQL.
//!
//! `User` errors are what the student or staff member can fix: mutations return them in
//! `userErrors`. Everything else becomes a top-level GraphQL error with `extensions.code`.
use async_graphql::ErrorExtensions;
use thiserror::Error;

/// A problem the user can fix, reported in a mutation payload.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct UserError {
    /// Stable code, e.g. INVALID_FEATURE_CODE, ID_LAST4_MISMATCH, INVALID_STATE.
    pub code: String,
    /// Path to the input field at fault, e.g. ["input", "featureCode"].
    pub field: Option<Vec<String>>,
    /// What to do about it, in Chinese for students.
    pub message: String,
}

impl UserError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            field: None,
            message: message.into(),
        }
    }

    /// Names the input field at fault (`input.<name>`; a dotted name such as `address.phone`
    /// is a path into a nested input).
    pub fn on(mut self, input_field: &str) -> Self {
        let mut path = vec!["input".to_string()];
        path.extend(input_field.split('.').map(str::to_string));
        self.field = Some(path);
        self
    }
}

#[derive(Debug, Error)]
pub enum AppError {
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid input"))]
    User(Vec<UserError>),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("没有权限执行此操作")]
    Forbidden,
    /// FORBIDDEN until the account chose a new password after an operator reset it.
    #[error("管理员已重置您的密码：请先修改密码（changePassword）再进行其他操作")]
    PasswordChangeRequired,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    BadUserInput(String),
    #[error("操作过于频繁，请 {retry_after_secs} 秒后再试")]
    Throttled { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("upstream service failed: {0}")]
    Upstream(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn user(code: &str, field: &str, message: impl Into<String>) -> Self {
        Self::User(vec![UserError::new(code, message).on(field)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// The stable `extensions.code` of a top-level error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::User(_) | Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden | Self::PasswordChangeRequired => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Throttled { .. } => "THROTTLED",
            Self::Database(_) | Self::Upstream(_) | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// The error type of resolvers: an already-mapped GraphQL error. It deliberately has no
/// `Display`, so async-graphql's blanket `From<impl Display>` cannot bypass `into_graphql` and drop
/// `extensions.code` when a resolver uses `?` on a service error.
#[derive(Debug, Clone)]
pub struct ApiError(pub async_graphql::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e.into_graphql())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::from(e).into()
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(e: async_graphql::Error) -> Self {
        Self(e)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.0
    }
}

impl AppError {
    /// The one mapping from service errors to GraphQL errors.
    pub fn into_graphql(self) -> async_graphql::Error {
        let e = self;
        let code = e.code();
        let message = match &e {
            // Never leak internals; the log has the detail.
            AppError::Database(_) | AppError::Internal(_) => {
                tracing::error!(error = %e, "request failed");
                "服务暂时不可用，请稍后再试".to_string()
            }
            AppError::Upstream(_) => {
                tracing::warn!(error = %e, "upstream failed");
                "微信服务暂时不可用，请稍后再试".to_string()
            }
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let AppError::Throttled { retry_after_secs } = &e {
                ext.set("retryAfterSeconds", *retry_after_secs);
            }
            if let AppError::User(errors) = &e
                && let Some(first) = errors.first()
            {
                ext.set("userErrorCode", first.code.clone());
            }
        })
    }
}

/// Splits a service result into what a mutation payload carries: the value, or the user errors.
/// Any other error becomes a top-level error.
pub fn into_payload<T>(result: AppResult<T>) -> ApiResult<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(AppError::User(errors)) => Ok((None, errors)),
        Err(other) => Err(other.into()),
    }
}

/// True when the database refused a row because a unique constraint already holds the value.
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_once() {
        assert_eq!(AppError::Forbidden.code(), "FORBIDDEN");
        assert_eq!(AppError::Unauthenticated("x").code(), "UNAUTHENTICATED");
        assert_eq!(
            AppError::Throttled {
                retry_after_secs: 3
            }
            .code(),
            "THROTTLED"
        );
        assert_eq!(AppError::internal("boom").code(), "INTERNAL_SERVER_ERROR");
    }

    #[test]
    fn user_errors_go_to_the_payload() {
        let (v, errs) = into_payload::<()>(Err(AppError::user("X", "f", "m"))).expect("payload");
        assert!(v.is_none());
        assert_eq!(errs[0].field, Some(vec!["input".into(), "f".into()]));
        assert!(into_payload::<()>(Err(AppError::Forbidden)).is_err());
    }

    #[test]
    fn internal_detail_is_not_shown() {
        let e = AppError::internal("secret path /x").into_graphql();
        assert!(!e.message.contains("secret"));
    }
}
