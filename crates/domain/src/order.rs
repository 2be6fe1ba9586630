//! The order state machine (DESIGN §4). Services call [`transition`] before every status change,
//! so the rules live in one pure function that the tests check exhaustively.

use crate::codes::Role;

string_enum! {
    /// Where an order is in its life.
    pub enum OrderStatus: "order status" {
        PendingPayment => "PENDING_PAYMENT",
        Paid => "PAID",
        PendingReview => "PENDING_REVIEW",
        Rejected => "REJECTED",
        PendingProduction => "PENDING_PRODUCTION",
        InProduction => "IN_PRODUCTION",
        Completed => "COMPLETED",
        Closed => "CLOSED",
        Refunded => "REFUNDED",
    }
}

/// `submitOrder` creates the order in this status; creation is not a transition.
pub const INITIAL: OrderStatus = OrderStatus::PendingPayment;

impl OrderStatus {
    /// The Chinese label the student and the dashboard show.
    pub const fn label(self) -> &'static str {
        match self {
            Self::PendingPayment => "待支付",
            Self::Paid => "已支付",
            Self::PendingReview => "待审核",
            Self::Rejected => "被驳回",
            Self::PendingProduction => "待制作",
            Self::InProduction => "制作中",
            Self::Completed => "已完成",
            Self::Closed => "订单关闭",
            Self::Refunded => "已退款",
        }
    }

    /// Whether the order still counts against "one live order per student per project":
    /// everything but CLOSED and REFUNDED (a completed order still holds the place).
    pub const fn is_open(self) -> bool {
        !matches!(self, Self::Closed | Self::Refunded)
    }
}

string_enum! {
    /// What asks for a status change.
    pub enum OrderEvent: "order event" {
        /// `updatePendingOrder`: new photo or details before paying.
        UpdatePending => "UPDATE_PENDING",
        /// `cancelOrder`.
        Cancel => "CANCEL",
        /// Unpaid past the payment timeout.
        PaymentTimeout => "PAYMENT_TIMEOUT",
        /// A verified WeChat Pay notification with the right amount.
        PaymentConfirmed => "PAYMENT_CONFIRMED",
        /// A paid order enters the review queue.
        EnqueueForReview => "ENQUEUE_FOR_REVIEW",
        /// `reviewOrder` APPROVE.
        Approve => "APPROVE",
        /// `reviewOrder` REJECT with a catalogue reason.
        Reject => "REJECT",
        /// `withdrawSubmission` (撤回审核), recorded as REJECTED with reason `WITHDRAWN`.
        Withdraw => "WITHDRAW",
        /// `resubmitPhoto` after a rejection.
        Resubmit => "RESUBMIT",
        /// `submitPhotoForReview`: in a pay-first project (先付款后拍照), the paid order's photo
        /// goes to review.
        SubmitPhoto => "SUBMIT_PHOTO",
        /// A production batch picks the order up.
        StartProduction => "START_PRODUCTION",
        /// The standard photo was rendered and stored.
        FinishProduction => "FINISH_PRODUCTION",
        /// Rendering failed; the order goes back to PENDING_PRODUCTION so a batch can retry it.
        ProductionFailed => "PRODUCTION_FAILED",
        /// The refund notification confirmed the money went back.
        RefundConfirmed => "REFUND_CONFIRMED",
        /// 上报失败: the national registry (学信网) refused the reported photo; the student re-takes.
        RegistryReject => "REGISTRY_REJECT",
    }
}

string_enum! {
    /// Audit entries that record something about an order without changing its status.
    pub enum OrderNote: "order note" {
        RefundRequested => "REFUND_REQUESTED",
        RefundFailed => "REFUND_FAILED",
        /// Money arrived for an order that had already closed; it is refunded.
        PaidAfterClose => "PAID_AFTER_CLOSE",
        /// A member of staff read the student's full phone number (to call them).
        ContactPhoneRevealed => "CONTACT_PHONE_REVEALED",
        /// 已上报: the national registry (学信网) accepted the photo.
        RegistryReported => "REGISTRY_REPORTED",
        /// An operator released a reviewer's claim: the order is back in the queue.
        ClaimReleased => "CLAIM_RELEASED",
        /// An operator gave a reviewer's claim to another reviewer.
        ClaimReassigned => "CLAIM_REASSIGNED",
        /// An operator sent the student a reminder to finish (subscription message).
        ReminderSent => "REMINDER_SENT",
        /// An operator granted the order's enrollment more automatic checks.
        AutoChecksGranted => "AUTO_CHECKS_GRANTED",
        /// An operator unbound the order's enrollment from the account that took it.
        EnrollmentUnbound => "ENROLLMENT_UNBOUND",
    }
}

string_enum! {
    /// Who triggers an event. Staff accounts map from their [`Role`]; `System` is background
    /// work and `WeChatPay` a verified payment or refund notification.
    pub enum Actor: "actor" {
        Student => "STUDENT",
        Reviewer => "REVIEWER",
        Producer => "PRODUCER",
        SchoolAdmin => "SCHOOL_ADMIN",
        Admin => "ADMIN",
        System => "SYSTEM",
        WeChatPay => "WECHATPAY",
    }
}

impl From<Role> for Actor {
    fn from(role: Role) -> Self {
        match role {
            Role::Student => Self::Student,
            Role::Reviewer => Self::Reviewer,
            Role::Producer => Self::Producer,
            Role::SchoolAdmin => Self::SchoolAdmin,
            Role::Admin => Self::Admin,
        }
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidTransitionKind {
    /// The event does not apply to the order's current status.
    WrongState,
    /// This actor may never trigger this event.
    NotAllowedForActor,
}

/// A refused transition; the API reports it as `INVALID_STATE` and nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{event} by {actor} is not allowed from {from} ({kind:?})")]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
    pub actor: Actor,
    pub kind: InvalidTransitionKind,
}

impl InvalidTransition {
    /// The `userErrors` code the API uses for every refused transition.
    pub const CODE: &'static str = "INVALID_STATE";
}

/// The actors allowed to trigger `event`, whatever the status. Checked before the status so a
/// caller who may never do this learns nothing about the order's state.
fn actor_may(event: OrderEvent, actor: Actor) -> bool {
    use Actor as A;
    use OrderEvent as E;
    match event {
        E::UpdatePending | E::Withdraw => actor == A::Student,
        // Operators send a take the automatic check refused to review for the student (an
        // override on the console), and cancel an unpaid order on request.
        E::Resubmit | E::SubmitPhoto | E::Cancel => {
            matches!(actor, A::Student | A::SchoolAdmin | A::Admin)
        }
        E::PaymentTimeout | E::EnqueueForReview | E::ProductionFailed => actor == A::System,
        E::PaymentConfirmed | E::RefundConfirmed => actor == A::WeChatPay,
        E::Approve | E::Reject => matches!(actor, A::Reviewer | A::SchoolAdmin | A::Admin),
        E::StartProduction | E::FinishProduction => {
            matches!(actor, A::Producer | A::Admin | A::System)
        }
        E::RegistryReject => matches!(actor, A::Producer | A::Admin),
    }
}

/// The status `event` leads to from `from`, if the event applies there at all.
fn target(from: OrderStatus, event: OrderEvent) -> Option<OrderStatus> {
    use OrderEvent as E;
    use OrderStatus as S;
    let to = match (from, event) {
        (S::PendingPayment, E::UpdatePending) => S::PendingPayment,
        (S::PendingPayment, E::Cancel | E::PaymentTimeout) => S::Closed,
        (S::PendingPayment, E::PaymentConfirmed) => S::Paid,
        (S::Paid, E::EnqueueForReview) => S::PendingReview,
        (S::Paid, E::SubmitPhoto) => S::PendingReview,
        (S::PendingReview, E::Approve) => S::PendingProduction,
        (S::PendingReview, E::Reject | E::Withdraw) => S::Rejected,
        (S::Rejected, E::Resubmit) => S::PendingReview,
        (S::PendingProduction, E::StartProduction) => S::InProduction,
        (S::InProduction, E::FinishProduction) => S::Completed,
        (S::InProduction, E::ProductionFailed) => S::PendingProduction,
        (S::Completed, E::RegistryReject) => S::Rejected,
        (S::Paid | S::PendingReview | S::Rejected, E::RefundConfirmed) => S::Refunded,
        _ => return None,
    };
    Some(to)
}

/// Applies `event` by `actor` to an order in `from`: the new status, or why not.
pub fn transition(
    from: OrderStatus,
    event: OrderEvent,
    actor: Actor,
) -> Result<OrderStatus, InvalidTransition> {
    let refuse = |kind| InvalidTransition {
        from,
        event,
        actor,
        kind,
    };
    if !actor_may(event, actor) {
        return Err(refuse(InvalidTransitionKind::NotAllowedForActor));
    }
    target(from, event).ok_or_else(|| refuse(InvalidTransitionKind::WrongState))
}

/// Whether a refund may be requested: money was taken and nothing was produced yet.
pub const fn refundable(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Paid | OrderStatus::PendingReview | OrderStatus::Rejected
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Actor as A;
    use OrderEvent as E;
    use OrderStatus as S;

    /// DESIGN §4 plus the lead's brief, written out row by row, independently of `transition`.
    const ALLOWED: &[(S, E, A, S)] = &[
        (
            S::PendingPayment,
            E::UpdatePending,
            A::Student,
            S::PendingPayment,
        ),
        (S::PendingPayment, E::Cancel, A::Student, S::Closed),
        (S::PendingPayment, E::Cancel, A::Admin, S::Closed),
        (S::PendingPayment, E::Cancel, A::SchoolAdmin, S::Closed),
        (S::Paid, E::SubmitPhoto, A::SchoolAdmin, S::PendingReview),
        (S::Paid, E::SubmitPhoto, A::Admin, S::PendingReview),
        (S::Rejected, E::Resubmit, A::SchoolAdmin, S::PendingReview),
        (S::Rejected, E::Resubmit, A::Admin, S::PendingReview),
        (S::PendingPayment, E::PaymentTimeout, A::System, S::Closed),
        (
            S::PendingPayment,
            E::PaymentConfirmed,
            A::WeChatPay,
            S::Paid,
        ),
        (S::Paid, E::EnqueueForReview, A::System, S::PendingReview),
        (S::Paid, E::SubmitPhoto, A::Student, S::PendingReview),
        (
            S::PendingReview,
            E::Approve,
            A::Reviewer,
            S::PendingProduction,
        ),
        (
            S::PendingReview,
            E::Approve,
            A::SchoolAdmin,
            S::PendingProduction,
        ),
        (S::PendingReview, E::Approve, A::Admin, S::PendingProduction),
        (S::PendingReview, E::Reject, A::Reviewer, S::Rejected),
        (S::PendingReview, E::Reject, A::SchoolAdmin, S::Rejected),
        (S::PendingReview, E::Reject, A::Admin, S::Rejected),
        (S::PendingReview, E::Withdraw, A::Student, S::Rejected),
        (S::Rejected, E::Resubmit, A::Student, S::PendingReview),
        (
            S::PendingProduction,
            E::StartProduction,
            A::Producer,
            S::InProduction,
        ),
        (
            S::PendingProduction,
            E::StartProduction,
            A::Admin,
            S::InProduction,
        ),
        (
            S::PendingProduction,
            E::StartProduction,
            A::System,
            S::InProduction,
        ),
        (
            S::InProduction,
            E::FinishProduction,
            A::System,
            S::Completed,
        ),
        (
            S::InProduction,
            E::FinishProduction,
            A::Producer,
            S::Completed,
        ),
        (S::InProduction, E::FinishProduction, A::Admin, S::Completed),
        (
            S::InProduction,
            E::ProductionFailed,
            A::System,
            S::PendingProduction,
        ),
        (S::Paid, E::RefundConfirmed, A::WeChatPay, S::Refunded),
        (
            S::PendingReview,
            E::RefundConfirmed,
            A::WeChatPay,
            S::Refunded,
        ),
        (S::Rejected, E::RefundConfirmed, A::WeChatPay, S::Refunded),
        (S::Completed, E::RegistryReject, A::Producer, S::Rejected),
        (S::Completed, E::RegistryReject, A::Admin, S::Rejected),
    ];

    fn expected(from: S, event: E, actor: A) -> Result<S, InvalidTransitionKind> {
        if let Some(&(_, _, _, to)) = ALLOWED
            .iter()
            .find(|&&(f, e, a, _)| (f, e, a) == (from, event, actor))
        {
            return Ok(to);
        }
        // The actor was wrong if this actor appears nowhere in the table for this event.
        if ALLOWED.iter().any(|&(_, e, a, _)| (e, a) == (event, actor)) {
            Err(InvalidTransitionKind::WrongState)
        } else {
            Err(InvalidTransitionKind::NotAllowedForActor)
        }
    }

    #[test]
    fn every_triple_matches_the_table() {
        let mut allowed = 0;
        let mut total = 0;
        for &from in S::ALL {
            for &event in E::ALL {
                for &actor in A::ALL {
                    total += 1;
                    let got = transition(from, event, actor);
                    match expected(from, event, actor) {
                        Ok(to) => {
                            allowed += 1;
                            assert_eq!(got, Ok(to), "{from} {event} {actor}");
                        }
                        Err(kind) => assert_eq!(
                            got,
                            Err(InvalidTransition {
                                from,
                                event,
                                actor,
                                kind
                            }),
                            "{from} {event} {actor}"
                        ),
                    }
                }
            }
        }
        assert_eq!(total, 9 * 15 * 7);
        assert_eq!(allowed, ALLOWED.len());
    }

    #[test]
    fn table_has_no_duplicates_and_covers_every_event() {
        let mut seen = std::collections::HashSet::new();
        for &(f, e, a, _) in ALLOWED {
            assert!(seen.insert((f, e, a)), "duplicate row {f} {e} {a}");
        }
        for &e in E::ALL {
            assert!(ALLOWED.iter().any(|r| r.1 == e), "{e} never allowed");
        }
    }

    #[test]
    fn closed_refunded_and_completed_are_terminal() {
        for from in [S::Closed, S::Refunded, S::Completed] {
            for &event in E::ALL {
                for &actor in A::ALL {
                    // Only the registry's refusal reopens a completed order, for a re-take.
                    let reopened = from == S::Completed
                        && event == E::RegistryReject
                        && matches!(actor, A::Producer | A::Admin);
                    assert_eq!(
                        transition(from, event, actor).is_ok(),
                        reopened,
                        "{from} {event} {actor}"
                    );
                }
            }
        }
    }

    #[test]
    fn happy_path_and_retry() {
        let mut s = INITIAL;
        assert_eq!(s, S::PendingPayment);
        for (event, actor) in [
            (E::UpdatePending, A::Student),
            (E::PaymentConfirmed, A::WeChatPay),
            (E::EnqueueForReview, A::System),
            (E::Withdraw, A::Student),
            (E::Resubmit, A::Student),
            (E::Approve, A::Reviewer),
            (E::StartProduction, A::System),
            (E::ProductionFailed, A::System),
            (E::StartProduction, A::Producer),
            (E::FinishProduction, A::System),
        ] {
            s = transition(s, event, actor).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(s, S::Completed);
    }

    #[test]
    fn wrong_actor_is_reported_before_wrong_state() {
        let err = transition(S::Completed, E::Approve, A::Student);
        assert_eq!(
            err.map_err(|e| e.kind),
            Err(InvalidTransitionKind::NotAllowedForActor)
        );
        let err = transition(S::Completed, E::Approve, A::Reviewer);
        assert_eq!(
            err.map_err(|e| e.kind),
            Err(InvalidTransitionKind::WrongState)
        );
        let msg = transition(S::Paid, E::Cancel, A::Student)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            msg.as_deref(),
            Some("CANCEL by STUDENT is not allowed from PAID (WrongState)")
        );
    }

    #[test]
    fn refundable_states() {
        let want = [S::Paid, S::PendingReview, S::Rejected];
        for &s in S::ALL {
            assert_eq!(refundable(s), want.contains(&s), "{s}");
            // Refundable exactly where the refund notification is accepted.
            assert_eq!(
                refundable(s),
                transition(s, E::RefundConfirmed, A::WeChatPay).is_ok()
            );
        }
    }

    #[test]
    fn open_states() {
        for &s in S::ALL {
            assert_eq!(s.is_open(), !matches!(s, S::Closed | S::Refunded), "{s}");
        }
    }

    #[test]
    fn labels() {
        let labels: Vec<_> = S::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(
            labels,
            [
                "待支付",
                "已支付",
                "待审核",
                "被驳回",
                "待制作",
                "制作中",
                "已完成",
                "订单关闭",
                "已退款"
            ]
        );
        assert_eq!(S::PendingPayment.as_str(), "PENDING_PAYMENT");
        assert_eq!(S::InProduction.as_str(), "IN_PRODUCTION");
    }

    #[test]
    fn texts_round_trip() {
        crate::macros::assert_round_trip(S::ALL, S::as_str);
        crate::macros::assert_round_trip(E::ALL, E::as_str);
        crate::macros::assert_round_trip(A::ALL, A::as_str);
        assert_eq!(E::ProductionFailed.as_str(), "PRODUCTION_FAILED");
        assert_eq!(A::WeChatPay.as_str(), "WECHATPAY");
    }

    #[test]
    fn roles_map_to_actors() {
        for &role in Role::ALL {
            assert_eq!(Actor::from(role).as_str(), role.as_str());
        }
    }
}
