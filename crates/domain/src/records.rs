//! The states of the service's own records beside the orders: payments and refunds at WeChat Pay,
//! photos after the automatic check, production batches and their items, outbound messages.
//! Each is a column of its table; the texts are what the database holds.

string_enum! {
    /// A WeChat Pay transaction as this service knows it.
    pub enum PaymentState: "payment state" {
        /// Opened at WeChat (a prepay_id exists), not paid.
        Created => "CREATED",
        /// A verified notification or query said it was paid.
        Success => "SUCCESS",
        /// Closed at WeChat with its order; it can no longer be paid.
        Closed => "CLOSED",
        /// Paid, then refunded in full.
        Refunded => "REFUNDED",
    }
}

string_enum! {
    /// A refund of a whole payment.
    pub enum RefundState: "refund state" {
        /// Written, sent (or to be sent) to WeChat, outcome unknown.
        Processing => "PROCESSING",
        Success => "SUCCESS",
        /// WeChat refused it or reported it failed; the order may be refunded again.
        Failed => "FAILED",
    }
}

string_enum! {
    /// Outcome of the automatic preliminary check (初审) of a photo.
    pub enum Verdict: "photo verdict" {
        Passed => "PASSED",
        Failed => "FAILED",
    }
}

string_enum! {
    /// A production batch: running while an instance holds its lease, then finished.
    pub enum BatchState: "production batch state" {
        Running => "RUNNING",
        Finished => "FINISHED",
    }
}

string_enum! {
    /// One order's standard photo within a batch.
    pub enum ItemState: "production item state" {
        Pending => "PENDING",
        Done => "DONE",
        Failed => "FAILED",
    }
}

string_enum! {
    /// A subscription message to a student.
    pub enum MessageState: "outbound message state" {
        Pending => "PENDING",
        Sent => "SENT",
        Failed => "FAILED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::macros::assert_round_trip;

    #[test]
    fn texts_round_trip() {
        assert_round_trip(PaymentState::ALL, PaymentState::as_str);
        assert_round_trip(RefundState::ALL, RefundState::as_str);
        assert_round_trip(Verdict::ALL, Verdict::as_str);
        assert_round_trip(BatchState::ALL, BatchState::as_str);
        assert_round_trip(ItemState::ALL, ItemState::as_str);
        assert_round_trip(MessageState::ALL, MessageState::as_str);
    }
}
