//! Reading the service state and the viewer out of a resolver's context.
use async_graphql::Context;

use crate::{
    AppState,
    error::{AppError, AppResult},
    services::sessions::{Auth, Viewer},
};

pub trait ContextExt {
    fn state(&self) -> &AppState;
    fn auth(&self) -> &Auth;
    /// The signed-in viewer, or UNAUTHENTICATED.
    fn viewer(&self) -> AppResult<&Viewer>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn auth(&self) -> &Auth {
        self.data_opt::<Auth>().unwrap_or(&Auth::Anonymous)
    }

    fn viewer(&self) -> AppResult<&Viewer> {
        self.auth().viewer()
    }
}

/// Staff only; FORBIDDEN for students.
pub fn require_staff(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_staff() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
