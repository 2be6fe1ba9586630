//! Rows read by column position. A statement that joins tables repeats column names (every
//! table has an `id`), which sea-orm's by-name reading can only tell apart through prefixed
//! aliases, formatted afresh for every column of every row; reading consecutive columns by
//! position needs neither.
use std::str::FromStr;

use sea_orm::{DbErr, EntityTrait, QueryResult, QuerySelect, Select};

use super::{enrollment, order, photo, project, school};

/// A row type read from consecutive columns.
pub trait ReadAt: Sized {
    /// Its fields in the order they are read: for an entity's model, the order the entity
    /// declares its columns in, which is the order `Entity::find()` selects them in (a test
    /// holds each list to its entity).
    const FIELDS: &'static [&'static str];

    /// Reads the row from the columns at `*at` onwards and moves `*at` past them.
    fn read_at(row: &QueryResult, at: &mut usize) -> Result<Self, DbErr>;
}

/// Implements [`ReadAt`] for a struct from its field list; a field left out does not compile.
macro_rules! read_at {
    ($model:path { $($field:ident),* $(,)? }) => {
        impl $crate::entities::positional::ReadAt for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn read_at(
                row: &sea_orm::QueryResult,
                at: &mut usize,
            ) -> Result<Self, sea_orm::DbErr> {
                Ok(Self {
                    $($field: {
                        let value = row.try_get_by_index(*at)?;
                        *at += 1;
                        value
                    }),*
                })
            }
        }
    };
}
pub(crate) use read_at;

read_at!(order::Model {
    id,
    number,
    account_id,
    enrollment_id,
    project_id,
    school_id,
    identity_key,
    open_identity_key,
    kind,
    status,
    amount_fen,
    photo_id,
    notification_consent,
    manual_review,
    rejection_code,
    rejection_message,
    rejected_by,
    rejected_at,
    rejection_note,
    refund_pending,
    version,
    deliverable_key,
    created_at,
    updated_at,
    paid_at,
    completed_at,
    closed_at,
    refunded_at,
    shipping_uploaded_at,
    shipping_upload_error,
});

read_at!(enrollment::Model {
    id,
    account_id,
    project_id,
    school_id,
    source,
    identity_key,
    registry_student_id,
    name_masked,
    name_encrypted,
    id_number_masked,
    id_number_encrypted,
    id_number_index,
    college,
    major,
    student_number,
    admission_number,
    education_level,
    graduation_year,
    code_expires_at,
    capture_guide_acknowledged_at,
    capture_guide_version,
    auto_checks_used,
    name_index,
    auto_checks_granted,
    created_at,
});

read_at!(school::Model {
    id,
    code,
    name,
    created_at,
});

read_at!(project::Model {
    id,
    school_id,
    name,
    feature_code,
    mode,
    price_fen,
    order_number_prefix,
    allow_album_upload,
    max_auto_checks,
    background,
    opens_at,
    closes_at,
    print_layouts,
    prints_to_school,
    pay_first,
    created_at,
    closed_at,
});

read_at!(photo::Model {
    id,
    enrollment_id,
    source,
    object_key,
    sha256,
    width,
    height,
    byte_size,
    content_type,
    verdict,
    check_report,
    face_geometry,
    preview_key,
    created_at,
    manual_review_granted_at,
});

/// Appends the columns `R` reads, of `E`'s table, to `select`, in `R`'s order.
pub fn select_columns<S, E, R>(select: Select<S>) -> Select<S>
where
    S: EntityTrait,
    E: EntityTrait,
    E::Column: FromStr,
    R: ReadAt,
{
    let mut select = select;
    for field in R::FIELDS {
        // Every field names a column of E: `fields_name_their_entitys_columns` holds that.
        if let Ok(column) = E::Column::from_str(field) {
            select = select.column(column);
        }
    }
    select
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of `E`'s columns in the order `E::find()` selects them.
    fn column_names<E: EntityTrait>() -> Vec<&'static str> {
        use sea_orm::{IdenStatic, Iterable};
        E::Column::iter().map(|c| c.as_str()).collect()
    }

    fn same_order<E: EntityTrait, R: ReadAt>() {
        assert_eq!(R::FIELDS, column_names::<E>().as_slice());
    }

    #[test]
    fn models_read_their_entitys_columns_in_select_order() {
        same_order::<order::Entity, order::Model>();
        same_order::<enrollment::Entity, enrollment::Model>();
        same_order::<school::Entity, school::Model>();
        same_order::<project::Entity, project::Model>();
        same_order::<photo::Entity, photo::Model>();
    }
}
