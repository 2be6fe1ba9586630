//! 人工干预: operators help a stuck student. Order overrides land on the order's trail, enrollment
//! overrides in the audit records.
use async_graphql::{Context, ID, InputObject, Object};

use super::{
    enrollment::EnrollmentPayload,
    orders::{OrderPayload, order_payload},
};
use crate::{
    error::{ApiResult, into_payload},
    graphql::{
        context::ContextExt,
        guards::{OPERATORS, RoleGuard},
        types::enrollment::Enrollment,
    },
    ids::NodeType,
    services::overrides,
};

#[derive(InputObject)]
pub struct GrantAutoChecksInput {
    pub enrollment_id: ID,
    /// How many more automatic checks (1 to 20).
    pub count: i32,
}

#[derive(InputObject)]
pub struct SendPhotoToReviewInput {
    /// A rejected order, or a paid order of a pay-first project.
    pub order_id: ID,
    /// A take of the order's enrollment that the automatic check refused.
    pub photo_id: ID,
}

#[derive(InputObject)]
pub struct AllowManualReviewInput {
    /// A take the automatic check refused.
    pub photo_id: ID,
}

#[derive(async_graphql::SimpleObject)]
pub struct AllowManualReviewPayload {
    pub photo: Option<crate::graphql::types::photo::Photo>,
    pub user_errors: Vec<crate::error::UserError>,
}

#[derive(InputObject)]
pub struct ReviewClaimInput {
    pub order_id: ID,
}

#[derive(InputObject)]
pub struct ReassignReviewClaimInput {
    pub order_id: ID,
    /// The reviewer who takes the claim over.
    pub reviewer_id: ID,
}

#[derive(InputObject)]
pub struct UnbindEnrollmentInput {
    pub enrollment_id: ID,
    /// Why (the owner's dispute, as staff checked it).
    pub reason: String,
}

#[derive(InputObject)]
pub struct CancelAndRefundOrderInput {
    pub order_id: ID,
    /// The refund reason WeChat records (for a paid order).
    pub reason: String,
}

fn enrollment_payload(
    result: crate::error::AppResult<crate::entities::enrollment::Model>,
) -> ApiResult<EnrollmentPayload> {
    let (enrollment, user_errors) = into_payload(result)?;
    Ok(EnrollmentPayload {
        enrollment: enrollment.map(Enrollment::new),
        user_errors,
    })
}

#[derive(Default)]
pub struct OverrideMutation;

#[Object]
impl OverrideMutation {
    /// Operators: more automatic checks for an enrollment that used them up (audited).
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn grant_auto_checks(
        &self,
        ctx: &Context<'_>,
        input: GrantAutoChecksInput,
    ) -> ApiResult<EnrollmentPayload> {
        let id = ctx.decode_id(NodeType::Enrollment, &input.enrollment_id)?;
        enrollment_payload(
            overrides::grant_auto_checks(ctx.state(), ctx.viewer()?, id, input.count).await,
        )
    }

    /// Operators: sends a take the automatic check refused to a reviewer (人工审核) for a
    /// rejected order or a paid pay-first order. INVALID_STATE otherwise, PHOTO_MISMATCH,
    /// PHOTO_PASSED (the student can send it), REFUND_PENDING.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn send_photo_to_review(
        &self,
        ctx: &Context<'_>,
        input: SendPhotoToReviewInput,
    ) -> ApiResult<OrderPayload> {
        let order = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let photo = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        order_payload(
            overrides::send_photo_to_review(ctx.state(), ctx.viewer()?, order, photo).await,
        )
    }

    /// Operators: lets a take the automatic check refused (even for a hard fault) be submitted by
    /// the student with `manualReview` (提交人工审核); audited. PHOTO_PASSED for a take that passed.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn allow_manual_review(
        &self,
        ctx: &Context<'_>,
        input: AllowManualReviewInput,
    ) -> ApiResult<AllowManualReviewPayload> {
        let photo = ctx.decode_id(NodeType::Photo, &input.photo_id)?;
        let result = overrides::allow_manual_review(ctx.state(), ctx.viewer()?, photo).await;
        let (photo, user_errors) = into_payload(result)?;
        Ok(AllowManualReviewPayload {
            photo: photo.map(crate::graphql::types::photo::Photo::new),
            user_errors,
        })
    }

    /// Operators: releases a reviewer's claim; the order is back in the queue (CLAIM_RELEASED on
    /// its trail). INVALID_STATE unless awaiting review, NOT_CLAIMED.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn release_review_claim(
        &self,
        ctx: &Context<'_>,
        input: ReviewClaimInput,
    ) -> ApiResult<OrderPayload> {
        let order = ctx.decode_id(NodeType::Order, &input.order_id)?;
        order_payload(overrides::release_claim(ctx.state(), ctx.viewer()?, order).await)
    }

    /// Operators: gives a reviewer's claim to another reviewer of the school
    /// (CLAIM_REASSIGNED on its trail).
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn reassign_review_claim(
        &self,
        ctx: &Context<'_>,
        input: ReassignReviewClaimInput,
    ) -> ApiResult<OrderPayload> {
        let order = ctx.decode_id(NodeType::Order, &input.order_id)?;
        let reviewer = ctx.decode_id(NodeType::Account, &input.reviewer_id)?;
        order_payload(overrides::reassign_claim(ctx.state(), ctx.viewer()?, order, reviewer).await)
    }

    /// Operators: lets go of an enrollment taken by the wrong account, so its owner can add it
    /// (audited). ORDER_IN_PROGRESS while one of its orders is open.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn unbind_enrollment(
        &self,
        ctx: &Context<'_>,
        input: UnbindEnrollmentInput,
    ) -> ApiResult<EnrollmentPayload> {
        let id = ctx.decode_id(NodeType::Enrollment, &input.enrollment_id)?;
        enrollment_payload(
            overrides::unbind_enrollment(ctx.state(), ctx.viewer()?, id, &input.reason).await,
        )
    }

    /// Operators: cancels an unpaid order, or refunds a paid one not yet produced (INVALID_STATE
    /// otherwise). The refund settles when WeChat confirms it.
    #[graphql(guard = "RoleGuard::new(OPERATORS)")]
    async fn cancel_and_refund_order(
        &self,
        ctx: &Context<'_>,
        input: CancelAndRefundOrderInput,
    ) -> ApiResult<OrderPayload> {
        let id = ctx.decode_id(NodeType::Order, &input.order_id)?;
        order_payload(
            overrides::cancel_and_refund(ctx.state(), ctx.viewer()?, id, &input.reason).await,
        )
    }
}
