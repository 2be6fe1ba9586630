//! Outside systems, each behind a trait with the real client and a local sandbox that speaks the
//! same protocol.
pub mod http_client;
pub mod wechat_api;
pub mod wechat_login;
pub mod wechat_messages;
pub mod wechat_pay;
pub mod wechat_shipping;
