//! Opaque global ids. A row's UUIDv7 is never shown (it carries its creation time): the global id
//! is the UUID encrypted as one AES-256 block under a key derived per type, behind a one-byte
//! type tag. Ids cannot be guessed, and a forged one decrypts to a row that does not exist.
use aes::{
    Aes256,
    cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The node types that have global ids. The tag values are part of every id ever issued:
/// never renumber them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    Account = 1,
    School = 2,
    Project = 3,
    Enrollment = 4,
    Photo = 5,
    Order = 6,
    OrderEvent = 7,
    ProductionBatch = 8,
    RegistryExport = 9,
    PrintOrder = 10,
    SupportTicket = 11,
    /// Not a node: only the cursors of `wechatMessages` carry it.
    WeChatMessage = 12,
    /// Not a node: only the cursors of `auditRecords` carry it.
    AuditRecord = 13,
}

impl NodeType {
    const ALL: [NodeType; 13] = [
        Self::Account,
        Self::School,
        Self::Project,
        Self::Enrollment,
        Self::Photo,
        Self::Order,
        Self::OrderEvent,
        Self::ProductionBatch,
        Self::RegistryExport,
        Self::PrintOrder,
        Self::SupportTicket,
        Self::WeChatMessage,
        Self::AuditRecord,
    ];

    fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == tag)
    }

    /// What a student or staff member reads when an id of this type names nothing they may see.
    pub fn not_found_message(self) -> &'static str {
        match self {
            Self::Account => "找不到该账号",
            Self::School => "找不到该学校",
            Self::Project => "找不到该采集项目",
            Self::Enrollment => "找不到该采集信息",
            Self::Photo => "找不到该照片",
            Self::Order => "找不到该订单",
            Self::OrderEvent => "找不到该订单事件",
            Self::ProductionBatch => "找不到该制作批次",
            Self::RegistryExport => "找不到该报送包",
            Self::PrintOrder => "找不到该加洗订单",
            Self::SupportTicket => "找不到该工单",
            Self::WeChatMessage => "找不到该消息",
            Self::AuditRecord => "找不到该操作记录",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::School => "School",
            Self::Project => "Project",
            Self::Enrollment => "Enrollment",
            Self::Photo => "Photo",
            Self::Order => "Order",
            Self::OrderEvent => "OrderEvent",
            Self::ProductionBatch => "ProductionBatch",
            Self::RegistryExport => "RegistryExport",
            Self::PrintOrder => "PrintOrder",
            Self::SupportTicket => "SupportTicket",
            Self::WeChatMessage => "WeChatMessage",
            Self::AuditRecord => "AuditRecord",
        }
    }
}

/// Encodes and decodes global ids with the service secret.
#[derive(Clone)]
pub struct GlobalIds {
    ciphers: Vec<(NodeType, Aes256)>,
}

impl GlobalIds {
    pub fn new(master_key: &[u8; 32]) -> Self {
        let ciphers = NodeType::ALL
            .into_iter()
            .map(|t| {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master_key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
                mac.update(b"campus-photo/global-id/v1/");
                mac.update(t.name().as_bytes());
                let key = mac.finalize().into_bytes();
                (t, Aes256::new(&key))
            })
            .collect();
        Self { ciphers }
    }

    fn cipher(&self, t: NodeType) -> &Aes256 {
        // ALL and ciphers are built from the same list, so every type is present.
        &self
            .ciphers
            .iter()
            .find(|(k, _)| *k == t)
            .unwrap_or_else(|| unreachable!("cipher for every node type"))
            .1
    }

    pub fn encode(&self, t: NodeType, id: Uuid) -> String {
        let mut block = GenericArray::clone_from_slice(id.as_bytes());
        self.cipher(t).encrypt_block(&mut block);
        let mut bytes = Vec::with_capacity(17);
        bytes.push(t as u8);
        bytes.extend_from_slice(&block);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The type and row id behind a global id, or None for anything malformed.
    pub fn decode(&self, global_id: &str) -> Option<(NodeType, Uuid)> {
        let bytes = URL_SAFE_NO_PAD.decode(global_id.trim()).ok()?;
        let (&tag, rest) = bytes.split_first()?;
        if rest.len() != 16 {
            return None;
        }
        let t = NodeType::from_tag(tag)?;
        let mut block = GenericArray::clone_from_slice(rest);
        self.cipher(t).decrypt_block(&mut block);
        Some((t, Uuid::from_slice(&block).ok()?))
    }

    /// Decodes an id that must be of type `t`.
    pub fn decode_as(&self, t: NodeType, global_id: &str) -> Option<Uuid> {
        self.decode(global_id)
            .filter(|(k, _)| *k == t)
            .map(|(_, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_opacity() {
        let ids = GlobalIds::new(&[3; 32]);
        let row = Uuid::now_v7();
        let gid = ids.encode(NodeType::Order, row);
        assert_eq!(ids.decode(&gid), Some((NodeType::Order, row)));
        assert!(!gid.contains(&row.simple().to_string()[..8]));
        // The same row under another type gives an unrelated id.
        assert_ne!(ids.encode(NodeType::Photo, row)[1..], gid[1..]);
        assert_eq!(ids.decode_as(NodeType::Photo, &gid), None);
    }

    #[test]
    fn another_key_does_not_decode_to_the_row() {
        let row = Uuid::now_v7();
        let gid = GlobalIds::new(&[1; 32]).encode(NodeType::School, row);
        let other = GlobalIds::new(&[2; 32]).decode(&gid);
        assert_ne!(other.map(|(_, id)| id), Some(row));
    }

    #[test]
    fn malformed_ids_are_refused() {
        let ids = GlobalIds::new(&[3; 32]);
        for bad in [
            "",
            "!!",
            "AAAA",
            &URL_SAFE_NO_PAD.encode([99u8; 17]),
            &URL_SAFE_NO_PAD.encode([1u8; 18]),
        ] {
            assert_eq!(ids.decode(bad), None, "{bad}");
        }
    }
}
