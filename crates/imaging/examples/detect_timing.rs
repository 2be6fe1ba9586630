//! Debug helper: rustface timing at several working widths.
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = rustface::read_model(std::io::Cursor::new(std::fs::read("crates/imaging/model/seeta_fd_frontal_v1.0.bin").unwrap())).unwrap();
    for path in &args[1..] {
        let bytes = std::fs::read(path).unwrap();
        let t = Instant::now();
        let p = campus_photo_imaging::decode_upload(&bytes, &Default::default()).unwrap();
        println!("{path} decode {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let gray = image::DynamicImage::ImageRgb8(p.image.clone()).into_luma8();
        for w in [120u32, 160, 200, 240, 320] {
            let h = w * p.height / p.width;
            let small = image::imageops::resize(&gray, w, h, image::imageops::FilterType::Triangle);
            for step in [4u32, 6, 8] {
            for factor in [0.8f32, 0.7, 0.6] {
                let mut det = rustface::create_detector_with_model(model.clone());
                det.set_score_thresh(2.0);
                det.set_slide_window_step(step, step);
                det.set_pyramid_scale_factor(factor);
                let mut faces = Vec::new(); let t = Instant::now(); for _ in 0..3 { faces = det.detect(&rustface::ImageData::new(small.as_raw(), w, h)); }
                let faces2 = det.detect(&rustface::ImageData::new(small.as_raw(), w, h));
                let ms = t.elapsed().as_secs_f64() * 1e3 / 3.0; drop(faces2);
                let desc: Vec<String> = faces.iter().map(|f| { let b = f.bbox(); format!("[{} {} {}x{} s{:.1}]", b.x(), b.y(), b.width(), b.height(), f.score()) }).collect();
                println!("  w{w} step{step} f{factor}: {ms:.1} ms {}", desc.join(" "));
            }}
        }
    }
}
