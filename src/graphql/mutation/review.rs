//! 审核, 撤回审核, 修改照片, 制作 and 报送.
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::orders::{OrderPayload, order_payload};
use crate::{
    error::{ApiResult, AppResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{RoleGuard, STAFF, STUDENT},
        types::{
            order::Order,
            production::{ProductionBatch, RegistryExport},
        },
    },
    ids::NodeType,
    services::{production, registry_export, review},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// 通过: on to production.
    Approve,
    /// 驳回: back to the student with a catalogue reason.
    Reject,
}

#[derive(InputObject)]
pub struct ClaimReviewTasksInput {
    pub school_code: Option<String>,
    /// 1–20
    pub count: i32,
}

#[derive(SimpleObject)]
pub struct ClaimReviewTasksPayload {
    pub orders: Vec<Order>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ReviewOrderInput {
    pub order_id: ID,
    pub decision: ReviewDecision,
    /// Required to reject: a code of `rejectionReasons`.
    pub reason_code: Option<String>,
    /// An optional note for the student (≤ 200 characters).
    pub message: Option<String>,
}

#[derive(InputObject)]
pub struct ResubmitPhotoInput {
    pub order_id: ID,
    pub photo_id: ID,
}

#[derive(InputObject)]
pub struct StartProductionBatchInput {
    pub school_code: Option<String>,
    pub order_ids: Option<Vec<ID>>,
}

#[derive(SimpleObject)]
pub struct ProductionBatchPayload {
    pub batch: Option<ProductionBatch>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ExportToRegistryInput {
    pub school_code: String,
}

#[derive(SimpleObject)]
pub struct RegistryExportPayload {
    pub export: Option<RegistryExport>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ImportRegistryResultInput {
    /// The export (`exportToRegistry`) the registry answered.
    pub export_id: ID,
    /// The registry's CSV as text: `student number, result, reason` per line; result 通过 or
    /// 不通过 (ACCEPTED / REJECTED also read), the reason required when not accepted; a header
    /// line is skipped.
    pub csv: String,
}

#[derive(SimpleObject)]
pub struct ImportRegistryResultPayload {
    pub export: Option<RegistryExport>,
    /// Orders now 已上报.
    pub accepted: i32,
    /// Orders returned to 被驳回 with `REGISTRY_REJECTED` (上报失败).
    pub rejected: i32,
    /// Lines imported before (the same answer twice changes nothing).
    pub unchanged: i32,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// 领取审核任务: up to `count` PENDING_REVIEW orders, oldest first, under a lease that no other
    /// reviewer can take until it expires.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn claim_review_tasks(
        &self,
        ctx: &Context<'_>,
        input: ClaimReviewTasksInput,
    ) -> ApiResult<ClaimReviewTasksPayload> {
        let viewer = ctx.viewer()?.clone();
        let result = review::claim(
            ctx.state(),
            &viewer,
            input.school_code.as_deref(),
            input.count,
        )
        .await;
        let (orders, user_errors) = into_payload(result)?;
        Ok(ClaimReviewTasksPayload {
            orders: orders
                .unwrap_or_default()
                .into_iter()
                .map(Order::new)
                .collect(),
            user_errors,
        })
    }

    /// 审核: approve, or reject with a reason from the catalogue. Needs a live claim.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn review_order(
        &self,
        ctx: &Context<'_>,
        input: ReviewOrderInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let result = review::review(
            ctx.state(),
            &viewer,
            review::ReviewInput {
                order_id: id,
                decision: match input.decision {
                    ReviewDecision::Approve => review::Decision::Approve,
                    ReviewDecision::Reject => review::Decision::Reject,
                },
                reason_code: input.reason_code.as_deref(),
                note: input.message.as_deref(),
            },
        )
        .await;
        order_payload(result)
    }

    /// 修改照片: a rejected order goes back to review with a new photo that passed the check.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn resubmit_photo(
        &self,
        ctx: &Context<'_>,
        input: ResubmitPhotoInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let photo = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        order_payload(review::resubmit(ctx.state(), &viewer, id, photo).await)
    }

    /// 撤回审核: pulls an order back from review (it becomes REJECTED with reason WITHDRAWN).
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn withdraw_submission(
        &self,
        ctx: &Context<'_>,
        input: super::orders::OrderIdInput,
    ) -> ApiResult<OrderPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        order_payload(review::withdraw(ctx.state(), &viewer, id).await)
    }

    /// 开始制作: producers (or admins) start a batch for a school's PENDING_PRODUCTION orders or a
    /// list of them; follow it with `node(id)` (or `productionProgress`).
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn start_production_batch(
        &self,
        ctx: &Context<'_>,
        input: StartProductionBatchInput,
    ) -> ApiResult<ProductionBatchPayload> {
        let viewer = ctx.viewer()?.clone();
        let ids = match input.order_ids {
            Some(list) => Some(
                list.iter()
                    .map(|id| ctx.decode_id(NodeType::Order, id))
                    .collect::<AppResult<Vec<_>>>()?,
            ),
            None => None,
        };
        let result =
            production::start_batch(ctx.state(), &viewer, input.school_code.as_deref(), ids).await;
        let (batch, user_errors) = into_payload(result)?;
        Ok(ProductionBatchPayload {
            batch: batch.map(ProductionBatch),
            user_errors,
        })
    }

    /// 报至学信网: packages the school's completed photos not exported yet.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn export_to_registry(
        &self,
        ctx: &Context<'_>,
        input: ExportToRegistryInput,
    ) -> ApiResult<RegistryExportPayload> {
        let viewer = ctx.viewer()?.clone();
        let result = registry_export::export(ctx.state(), &viewer, &input.school_code).await;
        let (export, user_errors) = into_payload(result)?;
        Ok(RegistryExportPayload {
            export: export.map(RegistryExport),
            user_errors,
        })
    }

    /// 导入学信网回执: staff who report to the registry import its answer for an export. Accepted
    /// orders are 已上报 on their trail; rejected ones return to 被驳回 (`REGISTRY_REJECTED`, with
    /// the registry's words) so the student re-takes. Both reach `orderUpdates`. All or nothing:
    /// a bad line or a student the export did not carry changes nothing.
    #[graphql(guard = "RoleGuard::new(STAFF)")]
    async fn import_registry_result(
        &self,
        ctx: &Context<'_>,
        input: ImportRegistryResultInput,
    ) -> ApiResult<ImportRegistryResultPayload> {
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::RegistryExport, &input.export_id)?;
        let result = registry_export::import_result(ctx.state(), &viewer, id, &input.csv).await;
        let (done, user_errors) = into_payload(result)?;
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(match done {
            Some((export, outcome)) => ImportRegistryResultPayload {
                export: Some(RegistryExport(export)),
                accepted: count(outcome.accepted),
                rejected: count(outcome.rejected),
                unchanged: count(outcome.unchanged),
                user_errors,
            },
            None => ImportRegistryResultPayload {
                export: None,
                accepted: 0,
                rejected: 0,
                unchanged: 0,
                user_errors,
            },
        })
    }
}
