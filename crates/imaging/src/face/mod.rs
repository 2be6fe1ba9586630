//! Finding the face and its landmarks.

pub mod canonical;
pub mod detect;
pub mod eyes;
pub mod sample;

#[cfg(test)]
mod debug_dump {
    use super::*;
    use crate::working::Working;

    #[test]
    #[ignore]
    fn dump() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/photos");
        std::fs::create_dir_all("/tmp/img/canon").ok();
        let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        for path in names {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let Ok(photo) = crate::decode_upload(&bytes, &Default::default()) else { continue };
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let work = Working::new(&photo.image);
            let faces = detect::detect_faces(&work.luma, 2.0);
            let Some(face) = faces.first() else { println!("{name}: no face"); continue };
            let (l, r) = eyes::locate_eyes(&work.luma, face);
            let roll = (r.1 - l.1).atan2(r.0 - l.0).to_degrees();
            println!("{name}: faces {} box {:.0},{:.0} {:.0} s{:.1} eyes ({:.1},{:.1}) ({:.1},{:.1}) ipd {:.1} roll {:.2}",
                faces.len(), face.x, face.y, face.size, face.score, l.0, l.1, r.0, r.1, ((r.0-l.0).powi(2)+(r.1-l.1).powi(2)).sqrt(), roll);
            let c = canonical::Canonical::new(&work.luma, l, r);
            let img = image::GrayImage::from_fn(c.plane.width as u32, c.plane.height as u32, |x, y| image::Luma([c.plane.at(x as usize, y as usize).clamp(0.0, 255.0) as u8]));
            img.save(format!("/tmp/img/canon/{name}.png")).unwrap();
        }
    }
}
