fn main() {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[1]).unwrap();
    let (x, y, w, h): (u32, u32, u32, u32) = (a[3].parse().unwrap(), a[4].parse().unwrap(), a[5].parse().unwrap(), a[6].parse().unwrap());
    let r: usize = a[7].parse().unwrap();
    let bias: u8 = a[8].parse().unwrap();
    let up: usize = a[9].parse().unwrap();
    let img = img.crop_imm(x, y, w, h);
    campus_photo_codes::qr_read::__debug_binarize(&img, r, bias, up).save(&a[2]).unwrap();
}
