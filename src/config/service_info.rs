//! What `serviceInfo` shows: the agreement and the customer-service contacts.
/// The agreement served when no `AGREEMENT_URL` is configured.
const AGREEMENT_TEXT: &str = "本服务为高校学生提供学历图像信息采集：登记图像采集码、拍摄或上传照片、在线支付、审核、制作标准照片，并按学校安排报至学信网。请如实登记本人信息并上传本人近期免冠证件照；照片一经审核通过并制作完成，将用于学历图像信息采集。订单在审核前可申请退款，制作完成后不予退款。";

/// The privacy notice (个人信息保护) served when no `PRIVACY_URL` is configured.
const PRIVACY_TEXT: &str = "为完成学历图像信息采集，我们会收集并使用你的手机号、图像采集码中的学籍信息（姓名、身份证号后 4 位、院校、学号等）和你上传的照片，仅用于身份核验、审核、制作标准照片和报至学信网。身份证号等敏感信息加密保存，工作人员只能看到打码后的信息；你可以随时注销账号，我们将删除你的手机号、微信身份和照片，订单仅为财务核对保留。";

/// What `serviceInfo` returns: the agreement and the customer-service contacts.
#[derive(Clone, Debug)]
pub struct ServiceInfoConfig {
    pub agreement_title: String,
    pub agreement_version: String,
    /// Where the agreement is published; when unset, `agreement_text` is served instead.
    pub agreement_url: Option<String>,
    pub agreement_text: String,
    pub privacy_title: String,
    pub privacy_version: String,
    pub privacy_url: Option<String>,
    pub privacy_text: String,
    pub customer_service_phone: String,
    pub customer_service_email: String,
    pub customer_service_hours: String,
}

impl Default for ServiceInfoConfig {
    fn default() -> Self {
        Self {
            agreement_title: "《大学生图像信息采集网服务使用协议》".into(),
            agreement_version: "2024.1".into(),
            agreement_url: None,
            agreement_text: AGREEMENT_TEXT.into(),
            privacy_title: "《个人信息保护政策》".into(),
            privacy_version: "2024.1".into(),
            privacy_url: None,
            privacy_text: PRIVACY_TEXT.into(),
            customer_service_phone: "010-63072281".into(),
            customer_service_email: "xhszgtps@163.com".into(),
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
        agreement_url: get("AGREEMENT_URL").map(str::to_string),
        agreement_text: text("AGREEMENT_TEXT", defaults.agreement_text),
        privacy_title: text("PRIVACY_TITLE", defaults.privacy_title),
        privacy_version: text("PRIVACY_VERSION", defaults.privacy_version),
        privacy_url: get("PRIVACY_URL").map(str::to_string),
        privacy_text: text("PRIVACY_TEXT", defaults.privacy_text),
        customer_service_phone: text("CUSTOMER_SERVICE_PHONE", defaults.customer_service_phone),
        customer_service_email: text("CUSTOMER_SERVICE_EMAIL", defaults.customer_service_email),
        customer_service_hours: text("CUSTOMER_SERVICE_HOURS", defaults.customer_service_hours),
    }
}
