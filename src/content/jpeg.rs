//! A JPEG file read as its segments, without decoding it: whether it can be
//! sent as it is, and the same file without what it says about the people
//! and places in it.
//!
//! A photo that needs no resizing and no turning is sent as it is rather
//! than encoded again, which would only lose detail (and take most of a dry
//! run's time). What it carries besides its pixels goes: EXIF and XMP
//! (`APP1`: where it was taken, the camera's serial number), IPTC
//! (`APP13`: names and captions) and comments. What its colours need stays:
//! the JFIF header (`APP0`), an ICC profile (`APP2`) and Adobe's colour
//! transform (`APP14`). Written by hand because no maintained crate here
//! removes segments without decoding the image: it is a walk over length
//! fields that stops at the first scan.

/// `bytes` without its metadata segments, when it is a JPEG every mail
/// program shows: baseline, extended or progressive Huffman coding, with one
/// (grey) or three (colour) components. `None` for anything else (CMYK,
/// arithmetic coding, a damaged file), which is encoded again instead.
pub fn without_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let rest = bytes.strip_prefix(&[0xFF, 0xD8])?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 0;
    let mut shown = false;
    loop {
        // A marker: 0xFF (any number of them, as fill), then its code.
        if *rest.get(at)? != 0xFF {
            return None;
        }
        while *rest.get(at)? == 0xFF {
            at += 1;
        }
        let code = *rest.get(at)?;
        at += 1;
        let length = usize::from(u16::from_be_bytes([*rest.get(at)?, *rest.get(at + 1)?]));
        let segment = rest.get(at..at + length)?;
        if length < 2 {
            return None;
        }
        match code {
            // Start of frame: Huffman-coded baseline, extended, progressive.
            0xC0..=0xC2 => shown = matches!(segment.get(7), Some(1 | 3)),
            // Any other frame (lossless, arithmetic coding), or a marker
            // that has no business before the scan.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF | 0x01 | 0xD0..=0xD9 => return None,
            _ => {}
        }
        let metadata = matches!(code, 0xE1 | 0xED | 0xFE);
        if !metadata {
            out.push(0xFF);
            out.push(code);
            out.extend_from_slice(segment);
        }
        at += length;
        if code == 0xDA {
            // The scan and everything after it, as it is.
            out.extend_from_slice(&rest[at..]);
            return shown.then_some(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(code: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, code];
        out.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    /// A JPEG made by the image crate, `components` 1 (grey) or 3.
    fn photo(grey: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        if grey {
            image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(40, 30, image::Luma([90])))
                .write_with_encoder(encoder)
                .unwrap();
        } else {
            image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
                image::Rgb([x as u8 * 6, y as u8 * 8, 100])
            }))
            .write_with_encoder(encoder)
            .unwrap();
        }
        out
    }

    /// `jpeg` with `segments` put in after its SOI marker.
    fn with(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        for s in segments {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn exif_xmp_iptc_and_comments_go_and_the_pixels_stay_the_same() {
        let plain = photo(false);
        let tagged = with(
            &plain,
            &[
                segment(0xE1, b"Exif\0\0GPS 51.5N 0.1W"),
                segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Ana Smith</x:xmpmeta>"),
                segment(0xED, b"Photoshop 3.0\0caption: Ana at the well"),
                segment(0xFE, b"taken by Bo"),
            ],
        );
        let kept = without_metadata(&tagged).expect("a plain colour JPEG");
        assert_eq!(kept, plain);
        for secret in ["GPS", "Ana", "Bo"] {
            assert!(!String::from_utf8_lossy(&kept).contains(secret), "{secret}");
        }
        let (a, b) = (image::load_from_memory(&kept).unwrap(), image::load_from_memory(&tagged).unwrap());
        assert_eq!(a.to_rgb8(), b.to_rgb8());
    }

    #[test]
    fn what_the_colours_need_is_kept() {
        let plain = photo(true);
        let profile = segment(0xE2, b"ICC_PROFILE\0\x01\x01profile");
        let adobe = segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        let kept = without_metadata(&with(&plain, &[profile.clone(), adobe.clone()])).unwrap();
        assert_eq!(kept, with(&plain, &[profile, adobe]));
    }

    #[test]
    fn cmyk_arithmetic_coding_and_damaged_files_are_not_kept() {
        let plain = photo(false);
        let sof = plain.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame");
        let mut cmyk = plain.clone();
        cmyk[sof + 9] = 4;
        assert_eq!(without_metadata(&cmyk), None, "four components");
        let mut arithmetic = plain.clone();
        arithmetic[sof + 1] = 0xC9;
        assert_eq!(without_metadata(&arithmetic), None, "arithmetic coding");
        assert_eq!(without_metadata(&plain[..sof + 3]), None, "cut short");
        assert_eq!(without_metadata(b"GIF89a"), None, "not a JPEG");
    }
}
