use async_graphql::SimpleObject;

use crate::config::ServiceInfoConfig;

/// The service agreement and how to reach customer service (在线客服).
#[derive(SimpleObject)]
pub struct ServiceInfo {
    pub agreement_title: String,
    /// The version a student must accept to sign in.
    pub agreement_version: String,
    pub customer_service_phone: String,
    pub customer_service_email: String,
    pub customer_service_hours: String,
}

impl From<&ServiceInfoConfig> for ServiceInfo {
    fn from(c: &ServiceInfoConfig) -> Self {
        Self {
            agreement_title: c.agreement_title.clone(),
            agreement_version: c.agreement_version.clone(),
            customer_service_phone: c.customer_service_phone.clone(),
            customer_service_email: c.customer_service_email.clone(),
            customer_service_hours: c.customer_service_hours.clone(),
        }
    }
}

/// A rejection reason of the shared catalogue.
#[derive(SimpleObject)]
pub struct RejectionReason {
    pub code: String,
    pub message: String,
}
