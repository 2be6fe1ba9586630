//! Decode the QR code in image files: `read_file <path>...`
use std::time::{Duration, Instant};

fn main() {
    for path in std::env::args().skip(1) {
        let img = match image::open(&path) {
            Ok(i) => i,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let (result, stats) =
            campus_photo_codes::qr_read::read_qr_with_stats(&img, Duration::from_secs(10));
        println!(
            "{path}: {:?} {:?} in {:?}",
            result.map(|t| t.chars().take(40).collect::<String>()),
            stats,
            t.elapsed()
        );
    }
}
