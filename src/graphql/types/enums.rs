//! GraphQL enums, mirrored from the domain types.
use async_graphql::Enum;
use campus_photo_domain::codes;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum RoleGql {
    Student,
    Reviewer,
    Producer,
    SchoolAdmin,
    Admin,
}

impl From<codes::Role> for RoleGql {
    fn from(r: codes::Role) -> Self {
        match r {
            codes::Role::Student => Self::Student,
            codes::Role::Reviewer => Self::Reviewer,
            codes::Role::Producer => Self::Producer,
            codes::Role::SchoolAdmin => Self::SchoolAdmin,
            codes::Role::Admin => Self::Admin,
        }
    }
}

impl From<RoleGql> for codes::Role {
    fn from(r: RoleGql) -> Self {
        match r {
            RoleGql::Student => Self::Student,
            RoleGql::Reviewer => Self::Reviewer,
            RoleGql::Producer => Self::Producer,
            RoleGql::SchoolAdmin => Self::SchoolAdmin,
            RoleGql::Admin => Self::Admin,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ProjectMode")]
pub enum ProjectModeGql {
    /// 集采: the school organises a photo session.
    Central,
    /// 散拍: students take their own photo.
    Individual,
    /// 新生: freshmen without a collection code.
    Freshman,
}

impl From<codes::ProjectMode> for ProjectModeGql {
    fn from(m: codes::ProjectMode) -> Self {
        match m {
            codes::ProjectMode::Central => Self::Central,
            codes::ProjectMode::Individual => Self::Individual,
            codes::ProjectMode::Freshman => Self::Freshman,
        }
    }
}

impl From<ProjectModeGql> for codes::ProjectMode {
    fn from(m: ProjectModeGql) -> Self {
        match m {
            ProjectModeGql::Central => Self::Central,
            ProjectModeGql::Individual => Self::Individual,
            ProjectModeGql::Freshman => Self::Freshman,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BackgroundColor")]
pub enum BackgroundColorGql {
    /// RGB(100,197,255)
    Blue,
    White,
    /// RGB(240,240,240)
    LightGrey,
}

impl From<codes::BackgroundColor> for BackgroundColorGql {
    fn from(b: codes::BackgroundColor) -> Self {
        match b {
            codes::BackgroundColor::Blue => Self::Blue,
            codes::BackgroundColor::White => Self::White,
            codes::BackgroundColor::LightGrey => Self::LightGrey,
        }
    }
}

impl From<BackgroundColorGql> for codes::BackgroundColor {
    fn from(b: BackgroundColorGql) -> Self {
        match b {
            BackgroundColorGql::Blue => Self::Blue,
            BackgroundColorGql::White => Self::White,
            BackgroundColorGql::LightGrey => Self::LightGrey,
        }
    }
}
