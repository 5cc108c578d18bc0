//! An image file prepared for email, once per bulletin: decoded, turned
//! upright by its EXIF orientation, resized to at most twice the 600px
//! column, and re-encoded so it is small (JPEG at quality 80). A small file
//! that needs no change is kept as it is: a PNG or GIF (so an animation
//! still moves), or a JPEG without its metadata ([`super::jpeg`]), which
//! encoding again would only blur.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, metadata::Orientation};

/// The width of the email's column, in CSS pixels.
pub const COLUMN_WIDTH: u32 = 600;
/// The widest an image is sent: twice the column, sharp on high-density screens.
pub const MAX_WIDTH: u32 = 2 * COLUMN_WIDTH;
/// A PNG or GIF up to this size that needs no resizing is sent as it is.
pub const SMALL: usize = 200 * 1024;

/// An image ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The encoded file.
    pub bytes: Vec<u8>,
    /// What it is: `jpg`, `png` or `gif`.
    pub extension: &'static str,
    /// Its MIME type, as `image/jpeg`.
    pub mime: &'static str,
    /// Its size in pixels.
    pub width: u32,
    pub height: u32,
}

impl Picture {
    /// The size it is shown at: its own, or narrowed to `widest` (a
    /// 1200px photo shows 600px wide, sharp on high-density screens).
    pub fn display_size(&self, widest: u32) -> (u32, u32) {
        let width = self.width.min(widest);
        let height = (u64::from(self.height) * u64::from(width) / u64::from(self.width.max(1))).max(1);
        (width, u32::try_from(height).unwrap_or(u32::MAX))
    }
}

/// Why an image file could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("not a JPEG, PNG or GIF image")]
    UnknownFormat,
    #[error("cannot decode it: {0}")]
    Decode(image::ImageError),
    #[error("cannot encode it: {0}")]
    Encode(image::ImageError),
}

/// Prepares the image file `bytes` for email.
pub fn prepare(bytes: &[u8]) -> Result<Picture, PictureError> {
    let format = image::guess_format(bytes).map_err(|_| PictureError::UnknownFormat)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif) {
        return Err(PictureError::UnknownFormat);
    }
    let reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder = reader.into_decoder().map_err(PictureError::Decode)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(PictureError::Decode)?;
    let unchanged = orientation == Orientation::NoTransforms && image.width() <= MAX_WIDTH;
    if unchanged && bytes.len() <= SMALL && format != ImageFormat::Jpeg {
        let (extension, mime) =
            if format == ImageFormat::Png { ("png", "image/png") } else { ("gif", "image/gif") };
        return Ok(Picture {
            bytes: bytes.to_vec(),
            extension,
            mime,
            width: image.width(),
            height: image.height(),
        });
    }
    if unchanged
        && bytes.len() <= SMALL
        && format == ImageFormat::Jpeg
        && let Some(kept) = super::jpeg::without_metadata(bytes)
    {
        return Ok(Picture {
            bytes: kept,
            extension: "jpg",
            mime: "image/jpeg",
            width: image.width(),
            height: image.height(),
        });
    }
    image.apply_orientation(orientation);
    if image.width() > MAX_WIDTH {
        let height = (u64::from(image.height()) * u64::from(MAX_WIDTH) / u64::from(image.width())).max(1);
        image =
            image.resize_exact(MAX_WIDTH, u32::try_from(height).unwrap_or(u32::MAX), FilterType::Triangle);
    }
    let mut out = Vec::new();
    let (extension, mime) = if format == ImageFormat::Jpeg {
        JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&DynamicImage::ImageRgb8(image.to_rgb8()))
            .map_err(PictureError::Encode)?;
        ("jpg", "image/jpeg")
    } else {
        // A large PNG, or a GIF's first frame, as a PNG.
        image
            .write_with_encoder(PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Best,
                image::codecs::png::FilterType::Adaptive,
            ))
            .map_err(PictureError::Encode)?;
        ("png", "image/png")
    };
    Ok(Picture { bytes: out, extension, mime, width: image.width(), height: image.height() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 95).encode_image(&img).unwrap();
        out
    }

    fn png(img: &RgbaImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_with_encoder(PngEncoder::new(&mut out)).unwrap();
        out
    }

    /// `jpeg` with an EXIF APP1 segment saying `orientation`, after the SOI marker.
    fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let length = u16::try_from(app1.len() + 2).unwrap();
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn a_large_photo_is_resized_to_twice_the_column_keeping_its_shape() {
        let picture = prepare(&jpeg(4000, 3000)).unwrap();
        assert_eq!((picture.width, picture.height), (1200, 900));
        assert_eq!(picture.mime, "image/jpeg");
        let back = image::load_from_memory(&picture.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (1200, 900));
        assert_eq!(picture.display_size(COLUMN_WIDTH), (600, 450));
    }

    #[test]
    fn a_photo_taken_sideways_is_turned_upright() {
        // Orientation 6: the camera was turned; the stored 400×300 shows as 300×400.
        let picture = prepare(&with_orientation(&jpeg(400, 300), 6)).unwrap();
        assert_eq!((picture.width, picture.height), (300, 400));
        let back = image::load_from_memory(&picture.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (300, 400));
    }

    #[test]
    fn a_small_photo_keeps_its_size_and_is_sent_as_a_jpeg() {
        let original = jpeg(500, 200);
        let picture = prepare(&original).unwrap();
        assert_eq!((picture.width, picture.height), (500, 200));
        assert_eq!(image::guess_format(&picture.bytes).unwrap(), ImageFormat::Jpeg);
        assert_eq!(picture.display_size(COLUMN_WIDTH), (500, 200));
        // As it is: encoding it again would only lose detail.
        assert_eq!(picture.bytes, original);
    }

    #[test]
    fn a_small_upright_photo_is_sent_without_its_exif() {
        let original = jpeg(500, 200);
        let picture = prepare(&with_orientation(&original, 1)).unwrap();
        assert_eq!(picture.bytes, original);
    }

    #[test]
    fn a_photo_too_large_in_bytes_is_encoded_again_smaller_though_its_size_needs_no_change() {
        // Noise compresses badly: at quality 95, over SMALL.
        let noisy = RgbImage::from_fn(1100, 800, |x, y| {
            let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
            Rgb([n, n.rotate_left(3), n.rotate_left(5)])
        });
        let mut large = Vec::new();
        JpegEncoder::new_with_quality(&mut large, 95).encode_image(&noisy).unwrap();
        assert!(large.len() > SMALL, "{} bytes", large.len());
        let picture = prepare(&large).unwrap();
        assert!(picture.bytes.len() < large.len(), "quality 80 is smaller");
        assert_eq!((picture.width, picture.height), (1100, 800));
    }

    #[test]
    fn a_small_png_is_sent_as_it_is() {
        let original = png(&RgbaImage::from_pixel(320, 80, Rgba([10, 20, 30, 255])));
        let picture = prepare(&original).unwrap();
        assert_eq!(picture.bytes, original);
        assert_eq!((picture.extension, picture.width, picture.height), ("png", 320, 80));
    }

    #[test]
    fn a_wide_png_is_resized_and_stays_a_png() {
        let original = png(&RgbaImage::from_pixel(2400, 100, Rgba([10, 20, 30, 128])));
        let picture = prepare(&original).unwrap();
        assert_eq!((picture.extension, picture.width, picture.height), ("png", 1200, 50));
        assert_eq!(image::guess_format(&picture.bytes).unwrap(), ImageFormat::Png);
    }

    fn gif(width: u32, height: u32, frames: usize) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
            for i in 0..frames {
                let shade = u8::try_from(i * 40 % 256).unwrap();
                let frame = RgbaImage::from_pixel(width, height, Rgba([shade, 0, 0, 255]));
                encoder.encode_frame(image::Frame::new(frame)).unwrap();
            }
        }
        out
    }

    #[test]
    fn a_small_animated_gif_passes_through_so_it_still_moves() {
        let original = gif(100, 50, 3);
        let picture = prepare(&original).unwrap();
        assert_eq!(picture.bytes, original);
        assert_eq!((picture.mime, picture.width, picture.height), ("image/gif", 100, 50));
    }

    #[test]
    fn a_wide_gif_keeps_its_first_frame_resized_as_a_png() {
        let picture = prepare(&gif(2400, 60, 2)).unwrap();
        assert_eq!((picture.mime, picture.width, picture.height), ("image/png", 1200, 30));
        let back = image::load_from_memory(&picture.bytes).unwrap().to_rgba8();
        assert_eq!(back.get_pixel(0, 0), &Rgba([0, 0, 0, 255]), "the first frame");
    }

    #[test]
    fn something_that_is_not_an_image_is_refused() {
        assert!(matches!(prepare(b"hello, world"), Err(PictureError::UnknownFormat)));
    }
}
