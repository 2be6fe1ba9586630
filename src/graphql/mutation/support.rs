//! 在线客服: opening and answering support tickets.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};

use crate::{
    error::{ApiResult, AppError, UserError, into_payload},
    graphql::{context::ContextExt, types::support::SupportTicket},
    ids::NodeType,
    services::support::{self, NewTicket},
};

#[derive(InputObject)]
pub struct OpenSupportTicketInput {
    /// The order the question is about (one of the student's own).
    pub order_id: Option<ID>,
    /// Up to 60 characters.
    pub subject: String,
    /// Up to 1000 characters.
    pub text: String,
    /// An optional picture (a screenshot, the photo in question): JPEG, PNG or WebP, 5 MB at most.
    pub picture: Option<Upload>,
}

#[derive(InputObject)]
pub struct AnswerSupportTicketInput {
    pub ticket_id: ID,
    pub text: String,
    /// Closes the ticket with this message.
    pub close: Option<bool>,
}

#[derive(SimpleObject, Default)]
pub struct SupportTicketPayload {
    pub ticket: Option<SupportTicket>,
    pub user_errors: Vec<UserError>,
}

fn payload(
    result: crate::error::AppResult<crate::entities::support_ticket::Model>,
) -> ApiResult<SupportTicketPayload> {
    let (ticket, user_errors) = into_payload(result)?;
    Ok(SupportTicketPayload {
        ticket: ticket.map(SupportTicket),
        user_errors,
    })
}

#[derive(Default)]
pub struct SupportMutation;

#[Object]
impl SupportMutation {
    /// 在线客服 (students): asks a question, optionally about one of their orders.
    async fn open_support_ticket(
        &self,
        ctx: &Context<'_>,
        input: OpenSupportTicketInput,
    ) -> ApiResult<SupportTicketPayload> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let result = async {
            let order_id = match &input.order_id {
                Some(id) => Some(
                    state
                        .ids
                        .decode_as(NodeType::Order, id)
                        .ok_or_else(|| AppError::user("NOT_FOUND", "orderId", "找不到该订单"))?,
                ),
                None => None,
            };
            let picture = match &input.picture {
                Some(upload) => Some(super::read_upload(ctx, upload, "picture").await?),
                None => None,
            };
            support::open(
                state,
                viewer,
                NewTicket {
                    order_id,
                    subject: input.subject.clone(),
                    text: input.text.clone(),
                    picture,
                },
            )
            .await
        }
        .await;
        payload(result)
    }

    /// Staff in scope answer; the student follows up. `close` ends the ticket.
    async fn answer_support_ticket(
        &self,
        ctx: &Context<'_>,
        input: AnswerSupportTicketInput,
    ) -> ApiResult<SupportTicketPayload> {
        let state = ctx.state();
        let viewer = ctx.viewer()?;
        let result = match state
            .ids
            .decode_as(NodeType::SupportTicket, &input.ticket_id)
        {
            Some(id) => {
                support::answer(state, viewer, id, &input.text, input.close.unwrap_or(false)).await
            }
            None => Err(AppError::user("NOT_FOUND", "ticketId", "找不到该工单")),
        };
        payload(result)
    }
}
