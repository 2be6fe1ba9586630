//! Debug helper: writes a montage of images as one PNG.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = &args[1];
    let cell = 300u32;
    let paths = &args[2..];
    let cols = 4u32;
    let rows = (paths.len() as u32).div_ceil(cols);
    let mut canvas = image::RgbImage::from_pixel(cols * cell, rows * cell, image::Rgb([255, 255, 255]));
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        if let Ok(p) = campus_photo_imaging::decode_upload(&bytes, &Default::default()) {
            let s = (cell - 4) as f32 / p.width.max(p.height) as f32;
            let img = image::imageops::thumbnail(&p.image, (p.width as f32 * s) as u32, (p.height as f32 * s) as u32);
            image::imageops::replace(&mut canvas, &img, ((i as u32 % cols) * cell) as i64, ((i as u32 / cols) * cell) as i64);
        }
    }
    canvas.save(out).unwrap();
}
