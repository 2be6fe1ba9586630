//! 拍摄要求: the capture guide a student reads before 我已阅读 and the first take. The text is
//! content the API serves, versioned: when the requirements change, [`VERSION`] changes and every
//! student acknowledges the new version before uploading again.
use crate::codes::BackgroundColor;

/// The current version of the guide. Change it whenever a requirement below changes.
pub const VERSION: &str = "2024.1";

/// One requirement: its topic (背景, 着装, …) and what the student must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// A stable English key for clients (BACKGROUND, CLOTHING, GLASSES, HAIR, EXPRESSION, POSE,
    /// LIGHT, RETOUCHING).
    pub key: &'static str,
    pub topic: &'static str,
    pub text: String,
}

/// The backdrop the project renders on, as the guide names it.
pub fn backdrop(background: BackgroundColor) -> &'static str {
    match background {
        BackgroundColor::Blue => "浅蓝色（RGB 100,197,255）",
        BackgroundColor::White => "白色",
        BackgroundColor::LightGrey => "浅灰色（RGB 240,240,240）",
    }
}

/// The requirements for a project with `background`, in the order the student reads them.
pub fn requirements(background: BackgroundColor) -> Vec<Requirement> {
    let r = |key, topic, text: String| Requirement { key, topic, text };
    vec![
        r(
            "BACKGROUND",
            "背景",
            format!(
                "请在纯色背景前拍摄，背景颜色为{}，无阴影、无杂物；背景将按本项目要求统一处理",
                backdrop(background)
            ),
        ),
        r(
            "CLOTHING",
            "着装",
            "请穿着有领上衣，衣服颜色不要与背景同色；不戴帽子、头饰，不佩戴耳环、项链等首饰".into(),
        ),
        r(
            "GLASSES",
            "眼镜",
            "戴眼镜者须保证镜片无反光、镜框不遮挡眼睛；如有反光请摘掉眼镜拍摄".into(),
        ),
        r(
            "HAIR",
            "发型",
            "头发不得遮挡眉毛、眼睛和耳朵，露出额头和完整面部".into(),
        ),
        r(
            "EXPRESSION",
            "表情",
            "表情自然，双眼睁开，嘴巴闭合，不露齿".into(),
        ),
        r(
            "POSE",
            "姿势",
            "正对镜头，头部端正，双肩平齐；不可以俯视或者仰视，请保持平视镜头".into(),
        ),
        r(
            "LIGHT",
            "光线",
            "光线均匀充足，面部无阴影（阴阳脸）、无反光、无红眼；请勿使用闪光灯".into(),
        ),
        r(
            "RETOUCHING",
            "照片要求",
            "请本人现场拍摄，不化浓妆，不使用美颜、滤镜或修图，不得翻拍照片；请勿使用艺术照或生活照".into(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backdrop_follows_the_project() {
        let blue = requirements(BackgroundColor::Blue);
        assert!(blue[0].text.contains("浅蓝色"));
        let white = requirements(BackgroundColor::White);
        assert!(white[0].text.contains("白色"));
        let keys: Vec<_> = blue.iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "BACKGROUND",
                "CLOTHING",
                "GLASSES",
                "HAIR",
                "EXPRESSION",
                "POSE",
                "LIGHT",
                "RETOUCHING"
            ]
        );
    }

    #[test]
    fn pose_uses_the_registry_wording() {
        let pose = requirements(BackgroundColor::Blue)
            .into_iter()
            .find(|r| r.key == "POSE")
            .map(|r| r.text)
            .unwrap_or_default();
        assert!(pose.contains("不可以俯视或者仰视，请保持平视镜头"));
    }
}
