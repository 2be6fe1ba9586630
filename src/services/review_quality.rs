//! 审核质量: per reviewer, decisions per day and the rejection reasons they gave, and how long the
//! oldest order in the queue has waited — in the viewer's schools.
use std::collections::{BTreeMap, HashMap};

use campus_photo_domain::{order::OrderStatus, reasons};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Query};
use uuid::Uuid;

use super::{
    scope::{self, Duty, Scope},
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{order, order_event},
    error::{AppError, AppResult},
};

/// The longest period asked about, in days.
pub const MAX_DAYS: i32 = 31;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub date: String,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    pub code: String,
    pub title: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerStats {
    pub reviewer_id: Uuid,
    pub approved: i64,
    pub rejected: i64,
    pub days: Vec<Day>,
    /// Most used first.
    pub reasons: Vec<ReasonCount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quality {
    pub since: DateTime<Utc>,
    pub reviewers: Vec<ReviewerStats>,
    /// When the order waiting longest entered the queue; `None` when nothing waits.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    pub waiting: i64,
}

/// One reviewer's decisions by day, and rejections by reason code.
type Tally = (BTreeMap<String, Day>, HashMap<String, i64>);

fn shanghai_day(at: DateTime<Utc>) -> String {
    FixedOffset::east_opt(8 * 3600)
        .map(|tz| at.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The last `days` days (1 to 31) of decisions in scope (one school when `school_id` is given).
pub async fn quality(
    state: &AppState,
    viewer: &Viewer,
    school_id: Option<Uuid>,
    days: i32,
) -> AppResult<Quality> {
    scope::require(viewer, Duty::Administer)?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::BadUserInput(format!(
            "days 须在 1 到 {MAX_DAYS} 之间（收到 {days}）"
        )));
    }
    let school = school_id.or(Scope::of(viewer).only_school());
    let in_scope = |mut q: sea_orm::sea_query::SelectStatement| {
        if let Some(s) = school {
            q.and_where(order::Column::SchoolId.eq(s));
        }
        q
    };
    let now = state.clock.now();
    let since = now - TimeDelta::days(i64::from(days));
    let decisions = order_event::Entity::find()
        .filter(order_event::Column::Event.is_in(["APPROVE", "REJECT"]))
        .filter(order_event::Column::CreatedAt.gte(since))
        .filter(order_event::Column::ActorAccountId.is_not_null())
        .filter(
            order_event::Column::OrderId.in_subquery(in_scope(
                Query::select()
                    .column(order::Column::Id)
                    .from(order::Entity)
                    .to_owned(),
            )),
        )
        .all(&state.db)
        .await?;
    let mut per: HashMap<Uuid, Tally> = HashMap::new();
    for e in &decisions {
        let Some(reviewer) = e.actor_account_id else {
            continue;
        };
        let (days, reasons) = per.entry(reviewer).or_default();
        let date = shanghai_day(e.created_at);
        let day = days.entry(date.clone()).or_insert_with(|| Day {
            date,
            ..Day::default()
        });
        if e.event == "APPROVE" {
            day.approved += 1;
        } else {
            day.rejected += 1;
            let code = e.reason_code.clone().unwrap_or_default();
            *reasons.entry(code).or_default() += 1;
        }
    }
    let mut reviewers: Vec<ReviewerStats> = per
        .into_iter()
        .map(|(reviewer_id, (days, counts))| {
            let days: Vec<Day> = days.into_values().collect();
            let mut reasons: Vec<ReasonCount> = counts
                .into_iter()
                .map(|(code, count)| ReasonCount {
                    title: reasons::find(&code)
                        .map(|r| r.title.to_string())
                        .unwrap_or_else(|| code.clone()),
                    code,
                    count,
                })
                .collect();
            reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
            ReviewerStats {
                reviewer_id,
                approved: days.iter().map(|d| d.approved).sum(),
                rejected: days.iter().map(|d| d.rejected).sum(),
                days,
                reasons,
            }
        })
        .collect();
    reviewers.sort_by(|a, b| {
        (b.approved + b.rejected)
            .cmp(&(a.approved + a.rejected))
            .then(a.reviewer_id.cmp(&b.reviewer_id))
    });

    // An order waits from the last time it entered PENDING_REVIEW.
    let mut waiting_orders =
        order::Entity::find().filter(order::Column::Status.eq(OrderStatus::PendingReview));
    if let Some(s) = school {
        waiting_orders = waiting_orders.filter(order::Column::SchoolId.eq(s));
    }
    let waiting: Vec<Uuid> = waiting_orders
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let mut entered: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for chunk in waiting.chunks(500) {
        for e in order_event::Entity::find()
            .filter(order_event::Column::OrderId.is_in(chunk.iter().copied()))
            .filter(order_event::Column::ToStatus.eq(OrderStatus::PendingReview))
            .all(&state.db)
            .await?
        {
            if e.from_status == Some(OrderStatus::PendingReview) {
                continue;
            }
            let at = entered.entry(e.order_id).or_insert(e.created_at);
            *at = (*at).max(e.created_at);
        }
    }
    Ok(Quality {
        since,
        reviewers,
        oldest_waiting_since: entered.values().min().copied(),
        waiting: i64::try_from(waiting.len()).unwrap_or(i64::MAX),
    })
}
