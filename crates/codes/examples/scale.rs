fn main() {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[1]).unwrap().to_luma8();
    let f: u32 = a[3].parse().unwrap();
    let img = image::imageops::resize(&img, img.width() * f, img.height() * f, image::imageops::FilterType::Nearest);
    img.save(&a[2]).unwrap();
}
