//! GraphQL enums, mirrored from the domain types (`remote`: the conversions both ways are
//! generated, so a variant added to the domain fails to compile here until it is added).
use async_graphql::Enum;
use campus_photo_domain::codes;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "codes::Role")]
pub enum RoleGql {
    Student,
    Reviewer,
    Producer,
    SchoolAdmin,
    Admin,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ProjectMode", remote = "codes::ProjectMode")]
pub enum ProjectModeGql {
    /// 集采: the school organises a photo session.
    Central,
    /// 散拍: students take their own photo.
    Individual,
    /// 新生: freshmen without a collection code.
    Freshman,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BackgroundColor", remote = "codes::BackgroundColor")]
pub enum BackgroundColorGql {
    /// RGB(100,197,255)
    Blue,
    White,
    /// RGB(240,240,240)
    LightGrey,
}
