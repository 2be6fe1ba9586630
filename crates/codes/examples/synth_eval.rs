//! Stress evaluation of `read_qr` on synthetic phone photos nobody tuned
//! for: a freshly minted CQ1 code rendered at a random size, rotation,
//! perspective, blur, noise, glare, contrast and JPEG quality, placed on a
//! random background. Prints the success rate overall and per condition.
//!
//! `cargo run --release -p campus-photo-codes --example synth_eval -- [count] [seed]`

use std::time::{Duration, Instant};

use campus_photo_codes::qr_read::read_qr_with_stats;
use campus_photo_codes::{Claims, mint};
use ed25519_dalek::SigningKey;
use image::{DynamicImage, GrayImage, Luma};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Scene {
    module_px: f64,
    blur: f64,
    tilt: f64,
    noise: f64,
    contrast: f64,
    glare: f64,
    jpeg_q: u8,
    big: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let budget = Duration::from_millis(
        std::env::var("QR_SYNTH_BUDGET_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5000),
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let mut results: Vec<(Scene, bool, f64)> = Vec::new();
    for i in 0..count {
        let claims = random_claims(&mut rng);
        let text = mint(&claims, &key);
        let (img, scene) = render_scene(&text, &mut rng);
        let t = Instant::now();
        let (got, stats) = read_qr_with_stats(&img, budget);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let ok = got.as_deref() == Ok(text.as_str());
        println!(
            "{i:3} {} module={:.1}px blur={:.2} tilt={:.2} noise={:.1} contrast={:.2} glare={:.2} q={} big={} {:.0}ms {}",
            if ok { "ok  " } else { "FAIL" },
            scene.module_px,
            scene.blur,
            scene.tilt,
            scene.noise,
            scene.contrast,
            scene.glare,
            scene.jpeg_q,
            scene.big,
            ms,
            if ok {
                String::new()
            } else {
                format!("({} unreadable symbols)", stats.undecoded_grids)
            }
        );
        if std::env::var("QR_SYNTH_SAVE").is_ok() && !ok {
            let _ = img.save(format!("/tmp/qrv/synth_{i}.jpg"));
        }
        results.push((scene, ok, ms));
    }
    let total_ok = results.iter().filter(|r| r.1).count();
    println!("\noverall {total_ok}/{}", results.len());
    bucket(
        &results,
        "module px",
        |s| s.module_px,
        &[0.0, 3.5, 4.5, 6.0, 9.0, 100.0],
    );
    bucket(
        &results,
        "blur sigma",
        |s| s.blur,
        &[0.0, 0.75, 1.5, 2.0, 3.0],
    );
    bucket(
        &results,
        "blur/module",
        |s| s.blur / s.module_px,
        &[0.0, 0.2, 0.35, 0.5, 1.0],
    );
    bucket(&results, "tilt", |s| s.tilt, &[0.0, 0.05, 0.1, 0.2]);
    bucket(&results, "contrast", |s| s.contrast, &[0.0, 0.3, 0.5, 1.01]);
    bucket(&results, "glare", |s| s.glare, &[0.0, 0.01, 0.5, 1.01]);
    let mut times: Vec<f64> = results.iter().filter(|r| r.1).map(|r| r.2).collect();
    times.sort_by(f64::total_cmp);
    if !times.is_empty() {
        println!(
            "time of successes: median {:.0} ms, p90 {:.0} ms, max {:.0} ms",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            times[times.len() - 1]
        );
    }
}

fn bucket(results: &[(Scene, bool, f64)], name: &str, f: impl Fn(&Scene) -> f64, edges: &[f64]) {
    let mut line = format!("{name:>12}:");
    for w in edges.windows(2) {
        let inside: Vec<_> = results
            .iter()
            .filter(|r| f(&r.0) >= w[0] && f(&r.0) < w[1])
            .collect();
        if inside.is_empty() {
            continue;
        }
        let ok = inside.iter().filter(|r| r.1).count();
        line += &format!("  [{:.2},{:.2}) {ok}/{}", w[0], w[1], inside.len());
    }
    println!("{line}");
}

fn random_claims(rng: &mut StdRng) -> Claims {
    let sid: String = (0..16)
        .map(|_| format!("{:x}", rng.gen_range(0..16)))
        .collect();
    Claims {
        v: 1,
        iss: "chsi-fixture".into(),
        kid: "f1".into(),
        sid: format!("S{sid}"),
        nm: "张*三".into(),
        idm: format!("110101********{:03}X", rng.gen_range(0..1000)),
        sch: "10027".into(),
        schn: "北京师范大学".into(),
        col: Some("文学院".into()),
        maj: Some("汉语言文学".into()),
        lvl: Some("本科".into()),
        xh: Some(format!("2019{:08}", rng.gen_range(0..100_000_000u32))),
        gy: Some(2027),
        iat: 1_795_300_515,
        exp: 1_889_994_915,
    }
}

/// 3×3 projective matrix, row-major.
type Mat = [f64; 9];

fn square_to_quad(q: &[(f64, f64); 4]) -> Mat {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *q;
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let h = (dx1 * sy - sx * dy1) / den;
    [
        x1 - x0 + g * x1,
        x3 - x0 + h * x3,
        x0,
        y1 - y0 + g * y1,
        y3 - y0 + h * y3,
        y0,
        g,
        h,
        1.0,
    ]
}

fn invert(m: &Mat) -> Mat {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        (e * i - f * h) / det,
        (c * h - b * i) / det,
        (b * f - c * e) / det,
        (f * g - d * i) / det,
        (a * i - c * g) / det,
        (c * d - a * f) / det,
        (d * h - e * g) / det,
        (b * g - a * h) / det,
        (a * e - b * d) / det,
    ]
}

fn apply(m: &Mat, x: f64, y: f64) -> (f64, f64) {
    let w = m[6] * x + m[7] * y + m[8];
    (
        (m[0] * x + m[1] * y + m[2]) / w,
        (m[3] * x + m[4] * y + m[5]) / w,
    )
}

fn render_scene(text: &str, rng: &mut StdRng) -> (DynamicImage, Scene) {
    let ec = [qrcode::EcLevel::L, qrcode::EcLevel::M, qrcode::EcLevel::Q][rng.gen_range(0..3)];
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), ec).expect("fits");
    let n = code.width();
    let modules = code.to_colors();
    let big = rng.gen_bool(0.5);
    let (w, h) = if big {
        (4000usize, 3000usize)
    } else {
        (1600, 1200)
    };
    let module_px = if big {
        rng.gen_range(3.5..9.0)
    } else {
        rng.gen_range(3.0..8.0)
    };
    let quiet = rng.gen_range(1.0..4.0);
    let side = module_px * n as f64;
    let angle: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
    let tilt = rng.gen_range(0.0..0.15);
    let span = |len: usize, rng: &mut StdRng| {
        let margin = side * 0.8 + 20.0;
        if len as f64 > 2.0 * margin + 1.0 {
            rng.gen_range(margin..len as f64 - margin)
        } else {
            len as f64 / 2.0
        }
    };
    let (cx, cy) = (span(w, rng), span(h, rng));
    // Square corners (code plane includes the quiet zone), rotated, then each
    // corner moved at random: a general perspective.
    let half = (n as f64 / 2.0 + quiet) * module_px;
    let mut quad = [(0.0, 0.0); 4];
    for (k, (ux, uy)) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .iter()
        .enumerate()
    {
        let (x, y) = (ux * half, uy * half);
        let (c, s) = (angle.cos(), angle.sin());
        let jx = rng.gen_range(-tilt..tilt) * half * 2.0;
        let jy = rng.gen_range(-tilt..tilt) * half * 2.0;
        quad[k] = (cx + c * x - s * y + jx, cy + s * x + c * y + jy);
    }
    let to_img = square_to_quad(&quad);
    let to_plane = invert(&to_img);
    let total = n as f64 + 2.0 * quiet;
    let contrast: f64 = rng.gen_range(0.2..1.0);
    let paper = rng.gen_range(170.0..250.0);
    let ink = paper - contrast * (paper - 10.0);
    let bg_a = rng.gen_range(40.0..160.0);
    let bg_b = rng.gen_range(40.0..160.0);
    let noise = rng.gen_range(0.0..8.0);
    let glare = if rng.gen_bool(0.4) {
        rng.gen_range(0.2..1.0)
    } else {
        0.0
    };
    let (gx, gy) = (
        cx + rng.gen_range(-half..half),
        cy + rng.gen_range(-half..half),
    );
    let blur = rng.gen_range(0.0..(module_px * 0.5).min(2.6));
    let jpeg_q = rng.gen_range(40..92);

    let mut px = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let t = (x as f64 / w as f64 + y as f64 / h as f64) / 2.0;
            px[y * w + x] = (bg_a + (bg_b - bg_a) * t) as f32;
        }
    }
    // Code and paper, 3×3 supersampled, over the quad's bounding box.
    let (x0, x1) = quad
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = quad
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let (bx0, bx1) = (
        (x0.floor() as usize).saturating_sub(2),
        ((x1.ceil() as usize) + 2).min(w),
    );
    let (by0, by1) = (
        (y0.floor() as usize).saturating_sub(2),
        ((y1.ceil() as usize) + 2).min(h),
    );
    for y in by0..by1 {
        for x in bx0..bx1 {
            let mut acc = 0.0;
            let mut inside = 0;
            for sy in 0..3 {
                for sx in 0..3 {
                    let (u, v) = apply(
                        &to_plane,
                        x as f64 + (sx as f64 + 0.5) / 3.0 - 0.5,
                        y as f64 + (sy as f64 + 0.5) / 3.0 - 0.5,
                    );
                    if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                        continue;
                    }
                    inside += 1;
                    let (mx, my) = (u * total - quiet, v * total - quiet);
                    let dark = mx >= 0.0
                        && my >= 0.0
                        && (mx as usize) < n
                        && (my as usize) < n
                        && modules[my as usize * n + mx as usize] == qrcode::Color::Dark;
                    acc += if dark { ink } else { paper };
                }
            }
            if inside > 0 {
                let bgv = px[y * w + x] as f64;
                px[y * w + x] = ((acc + bgv * (9 - inside) as f64) / 9.0) as f32;
            }
        }
    }
    // Blur, glare and noise near the code (the rest of the frame is flat).
    let m = (half * 0.6) as usize + 10;
    let (rx0, rx1, ry0, ry1) = (
        bx0.saturating_sub(m),
        (bx1 + m).min(w),
        by0.saturating_sub(m),
        (by1 + m).min(h),
    );
    gaussian(&mut px, w, rx0, rx1, ry0, ry1, blur);
    for y in 0..h {
        for x in 0..w {
            let d2 = ((x as f64 - gx).powi(2) + (y as f64 - gy).powi(2)) / (half * half);
            let g = glare * 120.0 * (-d2 * 1.5).exp();
            let nz: f64 = if noise > 0.0 {
                rng.gen_range(-noise..noise)
            } else {
                0.0
            };
            let v = px[y * w + x] as f64 + g + nz;
            px[y * w + x] = v.clamp(0.0, 255.0) as f32;
        }
    }
    let grey = GrayImage::from_fn(w as u32, h as u32, |x, y| {
        Luma([px[y as usize * w + x as usize] as u8])
    });
    let mut jpeg = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, jpeg_q);
    DynamicImage::ImageLuma8(grey)
        .write_with_encoder(enc)
        .expect("encode");
    let img = image::load_from_memory(&jpeg).expect("decode");
    let scene = Scene {
        module_px,
        blur,
        tilt,
        noise,
        contrast,
        glare,
        jpeg_q,
        big,
    };
    (img, scene)
}

fn gaussian(px: &mut [f32], w: usize, x0: usize, x1: usize, y0: usize, y1: usize, sigma: f64) {
    if sigma < 0.3 {
        return;
    }
    let r = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32)
        .collect();
    let sum: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
    let mut tmp = px.to_vec();
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = 0.0;
            for (k, &kv) in kernel.iter().enumerate() {
                let xx = (x as isize + k as isize - r).clamp(0, w as isize - 1) as usize;
                acc += px[y * w + xx] * kv;
            }
            tmp[y * w + x] = acc;
        }
    }
    let h = px.len() / w;
    for y in y0..y1 {
        for x in x0..x1 {
            let mut acc = 0.0;
            for (k, &kv) in kernel.iter().enumerate() {
                let yy = (y as isize + k as isize - r).clamp(0, h as isize - 1) as usize;
                acc += tmp[yy * w + x] * kv;
            }
            px[y * w + x] = acc;
        }
    }
}
