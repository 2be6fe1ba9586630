use async_graphql::{Context, ID, Object, SimpleObject};
use campus_photo_domain::{order::OrderStatus, records::BatchState};
use chrono::{DateTime, Utc};

use crate::{
    entities::{production_batch, registry_export},
    graphql::context::ContextExt,
    ids::NodeType,
    storage::links::signed_download_url,
};

/// 制作批次: renders the standard photos of its orders in the background.
pub struct ProductionBatch(pub production_batch::Model);

#[Object]
impl ProductionBatch {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::ProductionBatch, self.0.id))
    }

    async fn total(&self) -> i32 {
        self.0.total
    }

    /// Orders completed.
    async fn done(&self) -> i32 {
        self.0.done
    }

    /// Orders that could not be rendered; they are back in PENDING_PRODUCTION for a retry.
    async fn failed(&self) -> i32 {
        self.0.failed
    }

    async fn finished(&self) -> bool {
        self.0.state == BatchState::Finished
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// 报送包: a ZIP of standard photos and manifest.csv for the registry (学信网).
pub struct RegistryExport(pub registry_export::Model);

/// What an export is for.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RegistryExportPurpose {
    /// 报至学信网.
    Registry,
    /// 学校下载: a school admin's copy of its own photos.
    SchoolDownload,
}

#[Object]
impl RegistryExport {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::RegistryExport, self.0.id))
    }

    /// Students in the package.
    async fn count(&self) -> i32 {
        self.0.count
    }

    /// REGISTRY: reported to 学信网, its orders marked exported and awaiting the registry's answer
    /// (`importRegistryResult`). SCHOOL_DOWNLOAD: a school admin's copy of its own photos, which
    /// marks nothing.
    async fn purpose(&self) -> RegistryExportPurpose {
        if self.0.purpose == crate::services::registry_export::SCHOOL_DOWNLOAD {
            RegistryExportPurpose::SchoolDownload
        } else {
            RegistryExportPurpose::Registry
        }
    }

    /// Signed, expiring download link of the ZIP.
    async fn url(&self, ctx: &Context<'_>) -> String {
        signed_download_url(
            ctx.state(),
            &self.0.object_key,
            &format!(
                "学信网导出-{}.zip",
                self.0.created_at.format("%Y%m%d-%H%M%SZ")
            ),
        )
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Counts of a school's (or all visible) orders per stage, for dashboards.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub school_code: Option<String>,
    pub pending_payment: i32,
    pub pending_review: i32,
    /// PENDING_REVIEW orders under a live reviewer claim.
    pub claimed: i32,
    pub rejected: i32,
    pub pending_production: i32,
    pub in_production: i32,
    pub completed: i32,
    pub at: DateTime<Utc>,
}

impl QueueStats {
    pub fn from_counts(
        school_code: Option<String>,
        counts: &crate::services::review::Counts,
        at: DateTime<Utc>,
    ) -> Self {
        let n = |s: OrderStatus| {
            counts
                .by_status
                .get(&s)
                .map_or(0, |v| i32::try_from(*v).unwrap_or(i32::MAX))
        };
        Self {
            school_code,
            pending_payment: n(OrderStatus::PendingPayment),
            pending_review: n(OrderStatus::PendingReview),
            claimed: i32::try_from(counts.claimed).unwrap_or(i32::MAX),
            rejected: n(OrderStatus::Rejected),
            pending_production: n(OrderStatus::PendingProduction),
            in_production: n(OrderStatus::InProduction),
            completed: n(OrderStatus::Completed),
            at,
        }
    }
}

/// A WeChat subscription message (订阅消息) sent, or tried, to a student.
#[derive(SimpleObject)]
pub struct WeChatMessage {
    pub order_id: ID,
    /// WECHAT, or SANDBOX when nothing was really sent.
    pub provider: String,
    pub template_id: String,
    pub page: String,
    /// The template data as JSON text, e.g. {"phrase2":{"value":"审核驳回"},…}.
    pub data: String,
    /// PENDING, SENT or FAILED.
    pub state: String,
    pub attempts: i32,
    /// WeChat's errcode when it refused (e.g. 43101).
    pub error_code: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
