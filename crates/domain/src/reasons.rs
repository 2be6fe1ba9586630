//! The one catalogue of photo issue codes and rejection reasons, shared by the automatic
//! preliminary check (初审) and human review. Codes are stable English constants; messages are
//! what the student reads.

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub message: &'static str,
    /// Whether a reviewer may pick it when rejecting an order.
    pub reviewer_may_use: bool,
}

const fn reason(code: &'static str, message: &'static str) -> Reason {
    Reason {
        code,
        message,
        reviewer_may_use: true,
    }
}

/// Every code, in the order a reviewer sees them.
pub const CATALOGUE: &[Reason] = &[
    reason(
        "FMT_FILE",
        "文件无法识别：请上传 JPG、PNG 或 WebP 格式、不超过 10 MB 的照片",
    ),
    reason(
        "FMT_DIMENSIONS",
        "照片分辨率过低，请使用后置摄像头重新拍摄（至少 480×640 像素）",
    ),
    reason("ID_NO_FACE", "未检测到人脸，请正对镜头重新拍摄"),
    reason("ID_MULTI_FACE", "照片中有多张人脸，请单人拍摄"),
    reason(
        "GEO_FACE_SIZE",
        "人脸大小不合适，请调整拍摄距离，使头部约占画面的一半",
    ),
    reason("GEO_NOT_CENTERED", "人像未居中，请将头部置于画面中央"),
    reason("GEO_CROPPED", "头顶或下巴留白不足，请保留完整的头部和肩部"),
    reason("POSE_ROLL", "头部倾斜，请保持头部端正"),
    reason("POSE_YAW", "头部左右偏转，请正对镜头"),
    reason("POSE_PITCH", "不可以俯视或者仰视，请保持平视镜头"),
    reason("LIGHT_UNDER", "照片过暗，请在光线充足的地方拍摄"),
    reason("LIGHT_OVER", "照片过亮或曝光过度，请避免强光直射"),
    reason(
        "LIGHT_UNEVEN",
        "面部光照不均匀（阴阳脸），请在均匀光线下拍摄",
    ),
    reason("QUAL_BLUR", "照片模糊，请对焦清晰后重新拍摄"),
    reason("BG_NOT_UNIFORM", "背景不是纯色，请在浅色纯色背景前拍摄"),
    reason(
        "OCC_EXTRA_CONTENT",
        "图像额外内容（手、水印等），请拍摄不含其他内容的照片",
    ),
    reason("EYES_CLOSED", "请睁开双眼，自然平视镜头"),
    reason("EXPR_NOT_NEUTRAL", "请保持自然表情，嘴巴闭合"),
    reason("OCC_GLASSES", "眼镜反光或遮挡眼睛，请摘掉眼镜或调整角度"),
    reason("OCC_HEADWEAR", "请勿佩戴帽子或头饰，露出完整面部和耳朵"),
    reason("ATTIRE", "着装不符合要求，请穿着有领上衣，避免与背景同色"),
    reason("OTHER", "照片不符合学历图像要求，请按拍摄指南重新拍摄"),
    Reason {
        code: "WITHDRAWN",
        message: "学生已撤回审核，修改后可重新提交",
        reviewer_may_use: false,
    },
];

/// The entry for `code`, if the catalogue has it.
pub fn find(code: &str) -> Option<&'static Reason> {
    CATALOGUE.iter().find(|r| r.code == code)
}

/// The Chinese message for `code`; unknown codes get the generic message.
pub fn message(code: &str) -> &'static str {
    find(code).map_or(
        "照片不符合学历图像要求，请按拍摄指南重新拍摄",
        |r| r.message,
    )
}

/// What kind of fault an issue of the preliminary check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// A fact about the file no person can overrule: unreadable, too few pixels, no face or
    /// more than one. A photo failed for one of these cannot be submitted.
    Hard,
    /// A measured judgement (pose, light, sharpness, background, framing, expression,
    /// overlays) that an automatic check can get wrong. A photo failed only for these may be
    /// submitted for a reviewer to decide (提交人工审核).
    Soft,
}

/// The kind of `code`; codes outside the catalogue's objective faults are judgements.
pub fn issue_kind(code: &str) -> IssueKind {
    match code {
        "FMT_FILE" | "FMT_DIMENSIONS" | "ID_NO_FACE" | "ID_MULTI_FACE" => IssueKind::Hard,
        _ => IssueKind::Soft,
    }
}

/// Shown to reviewers on an order whose photo failed the automatic check and was submitted
/// for a person to decide.
pub const MANUAL_REVIEW_NOTE: &str = "自动初审未通过，申请人工审核";

/// The reasons a reviewer may choose from when rejecting.
pub fn for_reviewers() -> impl Iterator<Item = &'static Reason> {
    CATALOGUE.iter().filter(|r| r.reviewer_may_use)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_faults_are_hard_and_judgements_soft() {
        for code in ["FMT_FILE", "FMT_DIMENSIONS", "ID_NO_FACE", "ID_MULTI_FACE"] {
            assert_eq!(issue_kind(code), IssueKind::Hard, "{code}");
        }
        for code in [
            "POSE_PITCH",
            "LIGHT_UNDER",
            "QUAL_BLUR",
            "BG_NOT_UNIFORM",
            "EYES_CLOSED",
        ] {
            assert_eq!(issue_kind(code), IssueKind::Soft, "{code}");
        }
    }

    #[test]
    fn codes_are_unique_and_upper_snake() {
        let mut seen = std::collections::HashSet::new();
        for r in CATALOGUE {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(
                r.code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{}",
                r.code
            );
            assert!(!r.message.is_empty());
        }
    }

    #[test]
    fn pitch_message_is_the_registry_wording() {
        assert_eq!(message("POSE_PITCH"), "不可以俯视或者仰视，请保持平视镜头");
        assert!(message("OCC_EXTRA_CONTENT").starts_with("图像额外内容（手、水印等）"));
    }

    #[test]
    fn withdrawn_is_not_offered_to_reviewers() {
        assert!(find("WITHDRAWN").is_some());
        assert!(for_reviewers().all(|r| r.code != "WITHDRAWN"));
    }

    #[test]
    fn unknown_code_gets_generic_message() {
        assert_eq!(find("NOPE"), None);
        assert!(message("NOPE").contains("拍摄指南"));
    }
}
