//! The one catalogue of photo issue codes and rejection reasons, shared by the automatic
//! preliminary check (初审) and human review. Codes are stable English constants; messages are
//! what the student reads.

/// One entry of the catalogue. As the guides show a rejection: the reason (`title`, e.g.
/// `图像额外内容（手、水印等）`) and what to do about it (`solution`, 解决办法) apart, and the one
/// sentence a message or a list has room for (`message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    /// 驳回原因: what is wrong, in a few words.
    pub title: &'static str,
    /// 解决办法: what the student does next.
    pub solution: &'static str,
    /// The whole sentence the student reads where there is room for one.
    pub message: &'static str,
    /// Whether a reviewer may pick it when rejecting an order.
    pub reviewer_may_use: bool,
}

const fn reason(
    code: &'static str,
    title: &'static str,
    solution: &'static str,
    message: &'static str,
) -> Reason {
    Reason {
        code,
        title,
        solution,
        message,
        reviewer_may_use: true,
    }
}

/// The solution the guides give for photos that are not ID photos.
const RETAKE_ID_PHOTO: &str = "请上传证件照，请勿使用艺术照，请重新采集提交人工审核";

/// Every code, in the order a reviewer sees them.
pub const CATALOGUE: &[Reason] = &[
    reason(
        "FMT_FILE",
        "文件无法识别",
        "请上传 JPG、PNG 或 WebP 格式、不超过 10 MB 的照片",
        "文件无法识别：请上传 JPG、PNG 或 WebP 格式、不超过 10 MB 的照片",
    ),
    reason(
        "FMT_DIMENSIONS",
        "照片分辨率过低",
        "请使用后置摄像头重新拍摄（至少 480×640 像素）",
        "照片分辨率过低，请使用后置摄像头重新拍摄（至少 480×640 像素）",
    ),
    reason(
        "ID_NO_FACE",
        "未检测到人脸",
        "请正对镜头重新拍摄",
        "未检测到人脸，请正对镜头重新拍摄",
    ),
    reason(
        "ID_MULTI_FACE",
        "照片中有多张人脸",
        "请单人拍摄",
        "照片中有多张人脸，请单人拍摄",
    ),
    reason(
        "GEO_FACE_SIZE",
        "人脸大小不合适",
        "请调整拍摄距离，使头部约占画面的一半",
        "人脸大小不合适，请调整拍摄距离，使头部约占画面的一半",
    ),
    reason(
        "GEO_NOT_CENTERED",
        "人像未居中",
        "请将头部置于画面中央",
        "人像未居中，请将头部置于画面中央",
    ),
    reason(
        "GEO_CROPPED",
        "头顶或下巴留白不足",
        "请保留完整的头部和肩部",
        "头顶或下巴留白不足，请保留完整的头部和肩部",
    ),
    reason(
        "POSE_ROLL",
        "头部倾斜",
        "请保持头部端正",
        "头部倾斜，请保持头部端正",
    ),
    reason(
        "POSE_YAW",
        "头部左右偏转",
        "请正对镜头",
        "头部左右偏转，请正对镜头",
    ),
    reason(
        "POSE_PITCH",
        "不可以俯视或者仰视",
        "请保持平视镜头",
        "不可以俯视或者仰视，请保持平视镜头",
    ),
    reason(
        "LIGHT_UNDER",
        "照片过暗",
        "请在光线充足的地方拍摄",
        "照片过暗，请在光线充足的地方拍摄",
    ),
    reason(
        "LIGHT_OVER",
        "照片过亮或曝光过度",
        "请避免强光直射",
        "照片过亮或曝光过度，请避免强光直射",
    ),
    reason(
        "LIGHT_UNEVEN",
        "面部光照不均匀（阴阳脸）",
        "请在均匀光线下拍摄",
        "面部光照不均匀（阴阳脸），请在均匀光线下拍摄",
    ),
    reason(
        "QUAL_BLUR",
        "照片模糊",
        "请对焦清晰后重新拍摄",
        "照片模糊，请对焦清晰后重新拍摄",
    ),
    reason(
        "BG_NOT_UNIFORM",
        "背景不是纯色",
        "请在浅色纯色背景前拍摄",
        "背景不是纯色，请在浅色纯色背景前拍摄",
    ),
    reason(
        "OCC_EXTRA_CONTENT",
        "图像额外内容（手、水印等）",
        RETAKE_ID_PHOTO,
        "图像额外内容（手、水印等），请拍摄不含其他内容的照片",
    ),
    reason(
        "EYES_CLOSED",
        "闭眼",
        "请睁开双眼，自然平视镜头",
        "请睁开双眼，自然平视镜头",
    ),
    reason(
        "EXPR_NOT_NEUTRAL",
        "表情不自然",
        "请保持自然表情，嘴巴闭合",
        "请保持自然表情，嘴巴闭合",
    ),
    reason(
        "OCC_GLASSES",
        "眼镜反光或遮挡眼睛",
        "请摘掉眼镜或调整角度，避免镜片反光",
        "眼镜反光或遮挡眼睛，请摘掉眼镜或调整角度",
    ),
    reason(
        "OCC_HEADWEAR",
        "佩戴帽子或头饰",
        "请勿佩戴帽子或头饰，露出完整面部和耳朵",
        "请勿佩戴帽子或头饰，露出完整面部和耳朵",
    ),
    reason(
        "ATTIRE",
        "着装不符合要求",
        "请穿着有领上衣，避免与背景同色",
        "着装不符合要求，请穿着有领上衣，避免与背景同色",
    ),
    reason(
        "ART_OR_CASUAL",
        "艺术照或生活照",
        RETAKE_ID_PHOTO,
        "艺术照或生活照不能作为学历照片，请上传证件照",
    ),
    reason(
        "HAIR_OVER_BROWS",
        "头发遮挡眉毛或耳朵",
        "请将头发整理到眉毛以上、耳后，露出眉毛和耳朵后重新拍摄",
        "头发遮挡眉毛，请整理头发露出眉毛和耳朵后重新拍摄",
    ),
    reason(
        "JEWELLERY",
        "佩戴首饰",
        "请摘下耳环、项链等首饰后重新拍摄",
        "佩戴首饰，请摘下耳环、项链等首饰后重新拍摄",
    ),
    reason(
        "MAKEUP_RETOUCHED",
        "浓妆或照片经过修饰",
        "请淡妆或素颜拍摄，不要使用美颜、滤镜或修图",
        "浓妆或经过美颜修图，请淡妆拍摄并上传未经修饰的照片",
    ),
    reason(
        "GLASSES_GLARE",
        "眼镜反光",
        "请调整眼镜角度或摘掉眼镜，确保镜片无反光、能看清双眼",
        "眼镜反光，请调整角度或摘掉眼镜后重新拍摄",
    ),
    reason(
        "RED_EYE",
        "红眼",
        "请关闭闪光灯，在自然光下重新拍摄",
        "照片有红眼，请关闭闪光灯后重新拍摄",
    ),
    reason(
        "REPHOTOGRAPHED",
        "翻拍照片",
        "请本人现场拍摄，不要翻拍打印的照片或屏幕",
        "翻拍的照片不能使用，请本人现场拍摄",
    ),
    reason(
        "OTHER",
        "照片不符合学历图像要求",
        "请按拍摄指南重新拍摄",
        "照片不符合学历图像要求，请按拍摄指南重新拍摄",
    ),
    Reason {
        code: "WITHDRAWN",
        title: "学生已撤回审核",
        solution: "修改后可重新提交",
        message: "学生已撤回审核，修改后可重新提交",
        reviewer_may_use: false,
    },
    Reason {
        code: REGISTRY_REJECTED,
        title: "学信网未通过",
        solution: "请按学信网的意见重新拍摄并提交",
        message: "学信网审核未通过，请按意见重新拍摄并提交",
        reviewer_may_use: false,
    },
];

/// The code an order gets when the national registry (学信网) refuses its photo.
pub const REGISTRY_REJECTED: &str = "REGISTRY_REJECTED";

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
            assert!(!r.message.is_empty() && !r.title.is_empty() && !r.solution.is_empty());
        }
    }

    #[test]
    fn pitch_message_is_the_registry_wording() {
        assert_eq!(message("POSE_PITCH"), "不可以俯视或者仰视，请保持平视镜头");
        assert!(message("OCC_EXTRA_CONTENT").starts_with("图像额外内容（手、水印等）"));
    }

    #[test]
    fn withdrawn_and_registry_are_not_offered_to_reviewers() {
        for code in ["WITHDRAWN", REGISTRY_REJECTED] {
            assert!(find(code).is_some());
            assert!(for_reviewers().all(|r| r.code != code));
        }
    }

    #[test]
    fn the_guides_reason_and_solution_apart() {
        let r = find("OCC_EXTRA_CONTENT").unwrap_or_else(|| panic!("missing"));
        assert_eq!(r.title, "图像额外内容（手、水印等）");
        assert_eq!(
            r.solution,
            "请上传证件照，请勿使用艺术照，请重新采集提交人工审核"
        );
        for code in [
            "ART_OR_CASUAL",
            "HAIR_OVER_BROWS",
            "JEWELLERY",
            "MAKEUP_RETOUCHED",
            "GLASSES_GLARE",
            "RED_EYE",
            "REPHOTOGRAPHED",
        ] {
            assert!(for_reviewers().any(|r| r.code == code), "{code}");
        }
    }

    #[test]
    fn unknown_code_gets_generic_message() {
        assert_eq!(find("NOPE"), None);
        assert!(message("NOPE").contains("拍摄指南"));
    }
}
