fn main() {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[1]).unwrap();
    let out = &a[2];
    if a.len() > 6 {
        let (x, y, w, h): (u32, u32, u32, u32) = (a[3].parse().unwrap(), a[4].parse().unwrap(), a[5].parse().unwrap(), a[6].parse().unwrap());
        img.crop_imm(x, y, w, h).save(out).unwrap();
    } else {
        let m: u32 = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(800);
        img.thumbnail(m, m).save(out).unwrap();
    }
}
