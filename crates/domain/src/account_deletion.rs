//! When a student may delete their account (账号注销): not while an order still needs them
//! (payment, review, production, a refund under way), and not before a completed photo has
//! been reported to the registry — the agency owes the school that report.
use crate::order::OrderStatus;

/// What the rule needs to know of each of the student's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFacts {
    pub status: OrderStatus,
    pub refund_pending: bool,
    /// Included in a registry export.
    pub reported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// An order is being paid, reviewed, produced or refunded.
    OrderInProgress,
    /// A completed photo has not been reported to the registry yet.
    NotYetReported,
}

impl Blocker {
    pub const fn code(self) -> &'static str {
        match self {
            Self::OrderInProgress => "ORDER_IN_PROGRESS",
            Self::NotYetReported => "NOT_YET_REPORTED",
        }
    }

    pub const fn message(self) -> &'static str {
        match self {
            Self::OrderInProgress => {
                "还有进行中的订单（待支付、审核、制作或退款中），完成或关闭后才能注销账号"
            }
            Self::NotYetReported => "照片尚未报送学信网，报送完成后才能注销账号",
        }
    }
}

/// The first reason the account cannot be deleted, or None when it can.
pub fn blocker(orders: impl IntoIterator<Item = OrderFacts>) -> Option<Blocker> {
    let mut found = None;
    for o in orders {
        let settled = matches!(
            o.status,
            OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Refunded
        );
        if !settled || o.refund_pending {
            return Some(Blocker::OrderInProgress);
        }
        if o.status == OrderStatus::Completed && !o.reported {
            found = Some(Blocker::NotYetReported);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: OrderStatus) -> OrderFacts {
        OrderFacts {
            status,
            refund_pending: false,
            reported: false,
        }
    }

    #[test]
    fn no_orders_or_only_settled_ones_allow_deletion() {
        assert_eq!(blocker([]), None);
        assert_eq!(
            blocker([facts(OrderStatus::Closed), facts(OrderStatus::Refunded)]),
            None
        );
        let reported = OrderFacts {
            reported: true,
            ..facts(OrderStatus::Completed)
        };
        assert_eq!(blocker([reported]), None);
    }

    #[test]
    fn every_unsettled_status_blocks() {
        for status in [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::PendingReview,
            OrderStatus::Rejected,
            OrderStatus::PendingProduction,
            OrderStatus::InProduction,
        ] {
            assert_eq!(
                blocker([facts(status)]),
                Some(Blocker::OrderInProgress),
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_refund_under_way_blocks_and_an_unreported_photo_blocks() {
        let refunding = OrderFacts {
            refund_pending: true,
            ..facts(OrderStatus::Closed)
        };
        assert_eq!(blocker([refunding]), Some(Blocker::OrderInProgress));
        assert_eq!(
            blocker([facts(OrderStatus::Completed)]),
            Some(Blocker::NotYetReported)
        );
        // An order in progress is the reason given even after an unreported one.
        assert_eq!(
            blocker([facts(OrderStatus::Completed), facts(OrderStatus::Paid)]),
            Some(Blocker::OrderInProgress)
        );
    }
}
