use async_graphql::SimpleObject;

use crate::config::ServiceInfoConfig;

/// The service agreement, the privacy notice and how to reach customer service (在线客服).
#[derive(SimpleObject)]
pub struct ServiceInfo {
    pub agreement_title: String,
    /// The version a student must accept to sign in.
    pub agreement_version: String,
    /// Where the agreement is published, when it is; else read `agreementText`.
    pub agreement_url: Option<String>,
    /// The agreement itself.
    pub agreement_text: String,
    /// The privacy notice (个人信息保护), accepted apart from the agreement
    /// (`acceptPrivacyNotice`).
    pub privacy_notice: PrivacyNotice,
    pub customer_service_phone: String,
    pub customer_service_email: String,
    pub customer_service_hours: String,
}

impl From<&ServiceInfoConfig> for ServiceInfo {
    fn from(c: &ServiceInfoConfig) -> Self {
        Self {
            agreement_title: c.agreement_title.clone(),
            agreement_version: c.agreement_version.clone(),
            agreement_url: c.agreement_url.clone(),
            agreement_text: c.agreement_text.clone(),
            privacy_notice: PrivacyNotice {
                title: c.privacy_title.clone(),
                version: c.privacy_version.clone(),
                url: c.privacy_url.clone(),
                text: c.privacy_text.clone(),
            },
            customer_service_phone: c.customer_service_phone.clone(),
            customer_service_email: c.customer_service_email.clone(),
            customer_service_hours: c.customer_service_hours.clone(),
        }
    }
}

/// 个人信息保护: what the service collects and why; a student accepts its current version.
#[derive(SimpleObject)]
pub struct PrivacyNotice {
    pub title: String,
    pub version: String,
    pub url: Option<String>,
    pub text: String,
}

/// A rejection reason of the shared catalogue: the reason and its solution (解决办法) apart, as
/// the guides show them, and the one sentence for messages.
#[derive(SimpleObject)]
pub struct RejectionReason {
    pub code: String,
    /// 驳回原因, e.g. 图像额外内容（手、水印等）.
    pub title: String,
    /// 解决办法, e.g. 请上传证件照，请勿使用艺术照，请重新采集提交人工审核.
    pub solution: String,
    pub message: String,
}

/// 拍摄要求: what a student reads before 我已阅读 and the first take. Versioned: `uploadPhoto` is
/// refused with `CAPTURE_GUIDE_NOT_READ` until the student acknowledged the current `version`.
#[derive(SimpleObject)]
pub struct CaptureGuide {
    pub version: String,
    /// The project's backdrop colour as the guide names it (e.g. 浅蓝色（RGB 100,197,255）).
    pub backdrop: String,
    pub requirements: Vec<CaptureRequirement>,
}

/// One requirement of the capture guide.
#[derive(SimpleObject)]
pub struct CaptureRequirement {
    /// BACKGROUND, CLOTHING, GLASSES, HAIR, EXPRESSION, POSE, LIGHT or RETOUCHING.
    pub key: String,
    /// 背景, 着装, 眼镜, 发型, 表情, 姿势, 光线, 照片要求.
    pub topic: String,
    pub text: String,
}

impl CaptureGuide {
    pub fn for_background(background: campus_photo_domain::codes::BackgroundColor) -> Self {
        use campus_photo_domain::capture_guide;
        Self {
            version: capture_guide::VERSION.into(),
            backdrop: capture_guide::backdrop(background).into(),
            requirements: capture_guide::requirements(background)
                .into_iter()
                .map(|r| CaptureRequirement {
                    key: r.key.into(),
                    topic: r.topic.into(),
                    text: r.text,
                })
                .collect(),
        }
    }
}
