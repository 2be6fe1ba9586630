//! 查找学生: staff find a student's enrollments (and through them the orders) by what a caller on
//! the hotline can tell them — an order number, a phone number or its last 4 digits, an ID
//! number or its last 4, the exact name, a student or admission number — within their scope.
//!
//! Full phone numbers, names and ID numbers are never stored in the clear: they are found
//! through HMAC blind indexes under the service key (`FieldCrypto::blind_index`), each value
//! prefixed with what it is so a phone number never matches a name. The last 4 digits are read
//! from the masks, which keep them. Rows written before the indexes existed are indexed at start
//! ([`backfill_indexes`]).
use campus_photo_domain::{
    codes::Role, field_crypto::normalise_for_index, id_number, names, order_number, phone,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::Query,
};

use super::{
    paging::{Page, PageArgs, page_by_id},
    scope,
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{account, enrollment, order},
    error::{AppError, AppResult},
    ids::NodeType,
};

/// The blind index of a mainland mobile number (11 digits).
pub fn phone_index(state: &AppState, phone: &str) -> String {
    state.crypto.blind_index(&format!("PHONE:{}", phone.trim()))
}

/// The blind index of a person's name, in its [`names::index_form`].
pub fn name_index(state: &AppState, name: &str) -> String {
    state
        .crypto
        .blind_index(&format!("NAME:{}", names::index_form(name)))
}

/// The blind index of a full ID number (the one freshman enrollments are stored under).
pub fn id_number_index(state: &AppState, id: &str) -> String {
    state.crypto.blind_index(id)
}

/// How a search text is read: every reading that fits is tried, and a row matching any of them
/// is found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Readings {
    pub order_number: Option<String>,
    pub phone: Option<String>,
    pub last4_digits: Option<String>,
    pub id_last4: Option<String>,
    pub id_number: Option<String>,
    pub name: Option<String>,
    /// A student number (学号) or admission number (考生号).
    pub number: Option<String>,
}

impl Readings {
    pub fn of(text: &str) -> Self {
        let q = text.trim();
        let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        let mut r = Readings::default();
        if order_number::parse(&compact).is_ok() {
            r.order_number = Some(compact.clone());
        }
        if let Ok(p) = phone::normalise_mobile(&compact) {
            r.phone = Some(p);
        }
        if let Ok(last4) = id_number::normalise_last4(&compact) {
            if last4.bytes().all(|b| b.is_ascii_digit()) {
                r.last4_digits = Some(last4.clone());
            }
            r.id_last4 = Some(last4);
        }
        let upper = normalise_for_index(&compact);
        if upper.len() == 18
            && upper.is_ascii()
            && upper[..17].bytes().all(|b| b.is_ascii_digit())
            && upper[17..].bytes().all(|b| b.is_ascii_digit() || b == b'X')
        {
            r.id_number = Some(upper);
        }
        if let Ok(name) = names::normalise_name(q) {
            r.name = Some(name);
        }
        if (1..=32).contains(&compact.len())
            && compact
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            r.number = Some(compact);
        }
        r
    }

    fn is_empty(&self) -> bool {
        *self == Readings::default()
    }
}

/// The condition on `enrollments` that finds what `readings` can mean.
fn condition(state: &AppState, readings: &Readings) -> Condition {
    let mut any = Condition::any();
    if let Some(number) = &readings.order_number {
        any = any.add(
            enrollment::Column::Id.in_subquery(
                Query::select()
                    .column(order::Column::EnrollmentId)
                    .from(order::Entity)
                    .and_where(order::Column::Number.eq(number.as_str()))
                    .to_owned(),
            ),
        );
    }
    let students = |cond: Condition| {
        enrollment::Column::AccountId.in_subquery(
            Query::select()
                .column(account::Column::Id)
                .from(account::Entity)
                .cond_where(cond.add(account::Column::Role.eq(Role::Student)))
                .to_owned(),
        )
    };
    if let Some(p) = &readings.phone {
        any = any.add(students(
            Condition::all().add(account::Column::PhoneIndex.eq(phone_index(state, p))),
        ));
    }
    if let Some(last4) = &readings.last4_digits {
        any = any.add(students(
            Condition::all().add(account::Column::PhoneMasked.like(format!("%****{last4}"))),
        ));
    }
    if let Some(last4) = &readings.id_last4 {
        any = any.add(enrollment::Column::IdNumberMasked.like(format!("%{last4}")));
    }
    if let Some(id) = &readings.id_number {
        any = any.add(enrollment::Column::IdNumberIndex.eq(id_number_index(state, id)));
    }
    if let Some(name) = &readings.name {
        any = any.add(enrollment::Column::NameIndex.eq(name_index(state, name)));
    }
    if let Some(number) = &readings.number {
        any = any
            .add(enrollment::Column::StudentNumber.eq(number.as_str()))
            .add(enrollment::Column::AdmissionNumber.eq(number.as_str()));
    }
    any
}

/// Staff: the enrollments `text` finds in the viewer's scope (one school when `school_code`
/// names it), newest first. A text that can be none of the things searched for is
/// BAD_USER_INPUT.
pub async fn students(
    state: &AppState,
    viewer: &Viewer,
    text: &str,
    school_code: Option<&str>,
    args: &PageArgs,
) -> AppResult<Page<enrollment::Model>> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let readings = Readings::of(text);
    if readings.is_empty() || text.trim().chars().count() > 64 {
        return Err(AppError::BadUserInput(
            "请输入订单号、手机号（或后 4 位）、身份证号（或后 4 位）、姓名、学号或考生号".into(),
        ));
    }
    let mut select = enrollment::Entity::find().filter(condition(state, &readings));
    if let Some(school) = scope::school_filter(state, viewer, school_code).await? {
        select = select.filter(enrollment::Column::SchoolId.eq(school));
    }
    page_by_id(
        &state.db,
        select,
        enrollment::Column::Id,
        true,
        args,
        &state.ids,
        NodeType::Enrollment,
    )
    .await
}

/// Rows read per step of the backfill.
const BACKFILL_BATCH: u64 = 500;

/// Indexes the phone numbers and names written before their blind indexes existed (or under a
/// version that did not write them). Idempotent; returns how many rows it indexed.
pub async fn backfill_indexes(state: &AppState) -> AppResult<u64> {
    let mut done = 0;
    loop {
        let rows = account::Entity::find()
            .filter(account::Column::PhoneEncrypted.is_not_null())
            .filter(account::Column::PhoneIndex.is_null())
            .limit(BACKFILL_BATCH)
            .all(&state.db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let plain = row
                .phone_encrypted
                .as_deref()
                .and_then(|c| state.crypto.decrypt(c).ok());
            // An undecryptable value is indexed as nothing, so the loop moves on.
            let index = plain.map_or_else(String::new, |p| phone_index(state, &p));
            let mut active: account::ActiveModel = row.into();
            active.phone_index = Set(Some(index));
            active.update(&state.db).await?;
            done += 1;
        }
    }
    loop {
        let rows = enrollment::Entity::find()
            .filter(enrollment::Column::NameEncrypted.is_not_null())
            .filter(enrollment::Column::NameIndex.is_null())
            .limit(BACKFILL_BATCH)
            .all(&state.db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let plain = row
                .name_encrypted
                .as_deref()
                .and_then(|c| state.crypto.decrypt(c).ok());
            let index = plain.map_or_else(String::new, |n| name_index(state, &n));
            let mut active: enrollment::ActiveModel = row.into();
            active.name_index = Set(Some(index));
            active.update(&state.db).await?;
            done += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_text_is_read_as_what_it_can_be() {
        let r = Readings::of(" 13800138000 ");
        assert_eq!(r.phone.as_deref(), Some("13800138000"));
        assert_eq!(r.name, None);
        let r = Readings::of("8000");
        assert_eq!(r.last4_digits.as_deref(), Some("8000"));
        assert_eq!(r.id_last4.as_deref(), Some("8000"));
        let r = Readings::of("123x");
        assert_eq!(r.last4_digits, None);
        assert_eq!(r.id_last4.as_deref(), Some("123X"));
        let r = Readings::of("11010519491231002x");
        assert_eq!(r.id_number.as_deref(), Some("11010519491231002X"));
        let r = Readings::of("张小三");
        assert_eq!(r.name.as_deref(), Some("张小三"));
        assert_eq!(r.number, None);
        let r = Readings::of("000015-20261123183412045");
        assert_eq!(r.order_number.as_deref(), Some("000015-20261123183412045"));
        assert!(Readings::of("!!").is_empty());
    }
}
