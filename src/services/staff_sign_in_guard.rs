//! Password guessing against staff accounts, bounded per account as well as per address.
//!
//! Counting per address alone let anyone behind a campus NAT lock every colleague out (the
//! address was throttled, right passwords included) while a guesser with many addresses was never
//! slowed. Here failures are counted per account, in two buckets: attempts from an address the
//! account signed in from within the last 30 days (familiar) and attempts from anywhere else.
//! After a few failures each bucket makes the next attempt wait, twice as long after each further
//! failure — so forty guesses spread over any number of addresses are throttled, while the owner
//! at a familiar address is not held up by a stranger's guesses. An attempt refused for waiting
//! is not checked against the password, so waiting is the only way on.
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{failed_attempt, session},
    error::{AppError, AppResult},
};

/// Failures allowed in a bucket before attempts have to wait.
const FREE_FAILURES: u64 = 5;
/// Failures older than this no longer count.
const MEMORY: Duration = Duration::hours(1);
/// The longest wait between attempts.
const MAX_WAIT_SECS: i64 = 15 * 60;
/// How long a successful sign-in makes an address familiar.
const FAMILIAR_FOR: Duration = Duration::days(30);

const FAMILIAR_KIND: &str = "staff_password_familiar";
const UNFAMILIAR_KIND: &str = "staff_password";

/// The form an address is stored in: IPv4 as is, IPv6 by its /64 (one household or device
/// network; the rest of an IPv6 address changes freely).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The wait after `failures` failures in a bucket, in seconds (0: no wait).
pub fn wait_after(failures: u64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(20);
    (1i64 << doublings).min(MAX_WAIT_SECS)
}

/// Which bucket an attempt on `account_id` from `ip` falls in.
pub struct Attempt {
    account_id: Uuid,
    pub familiar: bool,
}

impl Attempt {
    fn kind(&self) -> &'static str {
        if self.familiar {
            FAMILIAR_KIND
        } else {
            UNFAMILIAR_KIND
        }
    }
}

/// Classifies the attempt and refuses it with THROTTLED while its bucket must wait.
pub async fn admit(state: &AppState, account_id: Uuid, ip: Option<IpAddr>) -> AppResult<Attempt> {
    let now = state.clock.now();
    let familiar = match ip {
        None => false,
        Some(ip) => {
            session::Entity::find()
                .filter(session::Column::AccountId.eq(account_id))
                .filter(session::Column::OpenedFrom.eq(address_key(ip)))
                .filter(session::Column::CreatedAt.gt(now - FAMILIAR_FOR))
                .count(&state.db)
                .await?
                > 0
        }
    };
    let attempt = Attempt {
        account_id,
        familiar,
    };
    let recent = failed_attempt::Entity::find()
        .filter(failed_attempt::Column::AccountId.eq(account_id))
        .filter(failed_attempt::Column::Kind.eq(attempt.kind()))
        .filter(failed_attempt::Column::CreatedAt.gt(now - MEMORY));
    let failures = recent.clone().count(&state.db).await?;
    let wait = wait_after(failures);
    if wait > 0 {
        let last: Option<DateTime<Utc>> = recent
            .select_only()
            .column(failed_attempt::Column::CreatedAt)
            .order_by_desc(failed_attempt::Column::CreatedAt)
            .into_tuple()
            .one(&state.db)
            .await?;
        if let Some(last) = last {
            // Compared to the millisecond: PostgreSQL keeps microseconds, so a wait measured in
            // whole seconds would end a fraction early.
            let remaining_ms = (last + Duration::seconds(wait) - now).num_milliseconds();
            if remaining_ms > 0 {
                tracing::info!(account = %account_id, failures, familiar, "staff sign-in throttled");
                return Err(AppError::Throttled {
                    retry_after_secs: u64::try_from(remaining_ms).map_or(1, |ms| ms.div_ceil(1000)),
                });
            }
        }
    }
    Ok(attempt)
}

/// Records a wrong password in the attempt's bucket.
pub async fn failed(state: &AppState, attempt: &Attempt) -> AppResult<()> {
    failed_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(attempt.account_id),
        kind: Set(attempt.kind().into()),
        created_at: Set(state.clock.now()),
    }
    .insert(&state.db)
    .await?;
    Ok(())
}

/// The owner got in from a familiar address: their own earlier slips there are forgotten.
/// (Strangers' failures stay counted: they are not the owner's to clear.)
pub async fn succeeded(state: &AppState, attempt: &Attempt) -> AppResult<()> {
    if attempt.familiar {
        failed_attempt::Entity::delete_many()
            .filter(failed_attempt::Column::AccountId.eq(attempt.account_id))
            .filter(failed_attempt::Column::Kind.eq(FAMILIAR_KIND))
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_up_to_a_cap() {
        assert_eq!(wait_after(0), 0);
        assert_eq!(wait_after(FREE_FAILURES - 1), 0);
        assert_eq!(wait_after(FREE_FAILURES), 1);
        assert_eq!(wait_after(FREE_FAILURES + 3), 8);
        assert_eq!(wait_after(40), MAX_WAIT_SECS);
        assert_eq!(wait_after(u64::MAX), MAX_WAIT_SECS);
    }

    #[test]
    fn addresses_are_keyed_by_host_or_ipv6_network() {
        assert_eq!(address_key("203.0.113.7".parse().unwrap()), "203.0.113.7");
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            address_key("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
