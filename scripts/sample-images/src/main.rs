//! Draws the sample bulletin's images into `content/images/`:
//!
//! - `dawn.jpg`: a dawn over hills and a path, drawn here (1200×800, JPEG
//!   quality 80), with a little grain against banding;
//! - `logo.png`: a simple mark for the made-up "Hope & Justice Trust", a
//!   sun rising over a line in a circle of the sample's brand blue
//!   (#1d4f91), 192×192 with a transparent outside.
//!
//! Both are made for this project and dedicated to the public domain (CC0).
//! Run from the repository's root:
//!     cargo run --release --manifest-path scripts/sample-images/Cargo.toml

use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage, Rgba, RgbaImage};

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

/// A repeatable noise in -1..1, so the picture is the same on every run.
fn grain(x: u32, y: u32) -> f32 {
    let mut h = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263);
    h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
    h ^= h >> 16;
    (h % 2001) as f32 / 1000.0 - 1.0
}

/// The height of a ridge at `x` (0..1 of the width), as 0..1 of the height.
fn ridge(x: f32, base: f32, waves: &[(f32, f32, f32)]) -> f32 {
    base + waves.iter().map(|(amp, freq, phase)| amp * (x * freq + phase).sin()).sum::<f32>()
}

fn dawn() -> RgbImage {
    let (w, h) = (1200u32, 800u32);
    let sun = (0.62 * w as f32, 0.50 * h as f32);
    let far = [(0.04, 5.0, 0.3), (0.015, 17.0, 1.0)];
    let near = [(0.05, 3.1, 2.0), (0.012, 23.0, 0.4)];
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        // Sky: deep blue at the top to warm gold at the horizon.
        let mut c = mix([38.0, 70.0, 128.0], [250.0, 196.0, 120.0], (fy / 0.55).powf(1.4));
        let d = ((x as f32 - sun.0).powi(2) + (y as f32 - sun.1).powi(2)).sqrt();
        c = mix(c, [255.0, 236.0, 190.0], (1.0 - d / 380.0).max(0.0).powi(2) * 0.8);
        if d < 58.0 {
            c = [255.0, 246.0, 220.0];
        }
        if fy > ridge(fx, 0.55, &far) {
            c = mix([92.0, 104.0, 138.0], [70.0, 84.0, 110.0], (fy - 0.5) * 3.0);
        }
        if fy > ridge(fx, 0.68, &near) {
            c = mix([58.0, 92.0, 60.0], [34.0, 58.0, 36.0], (fy - 0.66) * 3.0);
            // A pale path winding towards the sun.
            let centre = 0.62 + (1.0 - fy) * 0.2 * ((fy * 9.0).sin()) - (fy - 0.68) * 0.3;
            let half = 0.004 + (fy - 0.68) * 0.18;
            if (fx - centre).abs() < half {
                c = mix([214.0, 190.0, 150.0], [180.0, 150.0, 110.0], (fy - 0.68) * 3.0);
            }
        }
        let g = grain(x, y) * 2.0;
        Rgb(c.map(|v| (v + g).clamp(0.0, 255.0) as u8))
    })
}

fn logo() -> RgbaImage {
    let size = 192u32;
    let blue = Rgba([0x1d, 0x4f, 0x91, 255]);
    let white = Rgba([255, 255, 255, 255]);
    let r = size as f32 / 2.0;
    RgbaImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - r, y as f32 + 0.5 - r);
        let d = (dx * dx + dy * dy).sqrt();
        // Smooth edge: the outside is transparent.
        let cover = (r - d).clamp(0.0, 1.0);
        if cover == 0.0 {
            return Rgba([0, 0, 0, 0]);
        }
        // The sun: a half disc resting on the horizon line, and three rays.
        let horizon = 18.0;
        let sun = ((dx * dx + (dy - horizon).powi(2)).sqrt() < 42.0) && dy < horizon;
        let line = (dy - horizon - 10.0).abs() < 5.0 && dx.abs() < 62.0;
        let angle = (-(dy - horizon)).atan2(dx);
        let ray_d = (dx * dx + (dy - horizon).powi(2)).sqrt();
        let ray = (54.0..72.0).contains(&ray_d)
            && dy < horizon
            && [30f32, 90.0, 150.0].iter().any(|a| (angle.to_degrees() - a).abs() < 7.0);
        let mut c = if sun || line || ray { white } else { blue };
        c.0[3] = (cover * 255.0) as u8;
        c
    })
}

fn main() {
    let folder = Path::new("content/images");
    std::fs::create_dir_all(folder).expect("cannot make content/images");
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 80).encode_image(&dawn()).expect("cannot encode the photo");
    std::fs::write(folder.join("dawn.jpg"), jpeg).expect("cannot write dawn.jpg");
    logo().save(folder.join("logo.png")).expect("cannot write logo.png");
}
