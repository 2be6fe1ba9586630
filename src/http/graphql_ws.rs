//! GET /graphql/ws: graphql-transport-ws (and the legacy graphql-ws). The token travels in
//! `connection_init` as `{"authorization": "Bearer <token>"}` or `{"token": "<token>"}`.
use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    response::Response,
};

use super::HttpState;
use crate::{
    error::AppError,
    graphql::loaders::new_loader,
    services::sessions::{self, Auth},
};

fn token_from_payload(payload: &serde_json::Value) -> Option<String> {
    let from_header = |v: &serde_json::Value| {
        v.as_str().and_then(|s| {
            let (scheme, token) = s.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
    };
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(from_header)
        .or_else(|| {
            payload
                .get("token")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
}

pub async fn upgrade(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    ws: WebSocketUpgrade,
) -> Response {
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let app = state.app.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = token_from_payload(&payload);
                    let auth = sessions::authenticate(&app, token.as_deref()).await?;
                    if !matches!(auth, Auth::SignedIn(_)) {
                        return Err(AppError::Unauthenticated("请先登录").into());
                    }
                    let mut data = Data::default();
                    data.insert(auth);
                    data.insert(new_loader(app));
                    Ok(data)
                })
                .serve()
                .await;
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_from_either_form() {
        assert_eq!(
            token_from_payload(&serde_json::json!({"authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_payload(&serde_json::json!({"token": "xyz"})).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            token_from_payload(&serde_json::json!({"authorization": "Basic abc"})),
            None
        );
        assert_eq!(token_from_payload(&serde_json::json!({})), None);
    }
}
