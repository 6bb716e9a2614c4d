//! Thumbnails of picture evidence, made once at upload so that the case
//! page shows what a file is without opening it. A file is untrusted: it
//! is decoded with limits on its dimensions and on what the decoder may
//! allocate (a small file that claims to be a huge picture is refused
//! before anything is allocated for it), by a pure-Rust decoder, on a
//! blocking thread. The thumbnail is a JPEG of at most [`EDGE`] pixels a
//! side, stored sealed with the case's key under a name of its own
//! (`CaseKey::thumbnail_name`) and removed with the file by a purge or
//! an erasure. A picture that does not decode has no thumbnail; it is
//! still evidence.

use std::io::Cursor;

use image::{ImageDecoder, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const EDGE: u32 = 320;
/// The widest and tallest picture decoded.
pub const MAX_SIDE: u32 = 12_000;
/// What the decoder may allocate for one picture.
pub const MAX_ALLOC: u64 = 192 * 1024 * 1024;

/// Whether files of this (sniffed) type get a thumbnail.
pub fn applies_to(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// Why no thumbnail was made.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the picture could not be decoded: {0}")]
    Decode(#[from] image::ImageError),
    #[error("the picture could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// The decoder's limits for untrusted pictures.
fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// A JPEG thumbnail of a picture (the first frame of an animation), its
/// orientation applied; CPU-bound: call it on a blocking thread.
pub fn make(bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    reader.limits(limits());
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut picture = image::DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);
    // Smaller pictures keep their size (`thumbnail` would enlarge them).
    let small = if picture.width() > EDGE || picture.height() > EDGE {
        picture.thumbnail(EDGE, EDGE)
    } else {
        picture
    }
    .into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_picture_becomes_a_small_jpeg_keeping_its_shape() {
        let thumb = make(&png(1200, 600)).unwrap();
        let back = image::load_from_memory(&thumb).unwrap();
        assert_eq!(infer::get(&thumb).unwrap().mime_type(), "image/jpeg");
        assert_eq!((back.width(), back.height()), (EDGE, EDGE / 2));
        // A small picture is not enlarged.
        let back = image::load_from_memory(&make(&png(40, 30)).unwrap()).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30));
    }

    /// A PNG whose header claims 50,000 × 50,000 pixels (10 GB decoded)
    /// in a few hundred bytes is refused before it is decoded.
    #[test]
    fn a_decompression_bomb_is_refused() {
        let mut bomb = png(1, 1);
        // IHDR's width and height, then its CRC over type and data.
        bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let refused = make(&bomb).unwrap_err();
        assert!(
            matches!(&refused, Refused::Decode(image::ImageError::Limits(_))),
            "{refused}"
        );
    }

    #[test]
    fn what_is_not_a_picture_is_refused() {
        assert!(make(b"%PDF-1.4 not a picture").is_err());
        assert!(applies_to("image/webp") && !applies_to("application/pdf"));
    }

    /// CRC-32 as PNG chunks use it (ISO 3309).
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
