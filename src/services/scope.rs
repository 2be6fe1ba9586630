//! Who sees what: the one place that decides which schools a viewer's role covers. Resolvers,
//! services and subscriptions ask it; nothing else decides scope.
use campus_photo_domain::codes::Role;
use uuid::Uuid;

use super::{catalogue, sessions::Viewer};
use crate::{
    AppState,
    error::{AppError, AppResult},
    events::hub::Route,
};

/// The schools a viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Admins, and staff not bound to a school.
    AllSchools,
    /// Staff bound to one school see only that school.
    School(Uuid),
    /// Students: no school's records, only their own (decided by ownership, not by scope).
    OwnRecordsOnly,
}

impl Scope {
    pub fn of(viewer: &Viewer) -> Self {
        match (viewer.role, viewer.school_id) {
            (Role::Admin, _) => Self::AllSchools,
            (Role::Student, _) => Self::OwnRecordsOnly,
            (_, None) => Self::AllSchools,
            (_, Some(school)) => Self::School(school),
        }
    }

    pub fn covers(self, school_id: Uuid) -> bool {
        match self {
            Self::AllSchools => true,
            Self::School(own) => own == school_id,
            Self::OwnRecordsOnly => false,
        }
    }

    /// FORBIDDEN unless the school is covered.
    pub fn require(self, school_id: Uuid) -> AppResult<()> {
        if self.covers(school_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The one school a list must be restricted to, if any.
    pub fn only_school(self) -> Option<Uuid> {
        match self {
            Self::School(own) => Some(own),
            Self::AllSchools | Self::OwnRecordsOnly => None,
        }
    }
}

/// What a staff role may do beyond reading its schools' records. Every role check of the services
/// asks this, so who may review, produce, ship or export is written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// 审核: claim and decide orders awaiting review.
    Review,
    /// 制作: start production batches.
    Produce,
    /// 发货: see and ship print orders.
    Ship,
    /// 上报: export a school's photos for the registry.
    ExportToRegistry,
    /// 运营: change projects and staff accounts, override orders and enrollments, remind
    /// students, read a school's progress — in the viewer's schools.
    Administer,
}

impl Duty {
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Self::Review => matches!(role, Role::Reviewer | Role::SchoolAdmin | Role::Admin),
            Self::Produce | Self::Ship | Self::ExportToRegistry => {
                matches!(role, Role::Producer | Role::SchoolAdmin | Role::Admin)
            }
            Self::Administer => matches!(role, Role::SchoolAdmin | Role::Admin),
        }
    }
}

/// Whether the viewer's role carries `duty`.
pub fn may(viewer: &Viewer, duty: Duty) -> bool {
    duty.allowed(viewer.role)
}

/// FORBIDDEN unless the viewer's role carries `duty`.
pub fn require(viewer: &Viewer, duty: Duty) -> AppResult<()> {
    if may(viewer, duty) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether staff see a record that may belong to no school (a batch or ticket across schools):
/// a school's record within their scope, a school-less one only when they cover every school.
pub fn staff_see(viewer: &Viewer, school_id: Option<Uuid>) -> bool {
    let scope = Scope::of(viewer);
    viewer.is_staff()
        && match school_id {
            Some(school) => scope.covers(school),
            None => scope == Scope::AllSchools,
        }
}

/// Which order events a viewer's `orderUpdates` listens for: a student's own, a school's, or all.
pub fn event_route(viewer: &Viewer) -> Route {
    match Scope::of(viewer) {
        Scope::OwnRecordsOnly => Route::Account(viewer.account_id),
        Scope::School(school) => Route::School(school),
        Scope::AllSchools => Route::All,
    }
}

/// Staff bound to a school see only that school.
pub fn in_school_scope(viewer: &Viewer, school_id: Uuid) -> AppResult<()> {
    Scope::of(viewer).require(school_id)
}

/// The school a staff list is restricted to: the one asked for by code (NOT_FOUND when unknown,
/// FORBIDDEN when out of scope), else the viewer's own; `None` means every school.
pub async fn school_filter(
    state: &AppState,
    viewer: &Viewer,
    school_code: Option<&str>,
) -> AppResult<Option<Uuid>> {
    let scope = Scope::of(viewer);
    match school_code {
        Some(code) => {
            let school = catalogue::school_by_code(state, code)
                .await?
                .ok_or(AppError::NotFound("找不到该学校"))?;
            scope.require(school.id)?;
            Ok(Some(school.id))
        }
        None => Ok(scope.only_school()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, school_id: Option<Uuid>) -> Viewer {
        Viewer {
            account_id: Uuid::from_u128(1),
            session_id: Uuid::from_u128(2),
            role,
            school_id,
            expires_at: chrono::DateTime::UNIX_EPOCH,
            must_change_password: false,
        }
    }

    #[test]
    fn each_role_sees_what_its_binding_allows() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let admin = Scope::of(&viewer(Role::Admin, Some(a)));
        assert!(admin.covers(a) && admin.covers(b) && admin.only_school().is_none());
        let bound = Scope::of(&viewer(Role::Reviewer, Some(a)));
        assert!(bound.covers(a) && !bound.covers(b));
        assert_eq!(bound.only_school(), Some(a));
        assert!(matches!(bound.require(b), Err(AppError::Forbidden)));
        let unbound = Scope::of(&viewer(Role::Producer, None));
        assert!(unbound.covers(a) && unbound.covers(b));
        let student = Scope::of(&viewer(Role::Student, Some(a)));
        assert!(!student.covers(a));
    }

    #[test]
    fn each_viewer_listens_on_the_route_its_scope_needs() {
        let school = Uuid::from_u128(9);
        assert_eq!(
            event_route(&viewer(Role::Student, Some(school))),
            Route::Account(Uuid::from_u128(1))
        );
        assert_eq!(
            event_route(&viewer(Role::Reviewer, Some(school))),
            Route::School(school)
        );
        assert_eq!(event_route(&viewer(Role::Admin, Some(school))), Route::All);
        assert_eq!(event_route(&viewer(Role::Reviewer, None)), Route::All);
    }

    #[test]
    fn duties_follow_the_role() {
        use Duty::*;
        let table = [
            (Role::Student, [false, false, false, false]),
            (Role::Reviewer, [true, false, false, false]),
            (Role::Producer, [false, true, true, true]),
            (Role::SchoolAdmin, [true, true, true, true]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, allowed) in table {
            let v = viewer(role, None);
            assert_eq!(
                may(&v, Administer),
                matches!(role, Role::SchoolAdmin | Role::Admin),
                "{role}"
            );
            let got = [Review, Produce, Ship, ExportToRegistry].map(|d| may(&v, d));
            assert_eq!(got, allowed, "{role}");
            assert_eq!(require(&v, Review).is_ok(), allowed[0], "{role}");
        }
    }

    #[test]
    fn records_of_no_school_are_for_staff_covering_every_school() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let bound = viewer(Role::SchoolAdmin, Some(a));
        assert!(staff_see(&bound, Some(a)) && !staff_see(&bound, Some(b)));
        assert!(!staff_see(&bound, None));
        assert!(staff_see(&viewer(Role::Producer, None), None));
        assert!(staff_see(&viewer(Role::Admin, Some(a)), None));
        assert!(!staff_see(&viewer(Role::Student, None), None));
    }
}
