//! Collection codes (图像采集码), DESIGN.md §5.
//!
//! Two jobs, both pure (no I/O, no async) so the server, the CLI and the tests
//! share one implementation:
//! - [`token`]: the signed `CQ1.<claims>.<signature>` token: minting, key
//!   configuration and verification;
//! - [`qr_read`]: finding and decoding the QR code that carries it in a phone
//!   photo or screenshot, plus [`render_qr_png`] for demo codes.

pub mod qr_read;
pub mod render;
pub mod token;

pub use qr_read::{QrReadError, ReadStats, read_qr, read_qr_with_stats};
pub use render::{RenderError, render_qr_png};
pub use token::{
    Claims, CodeError, DEV_ISSUER, DEV_KID, DEV_SEED, KeyRing, KeyRingError, dev_keyring_entry,
    dev_signing_key, id_tail_matches, masked_id_tail, mint,
};
