//! Input formats and small closed vocabularies: feature codes, school codes, project modes,
//! roles and background colours.

/// A code typed or sent by a client has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("特征码应为 4–6 位字母或数字")]
    FeatureCode,
    #[error("院校代码应为 5 位数字")]
    SchoolCode,
}

/// A project's feature code (特征码) as stored and compared: surrounding whitespace removed,
/// 4–6 ASCII letters or digits, upper-cased so that matching is case-insensitive.
pub fn normalise_feature_code(input: &str) -> Result<String, CodeError> {
    let code = input.trim();
    if (4..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(CodeError::FeatureCode)
    }
}

/// A school code (院校代码): exactly 5 ASCII digits, nothing trimmed (it comes from the signed
/// collection code or an admin form, never free text).
pub fn validate_school_code(code: &str) -> Result<(), CodeError> {
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(CodeError::SchoolCode)
    }
}

string_enum! {
    /// How a project collects photos; it also names the order kind.
    pub enum ProjectMode: "project mode" {
        Central => "CENTRAL",
        Individual => "INDIVIDUAL",
        Freshman => "FRESHMAN",
    }
}

impl ProjectMode {
    /// 集采 / 散拍 / 新生, the order kind shown to students.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Central => "集采",
            Self::Individual => "散拍",
            Self::Freshman => "新生",
        }
    }
}

string_enum! {
    /// An account's role.
    pub enum Role: "role" {
        Student => "STUDENT",
        Reviewer => "REVIEWER",
        Producer => "PRODUCER",
        /// Scoped to one school.
        SchoolAdmin => "SCHOOL_ADMIN",
        Admin => "ADMIN",
    }
}

impl Role {
    /// Staff sign in with a username and password and use the dashboard; students use WeChat.
    pub const fn is_staff(self) -> bool {
        !matches!(self, Self::Student)
    }

    /// The Chinese name of the role for the dashboard.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Student => "学生",
            Self::Reviewer => "审核员",
            Self::Producer => "制作员",
            Self::SchoolAdmin => "学校管理员",
            Self::Admin => "管理员",
        }
    }
}

string_enum! {
    /// Background colour of the rendered standard photo.
    pub enum BackgroundColor: "background colour" {
        Blue => "BLUE",
        White => "WHITE",
        LightGrey => "LIGHT_GREY",
    }
}

impl BackgroundColor {
    /// The sRGB value the renderer fills with.
    pub const fn rgb(self) -> (u8, u8, u8) {
        match self {
            Self::Blue => (100, 197, 255),
            Self::White => (255, 255, 255),
            Self::LightGrey => (240, 240, 240),
        }
    }

    /// 蓝色 / 白色 / 浅灰色.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Blue => "蓝色",
            Self::White => "白色",
            Self::LightGrey => "浅灰色",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_codes() {
        assert_eq!(normalise_feature_code("ab12").as_deref(), Ok("AB12"));
        assert_eq!(
            normalise_feature_code("  x9Y8z7\t").as_deref(),
            Ok("X9Y8Z7")
        );
        assert_eq!(normalise_feature_code("00015").as_deref(), Ok("00015"));
        for bad in [
            "",
            "abc",
            "abcdefg",
            "ab 12",
            "ab-12",
            "ab_1",
            "特征码四",
            "ＡＢ12",
            "ab1\u{0}",
        ] {
            assert_eq!(
                normalise_feature_code(bad),
                Err(CodeError::FeatureCode),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn school_codes() {
        assert_eq!(validate_school_code("10001"), Ok(()));
        assert_eq!(validate_school_code("00000"), Ok(()));
        for bad in ["", "1000", "100011", " 10001", "1000a", "１0001"] {
            assert_eq!(
                validate_school_code(bad),
                Err(CodeError::SchoolCode),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn modes() {
        crate::macros::assert_round_trip(ProjectMode::ALL, ProjectMode::as_str);
        let labels: Vec<_> = ProjectMode::ALL.iter().map(|m| m.label()).collect();
        assert_eq!(labels, ["集采", "散拍", "新生"]);
    }

    #[test]
    fn roles() {
        crate::macros::assert_round_trip(Role::ALL, Role::as_str);
        assert_eq!("SCHOOL_ADMIN".parse(), Ok(Role::SchoolAdmin));
        let staff: Vec<_> = Role::ALL.iter().filter(|r| r.is_staff()).collect();
        assert_eq!(staff.len(), 4);
        assert!(!Role::Student.is_staff());
        assert_eq!(Role::SchoolAdmin.label(), "学校管理员");
    }

    #[test]
    fn colours() {
        crate::macros::assert_round_trip(BackgroundColor::ALL, BackgroundColor::as_str);
        assert_eq!(BackgroundColor::Blue.rgb(), (100, 197, 255));
        assert_eq!(BackgroundColor::White.rgb(), (255, 255, 255));
        assert_eq!(BackgroundColor::LightGrey.rgb(), (240, 240, 240));
        assert_eq!(BackgroundColor::LightGrey.as_str(), "LIGHT_GREY");
        assert_eq!(BackgroundColor::Blue.label(), "蓝色");
    }
}
