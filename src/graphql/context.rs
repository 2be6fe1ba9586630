//! Reading the service state and the viewer out of a resolver's context.
use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::{
    AppState,
    error::{AppError, AppResult},
    ids::NodeType,
    services::client_ip::ClientIp,
    services::limits::{Action, Subject},
    services::sessions::{Auth, Viewer},
};

pub trait ContextExt {
    fn state(&self) -> &AppState;
    fn auth(&self) -> &Auth;
    /// The signed-in viewer, or UNAUTHENTICATED; FORBIDDEN while the account must first choose
    /// a new password (an operator reset it), so no field acts for it meanwhile.
    fn viewer(&self) -> AppResult<&Viewer>;
    /// The signed-in viewer even before it chose its new password: for signing out and for
    /// `changePassword` only.
    fn signed_in(&self) -> AppResult<&Viewer>;
    /// Counts `action` against the caller: the signed-in account, else the peer address.
    /// THROTTLED once over the limit.
    fn rate_limit(&self, action: Action) -> impl Future<Output = AppResult<()>> + Send;
    /// Where the request came from (unknown without connection info).
    fn client_ip(&self) -> ClientIp;
    /// The row a global id names, if it is an id of `node_type`. Another type's id, a forged
    /// one or junk is NOT_FOUND with the type's message, like an id of someone else's row, so
    /// ids reveal nothing.
    fn decode_id(&self, node_type: NodeType, id: &ID) -> AppResult<Uuid>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn auth(&self) -> &Auth {
        self.data_opt::<Auth>().unwrap_or(&Auth::Anonymous)
    }

    fn viewer(&self) -> AppResult<&Viewer> {
        let viewer = self.auth().viewer()?;
        if viewer.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(viewer)
    }

    fn signed_in(&self) -> AppResult<&Viewer> {
        self.auth().viewer()
    }

    fn client_ip(&self) -> ClientIp {
        self.data_opt::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(None))
    }

    fn decode_id(&self, node_type: NodeType, id: &ID) -> AppResult<Uuid> {
        self.state()
            .ids
            .decode_as(node_type, id)
            .ok_or(AppError::NotFound(node_type.not_found_message()))
    }

    fn rate_limit(&self, action: Action) -> impl Future<Output = AppResult<()>> + Send {
        let subject = match (action, self.signed_in()) {
            (Action::SignIn, _) | (_, Err(_)) => self.client_ip().subject(),
            (_, Ok(viewer)) => Subject::Account(viewer.account_id),
        };
        let limiter = self.state().limiter.clone();
        async move { limiter.check(action, subject).await }
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
