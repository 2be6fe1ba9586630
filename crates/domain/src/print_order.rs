//! 加洗照片: paper prints of a completed photo. Their own small state machine, the shipping
//! address rules, the carriers WeChat's shipping-info upload knows, and the print order number.
//! Pure: the services call these before every change.

use crate::{names, order::Actor, phone};

string_enum! {
    /// Where a print order is in its life.
    pub enum PrintOrderStatus: "print order status" {
        PendingPayment => "PENDING_PAYMENT",
        Paid => "PAID",
        Shipped => "SHIPPED",
        Completed => "COMPLETED",
        Closed => "CLOSED",
        Refunded => "REFUNDED",
    }
}

impl PrintOrderStatus {
    pub const fn label(self) -> &'static str {
        match self {
            Self::PendingPayment => "待支付",
            Self::Paid => "已支付",
            Self::Shipped => "已发货",
            Self::Completed => "已完成",
            Self::Closed => "订单关闭",
            Self::Refunded => "已退款",
        }
    }

    /// Still being paid, made or delivered: an account with one cannot be deleted.
    pub const fn is_in_progress(self) -> bool {
        matches!(self, Self::PendingPayment | Self::Paid | Self::Shipped)
    }
}

string_enum! {
    /// What asks a print order to change. The texts are also the audit-trail event names on the
    /// photo order the prints belong to, hence the `PRINT_` prefix.
    pub enum PrintEvent: "print order event" {
        /// `createPrintOrder` (not a transition: the row is created in PENDING_PAYMENT).
        Create => "PRINT_CREATED",
        Cancel => "PRINT_CANCEL",
        PaymentTimeout => "PRINT_PAYMENT_TIMEOUT",
        PaymentConfirmed => "PRINT_PAYMENT_CONFIRMED",
        /// `markPrintOrderShipped`: carrier and tracking number entered by staff.
        Ship => "PRINT_SHIPPED",
        /// The student confirms receipt, or the sweeper does after the delivery window.
        ConfirmReceipt => "PRINT_RECEIVED",
        RefundRequested => "PRINT_REFUND_REQUESTED",
        RefundConfirmed => "PRINT_REFUND_CONFIRMED",
        RefundFailed => "PRINT_REFUND_FAILED",
        /// Money arrived after the print order closed; it is refunded.
        PaidAfterClose => "PRINT_PAID_AFTER_CLOSE",
    }
}

/// The status `event` by `actor` leads to, or None when it is not allowed (API: INVALID_STATE).
/// Events that only record something (requests, failures) keep the status.
pub fn transition(
    from: PrintOrderStatus,
    event: PrintEvent,
    actor: Actor,
) -> Option<PrintOrderStatus> {
    use Actor as A;
    use PrintEvent as E;
    use PrintOrderStatus as S;
    let actor_ok = match event {
        E::Create | E::RefundRequested => matches!(actor, A::Student | A::Admin),
        E::Cancel => matches!(actor, A::Student | A::Admin),
        E::PaymentTimeout => actor == A::System,
        E::PaymentConfirmed | E::RefundConfirmed | E::RefundFailed | E::PaidAfterClose => {
            actor == A::WeChatPay
        }
        E::Ship => matches!(actor, A::Producer | A::SchoolAdmin | A::Admin),
        E::ConfirmReceipt => matches!(actor, A::Student | A::System),
    };
    if !actor_ok {
        return None;
    }
    let to = match (from, event) {
        (S::PendingPayment, E::Cancel | E::PaymentTimeout) => S::Closed,
        (S::PendingPayment, E::PaymentConfirmed) => S::Paid,
        (S::Paid, E::Ship) => S::Shipped,
        (S::Shipped, E::ConfirmReceipt) => S::Completed,
        (S::Paid, E::RefundRequested | E::RefundFailed) => S::Paid,
        (S::Paid, E::RefundConfirmed) => S::Refunded,
        // A refund of money that arrived after closing leaves the print order closed.
        (S::Closed, E::PaidAfterClose | E::RefundConfirmed | E::RefundFailed) => S::Closed,
        _ => return None,
    };
    Some(to)
}

/// Prints per order: a sheet or two is the usual, a class set the most anyone asks for.
pub const MAX_QUANTITY: i32 = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintInputError {
    #[error("数量应为 1-{MAX_QUANTITY}")]
    Quantity,
    #[error("金额超出范围")]
    Amount,
}

/// The price of `quantity` sheets at `unit_fen` each.
pub fn amount_fen(unit_fen: i64, quantity: i32) -> Result<i64, PrintInputError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(PrintInputError::Quantity);
    }
    unit_fen
        .checked_mul(i64::from(quantity))
        .filter(|a| *a > 0)
        .ok_or(PrintInputError::Amount)
}

/// `<order number>-P<n>` for the n-th print order of a photo order; WeChat Pay's out_trade_no
/// (6–32 characters of `[A-Za-z0-9_-|*]`: a 24-character order number leaves room for 999).
pub fn number(order_number: &str, nth: u64) -> String {
    format!("{order_number}-P{nth}")
}

/// A shipping address as the student typed it, before validation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
}

/// Which field of an address is wrong, and what to tell the student.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AddressError {
    /// The input field name as the API spells it (`address.phone`, …).
    pub field: &'static str,
    pub message: &'static str,
}

fn region(value: &str, field: &'static str, message: &'static str) -> Result<String, AddressError> {
    let v = value.trim();
    let n = v.chars().count();
    if (2..=20).contains(&n) && v.chars().all(|c| c.is_alphanumeric() || c == '·') {
        Ok(v.to_string())
    } else {
        Err(AddressError { field, message })
    }
}

impl Address {
    /// Trims every part and checks it: a real name, a mainland mobile number, province, city and
    /// district of 2–20 letters, a detail of 4–120 characters without control characters.
    pub fn validated(&self) -> Result<Address, AddressError> {
        let name = names::normalise_name(&self.name).map_err(|_| AddressError {
            field: "address.name",
            message: "收件人姓名需为 2-30 个汉字或字母",
        })?;
        let phone = phone::normalise_mobile(&self.phone).map_err(|_| AddressError {
            field: "address.phone",
            message: "收件人手机号应为 11 位中国大陆手机号码",
        })?;
        let province = region(&self.province, "address.province", "请选择省份")?;
        let city = region(&self.city, "address.city", "请选择城市")?;
        let district = region(&self.district, "address.district", "请选择区县")?;
        let detail = self.detail.trim();
        let n = detail.chars().count();
        if !(4..=120).contains(&n) || detail.chars().any(char::is_control) {
            return Err(AddressError {
                field: "address.detail",
                message: "详细地址需为 4-120 个字",
            });
        }
        Ok(Address {
            name,
            phone,
            province,
            city,
            district,
            detail: detail.to_string(),
        })
    }

    /// The form shown in lists: 张*三, 138****8000, and the detail cut to its first few
    /// characters (enough to tell two addresses apart, not enough to find a door).
    pub fn masked(&self) -> Address {
        let visible: String = self.detail.chars().take(4).collect();
        Address {
            name: names::mask_name(&self.name),
            phone: phone::mask(&self.phone),
            province: self.province.clone(),
            city: self.city.clone(),
            district: self.district.clone(),
            detail: format!("{visible}****"),
        }
    }
}

/// Carriers as WeChat's shipping-info upload names them (`express_company`, the delivery_id of
/// 物流查询), with the name staff see. Staff may type either.
pub const CARRIERS: &[(&str, &str)] = &[
    ("SF", "顺丰速运"),
    ("EMS", "中国邮政速递物流"),
    ("ZTO", "中通快递"),
    ("YTO", "圆通速递"),
    ("STO", "申通快递"),
    ("YD", "韵达快递"),
    ("JTSD", "极兔速递"),
    ("JD", "京东物流"),
    ("DBL", "德邦快递"),
];

/// The carrier's code for a code or name staff typed.
pub fn carrier_code(input: &str) -> Option<&'static str> {
    let t = input.trim();
    CARRIERS
        .iter()
        .find(|(code, name)| code.eq_ignore_ascii_case(t) || *name == t)
        .map(|(code, _)| *code)
}

pub fn carrier_name(code: &str) -> Option<&'static str> {
    CARRIERS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Tracking numbers are 8–32 letters and digits (upper-cased).
pub fn tracking_number(input: &str) -> Option<String> {
    let t = input.trim().to_ascii_uppercase();
    ((8..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrintOrderStatus as S;

    fn address() -> Address {
        Address {
            name: " 张小三 ".into(),
            phone: "+86 13800138000".into(),
            province: "北京市".into(),
            city: "北京市".into(),
            district: "海淀区".into(),
            detail: "新街口外大街19号 学生宿舍1号楼".into(),
        }
    }

    #[test]
    fn the_happy_path_and_its_actors() {
        let paid = transition(
            S::PendingPayment,
            PrintEvent::PaymentConfirmed,
            Actor::WeChatPay,
        );
        assert_eq!(paid, Some(S::Paid));
        assert_eq!(
            transition(S::Paid, PrintEvent::Ship, Actor::Producer),
            Some(S::Shipped)
        );
        assert_eq!(
            transition(S::Shipped, PrintEvent::ConfirmReceipt, Actor::Student),
            Some(S::Completed)
        );
        assert_eq!(
            transition(S::Shipped, PrintEvent::ConfirmReceipt, Actor::System),
            Some(S::Completed)
        );
    }

    #[test]
    fn refusals() {
        // Students never pay by saying so, nor ship.
        assert_eq!(
            transition(
                S::PendingPayment,
                PrintEvent::PaymentConfirmed,
                Actor::Student
            ),
            None
        );
        assert_eq!(transition(S::Paid, PrintEvent::Ship, Actor::Student), None);
        assert_eq!(transition(S::Paid, PrintEvent::Ship, Actor::Reviewer), None);
        // Unpaid prints cannot ship; shipped prints cannot be refunded or cancelled.
        assert_eq!(
            transition(S::PendingPayment, PrintEvent::Ship, Actor::Admin),
            None
        );
        assert_eq!(
            transition(S::Shipped, PrintEvent::RefundRequested, Actor::Student),
            None
        );
        assert_eq!(
            transition(S::Paid, PrintEvent::Cancel, Actor::Student),
            None
        );
        // Every status is reachable only as the table says; terminal ones go nowhere.
        for event in PrintEvent::ALL {
            for actor in Actor::ALL {
                assert_eq!(transition(S::Completed, *event, *actor), None);
                assert_eq!(transition(S::Refunded, *event, *actor), None);
            }
        }
    }

    #[test]
    fn quantity_and_amount() {
        assert_eq!(amount_fen(500, 2), Ok(1000));
        assert_eq!(amount_fen(500, 0), Err(PrintInputError::Quantity));
        assert_eq!(
            amount_fen(500, MAX_QUANTITY + 1),
            Err(PrintInputError::Quantity)
        );
        assert_eq!(amount_fen(i64::MAX, 2), Err(PrintInputError::Amount));
        assert_eq!(amount_fen(0, 2), Err(PrintInputError::Amount));
    }

    #[test]
    fn addresses_are_trimmed_and_checked() {
        let ok = address().validated().expect("valid");
        assert_eq!(ok.name, "张小三");
        assert_eq!(ok.phone, "13800138000");
        let bad_phone = Address {
            phone: "1234".into(),
            ..address()
        };
        assert_eq!(bad_phone.validated().unwrap_err().field, "address.phone");
        let short = Address {
            detail: "1号".into(),
            ..address()
        };
        assert_eq!(short.validated().unwrap_err().field, "address.detail");
        let control = Address {
            detail: "新街口外大街\u{7}19号".into(),
            ..address()
        };
        assert_eq!(control.validated().unwrap_err().field, "address.detail");
        let no_district = Address {
            district: " ".into(),
            ..address()
        };
        assert_eq!(
            no_district.validated().unwrap_err().field,
            "address.district"
        );
        let bad_name = Address {
            name: "X".into(),
            ..address()
        };
        assert_eq!(bad_name.validated().unwrap_err().field, "address.name");
    }

    #[test]
    fn masked_addresses_hide_the_door() {
        let m = address().validated().expect("valid").masked();
        assert_eq!(m.name, "张*三");
        assert_eq!(m.phone, "138****8000");
        assert_eq!(m.detail, "新街口外****");
        assert_eq!(m.district, "海淀区");
    }

    #[test]
    fn carriers_and_tracking_numbers() {
        assert_eq!(carrier_code("sf"), Some("SF"));
        assert_eq!(carrier_code("中通快递"), Some("ZTO"));
        assert_eq!(carrier_code("飞鸽传书"), None);
        assert_eq!(carrier_name("JD"), Some("京东物流"));
        assert_eq!(
            tracking_number(" sf1234567890 ").as_deref(),
            Some("SF1234567890")
        );
        assert_eq!(tracking_number("12-34"), None);
        assert_eq!(tracking_number("1234567"), None);
    }

    #[test]
    fn numbers_fit_wechat_out_trade_no() {
        let n = number("000015-20240220115644602", 3);
        assert_eq!(n, "000015-20240220115644602-P3");
        assert!(n.len() <= 32);
        assert!(number("000015-20240220115644602", 999).len() <= 32);
    }
}
