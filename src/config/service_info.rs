//! What `serviceInfo` shows: the agreement and the customer-service contacts.
/// What `serviceInfo` returns: the agreement and the customer-service contacts.
#[derive(Clone, Debug)]
pub struct ServiceInfoConfig {
    pub agreement_title: String,
    pub agreement_version: String,
    pub customer_service_phone: String,
    pub customer_service_email: String,
    pub customer_service_hours: String,
}

impl Default for ServiceInfoConfig {
    fn default() -> Self {
        Self {
            agreement_title: "《大学生图像信息采集网服务使用协议》".into(),
            agreement_version: "2024.1".into(),
            customer_service_phone: "010-63072281".into(),
            customer_service_email: "service@campus-photo.example".into(),
            customer_service_hours: "周一至周五 8:00-17:00".into(),
        }
    }
}

pub(super) fn read<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> ServiceInfoConfig {
    let defaults = ServiceInfoConfig::default();
    let text = |k: &str, d: String| get(k).map(str::to_string).unwrap_or(d);
    ServiceInfoConfig {
        agreement_title: text("AGREEMENT_TITLE", defaults.agreement_title),
        agreement_version: text("AGREEMENT_VERSION", defaults.agreement_version),
        customer_service_phone: text("CUSTOMER_SERVICE_PHONE", defaults.customer_service_phone),
        customer_service_email: text("CUSTOMER_SERVICE_EMAIL", defaults.customer_service_email),
        customer_service_hours: text("CUSTOMER_SERVICE_HOURS", defaults.customer_service_hours),
    }
}
