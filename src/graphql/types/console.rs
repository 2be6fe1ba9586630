//! What the operators' console reads: the audit trail.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::account::Account;
use crate::{
    entities::audit_record,
    error::ApiResult,
    graphql::{
        context::ContextExt,
        loaders::{AccountId, load},
    },
    services::audit::Target,
};

/// 操作记录: one change an operator made — who, when, what, before and after.
pub struct AuditRecord(pub audit_record::Model);

#[Object]
impl AuditRecord {
    /// e.g. PROJECT_UPDATED, PROJECT_CLOSED, STAFF_DISABLED, STAFF_PASSWORD_RESET,
    /// AUTO_CHECKS_GRANTED, ENROLLMENT_UNBOUND.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// PROJECT, ACCOUNT or ENROLLMENT.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }

    /// The global id of what was changed.
    async fn target_id(&self, ctx: &Context<'_>) -> Option<ID> {
        let target = Target::parse(&self.0.target_type)?;
        Some(ID(ctx
            .state()
            .ids
            .encode(target.node_type(), self.0.target_id)))
    }

    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(load(ctx, AccountId(self.0.actor_account_id))
            .await?
            .map(Account))
    }

    /// The record before the change, as JSON text.
    async fn before(&self) -> Option<String> {
        self.0.before.as_ref().map(|v| v.to_string())
    }

    /// The record after the change, as JSON text.
    async fn after(&self) -> Option<String> {
        self.0.after.as_ref().map(|v| v.to_string())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A stage of a school's progress (a set of its students, not exclusive: a completed student
/// also counts as enrolled, submitted and paid).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::progress::Stage")]
pub enum ProgressStage {
    /// 已登记
    Enrolled,
    /// 照片已通过初审
    PhotoPassed,
    /// 已提交 (an order neither closed nor refunded)
    Submitted,
    /// 已支付
    Paid,
    /// 被驳回未重拍
    RejectedNotRetaken,
    /// 制作中 (approved, waiting for or in production)
    InProduction,
    /// 已完成
    Completed,
    /// 已上报 (学信网 accepted the photo)
    Reported,
    /// 未完成 (no completed order yet)
    NotFinished,
}

/// How many students are at one stage.
#[derive(async_graphql::SimpleObject)]
pub struct StageCount {
    pub stage: ProgressStage,
    /// The stage in Chinese.
    pub label: String,
    pub count: i64,
}

/// 学校进度: a school's (or one of its projects') students by stage.
pub struct SchoolProgress {
    pub school: crate::entities::school::Model,
    pub of: crate::services::progress::Of,
}

#[Object]
impl SchoolProgress {
    async fn school(&self) -> super::school::School {
        super::school::School(self.school.clone())
    }

    /// The count at every stage.
    async fn counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<StageCount>> {
        let counts = crate::services::progress::counts(ctx.state(), self.of).await?;
        Ok(counts
            .into_iter()
            .map(|(stage, count)| StageCount {
                stage: stage.into(),
                label: stage.label().to_string(),
                count,
            })
            .collect())
    }

    /// The students behind one count, newest first (masked as everywhere).
    #[graphql(complexity = "crate::graphql::connection::page_size(first) * child_complexity + 1")]
    async fn students(
        &self,
        ctx: &Context<'_>,
        stage: ProgressStage,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<
        async_graphql::connection::Connection<
            String,
            super::enrollment::Enrollment,
            crate::graphql::connection::TotalCount,
        >,
    > {
        let state = ctx.state();
        let args = crate::graphql::connection::PageArgs {
            first,
            after,
            last: None,
            before: None,
        };
        let page = crate::services::progress::list(state, self.of, stage.into(), &args).await?;
        Ok(crate::graphql::connection::into_connection(
            page,
            &state.ids,
            crate::ids::NodeType::Enrollment,
            |m| m.id,
            super::enrollment::Enrollment::new,
        ))
    }
}

/// One day of a reviewer's decisions (Asia/Shanghai).
#[derive(async_graphql::SimpleObject)]
pub struct ReviewDay {
    /// `YYYY-MM-DD`
    pub date: String,
    pub approved: i64,
    pub rejected: i64,
}

/// How often a rejection reason was given.
#[derive(async_graphql::SimpleObject)]
pub struct RejectionReasonCount {
    pub code: String,
    pub title: String,
    pub count: i64,
}

/// One reviewer's decisions over the period.
pub struct ReviewerQuality(pub crate::services::review_quality::ReviewerStats);

#[Object]
impl ReviewerQuality {
    async fn reviewer(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(load(ctx, AccountId(self.0.reviewer_id)).await?.map(Account))
    }

    async fn approved(&self) -> i64 {
        self.0.approved
    }

    async fn rejected(&self) -> i64 {
        self.0.rejected
    }

    /// Decisions per day, oldest first (days without a decision are left out).
    async fn days(&self) -> Vec<ReviewDay> {
        self.0
            .days
            .iter()
            .map(|d| ReviewDay {
                date: d.date.clone(),
                approved: d.approved,
                rejected: d.rejected,
            })
            .collect()
    }

    /// The rejection reasons given, most used first.
    async fn rejection_reasons(&self) -> Vec<RejectionReasonCount> {
        self.0
            .reasons
            .iter()
            .map(|r| RejectionReasonCount {
                code: r.code.clone(),
                title: r.title.clone(),
                count: r.count,
            })
            .collect()
    }
}

/// 审核质量: the reviewers' decisions over a period, and the queue's oldest wait.
pub struct ReviewQuality {
    pub quality: crate::services::review_quality::Quality,
    pub now: DateTime<Utc>,
}

#[Object]
impl ReviewQuality {
    /// The start of the period.
    async fn since(&self) -> DateTime<Utc> {
        self.quality.since
    }

    /// Busiest reviewer first.
    async fn reviewers(&self) -> Vec<ReviewerQuality> {
        self.quality
            .reviewers
            .iter()
            .cloned()
            .map(ReviewerQuality)
            .collect()
    }

    /// Orders awaiting review now.
    async fn waiting(&self) -> i64 {
        self.quality.waiting
    }

    /// When the order waiting longest entered the queue; null when none waits.
    async fn oldest_waiting_since(&self) -> Option<DateTime<Utc>> {
        self.quality.oldest_waiting_since
    }

    /// How long (seconds) the order waiting longest has waited; null when none waits.
    async fn oldest_waiting_seconds(&self) -> Option<i64> {
        self.quality
            .oldest_waiting_since
            .map(|t| (self.now - t).num_seconds().max(0))
    }
}
