//! The integration suite: one test binary (one link, one copy of the stack on disk) whose
//! modules drive the real HTTP and WebSocket endpoints, one module per capability.
mod common;

mod account;
mod admin_catalogue;
mod authz_matrix;
mod browser;
mod cli;
mod dashboards;
mod database_outage;
mod decode_collection_code;
mod enrollment;
mod http_basics;
mod observability;
mod order_updates;
mod orders;
mod payments;
mod playground;
mod prints;
mod privacy;
mod production;
mod rate_limits;
mod redis_outage;
mod refunds;
mod registry_export;
mod review;
mod schema_contract;
mod sign_in;
mod support;
mod upload_photo;
mod wechat_login_client;
mod wechat_messages;
mod wechat_pay_client;
mod ws_transport;
