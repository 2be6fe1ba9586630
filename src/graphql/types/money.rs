use async_graphql::SimpleObject;

/// An amount in CNY.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// 分 (1/100 yuan)
    pub amount_fen: i32,
    /// Always CNY.
    pub currency: String,
    /// e.g. ¥30.00
    pub formatted: String,
}

impl Money {
    pub fn cny(fen: i64) -> Self {
        Self {
            amount_fen: i32::try_from(fen).unwrap_or(i32::MAX),
            currency: "CNY".into(),
            formatted: campus_photo_domain::money::format_fen(fen),
        }
    }
}
