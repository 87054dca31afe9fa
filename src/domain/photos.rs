//! Where a photo was taken is the sender's, not the public's: the location metadata of
//! citizens' photos (EXIF GPS, XMP, IPTC) is taken out before they are stored. Only the
//! metadata segments and chunks are rewritten; the image itself is not decoded.
use std::io::Cursor;

use bytes::Bytes;
use img_parts::{ImageEXIF, jpeg::Jpeg, png::Png, webp::WebP};

/// A file after its location metadata was taken out.
#[derive(Debug)]
pub struct Cleaned {
    pub bytes: Vec<u8>,
    /// Whether location metadata (GPS fields, XMP or IPTC, which may hold a place) was
    /// found and taken out.
    pub location_removed: bool,
}

/// The XMP packet's marker in a JPEG APP1 segment (and its extension's).
const XMP_JPEG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_JPEG: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
/// The keyword of XMP in a PNG text chunk.
const XMP_PNG: &[u8] = b"XML:com.adobe.xmp";

/// Takes location metadata out of a file of type `content_type` (as recognised from its
/// content). Types that carry none of these (PDF) come back as they were. `Err` when an
/// image cannot be read as its type says.
pub fn without_location(content_type: &str, bytes: Vec<u8>) -> Result<Cleaned, String> {
    match content_type {
        "image/jpeg" => jpeg(bytes),
        "image/png" => png(bytes),
        "image/webp" => webp(bytes),
        _ => Ok(Cleaned { bytes, location_removed: false }),
    }
}

fn jpeg(bytes: Vec<u8>) -> Result<Cleaned, String> {
    let mut image = Jpeg::from_bytes(Bytes::from(bytes.clone())).map_err(|e| format!("a damaged JPEG ({e})"))?;
    let (kept, had_gps, had_exif) = match image.exif() {
        Some(tiff) => {
            let (kept, gps) = orientation_only(&tiff);
            (kept, gps, true)
        }
        None => (None, false, false),
    };
    let is_app1 = |s: &img_parts::jpeg::JpegSegment, prefix: &[u8]| {
        s.marker() == img_parts::jpeg::markers::APP1 && s.contents().starts_with(prefix)
    };
    let segments = image.segments_mut();
    let before = segments.len();
    // XMP (which may repeat the GPS fields), IPTC (city, sublocation) and comments.
    segments.retain(|s| {
        !is_app1(s, XMP_JPEG)
            && !is_app1(s, XMP_EXTENSION_JPEG)
            && s.marker() != img_parts::jpeg::markers::APP13
            && s.marker() != img_parts::jpeg::markers::COM
    });
    let other_removed = segments.len() != before;
    if !had_exif && !other_removed {
        return Ok(Cleaned { bytes, location_removed: false });
    }
    image.set_exif(kept.map(Bytes::from));
    let mut out = Vec::with_capacity(bytes.len());
    image.encoder().write_to(&mut out).map_err(|e| format!("a JPEG that cannot be rewritten ({e})"))?;
    Ok(Cleaned { bytes: out, location_removed: had_gps || other_removed })
}

fn png(bytes: Vec<u8>) -> Result<Cleaned, String> {
    let mut image = Png::from_bytes(Bytes::from(bytes.clone())).map_err(|e| format!("a damaged PNG ({e})"))?;
    let had_gps = image.exif().is_some_and(|tiff| orientation_only(&tiff).1);
    let chunks = image.chunks_mut();
    let before = chunks.len();
    let is_xmp = |c: &img_parts::png::PngChunk| {
        matches!(&c.kind(), b"iTXt" | b"tEXt" | b"zTXt") && c.contents().starts_with(XMP_PNG)
    };
    let had_xmp = chunks.iter().any(is_xmp);
    chunks.retain(|c| &c.kind() != b"eXIf" && !is_xmp(c));
    if chunks.len() == before {
        return Ok(Cleaned { bytes, location_removed: false });
    }
    let mut out = Vec::with_capacity(bytes.len());
    image.encoder().write_to(&mut out).map_err(|e| format!("a PNG that cannot be rewritten ({e})"))?;
    Ok(Cleaned { bytes: out, location_removed: had_gps || had_xmp })
}

fn webp(bytes: Vec<u8>) -> Result<Cleaned, String> {
    let mut image = WebP::from_bytes(Bytes::from(bytes.clone())).map_err(|e| format!("a damaged WebP ({e})"))?;
    let had_gps = image.exif().is_some_and(|tiff| orientation_only(&tiff).1);
    let had_xmp = image.has_chunk(img_parts::webp::CHUNK_XMP);
    if image.exif().is_none() && !had_xmp {
        return Ok(Cleaned { bytes, location_removed: false });
    }
    // The XMP chunk first: `set_exif` then sets the extended header's flags right.
    image.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
    image.set_exif(None);
    let mut out = Vec::with_capacity(bytes.len());
    image.encoder().write_to(&mut out).map_err(|e| format!("a WebP that cannot be rewritten ({e})"))?;
    Ok(Cleaned { bytes: out, location_removed: had_gps || had_xmp })
}

/// EXIF (a TIFF structure) reduced to the main image's orientation, so that photos
/// still show upright; and whether it had GPS fields. Everything else — GPS, maker
/// notes, thumbnails, the camera's serial number — is dropped: what is kept is listed,
/// not what is dropped. `None` when nothing is kept.
fn orientation_only(tiff: &[u8]) -> (Option<Vec<u8>>, bool) {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        // Unreadable EXIF is dropped whole; it may hold anything.
        return (None, true);
    };
    let had_gps = exif.fields().any(|f| f.tag.context() == exif::Context::Gps);
    let Some(orientation) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY) else {
        return (None, had_gps);
    };
    let mut writer = exif::experimental::Writer::new();
    writer.push_field(orientation);
    let mut out = Cursor::new(Vec::new());
    match writer.write(&mut out, exif.little_endian()) {
        Ok(()) => (Some(out.into_inner()), had_gps),
        Err(_) => (None, had_gps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suite's photo (a gradient, no metadata), to which metadata is added.
    fn plain_jpeg() -> Vec<u8> {
        include_bytes!("../../tests/fixtures/photo.jpg").to_vec()
    }

    /// EXIF with an orientation and a GPS latitude.
    fn exif_with_gps() -> Vec<u8> {
        let orientation =
            exif::Field { tag: exif::Tag::Orientation, ifd_num: exif::In::PRIMARY, value: exif::Value::Short(vec![6]) };
        let latitude = exif::Field {
            tag: exif::Tag::GPSLatitude,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![(12, 1).into(), (14, 1).into(), (1968, 100).into()]),
        };
        let mut writer = exif::experimental::Writer::new();
        writer.push_field(&orientation);
        writer.push_field(&latitude);
        let mut out = Cursor::new(Vec::new());
        writer.write(&mut out, false).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_jpeg_keeps_its_orientation_and_loses_its_place() {
        let mut image = Jpeg::from_bytes(Bytes::from(plain_jpeg())).unwrap();
        image.set_exif(Some(Bytes::from(exif_with_gps())));
        let xmp = [XMP_JPEG, b"<x:xmpmeta><exif:GPSLatitude>12,14.328N</exif:GPSLatitude></x:xmpmeta>"].concat();
        image.segments_mut().insert(2, img_parts::jpeg::JpegSegment::new_with_contents(0xE1, Bytes::from(xmp)));
        let mut with = Vec::new();
        image.encoder().write_to(&mut with).unwrap();
        let found = exif::Reader::new().read_from_container(&mut Cursor::new(&with)).unwrap();
        assert!(found.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).is_some(), "the test image has a place");

        let cleaned = without_location("image/jpeg", with).unwrap();
        assert!(cleaned.location_removed);
        let left = exif::Reader::new().read_from_container(&mut Cursor::new(&cleaned.bytes)).unwrap();
        assert!(!left.fields().any(|f| f.tag.context() == exif::Context::Gps));
        assert_eq!(left.get_field(exif::Tag::Orientation, exif::In::PRIMARY).unwrap().value.get_uint(0), Some(6));
        let text = String::from_utf8_lossy(&cleaned.bytes);
        assert!(!text.contains("GPSLatitude") && !text.contains("ns.adobe.com"), "no XMP left");
        assert!(Jpeg::from_bytes(Bytes::from(cleaned.bytes)).is_ok(), "still a JPEG");
    }

    #[test]
    fn files_without_metadata_are_left_as_they_are() {
        let plain = plain_jpeg();
        let cleaned = without_location("image/jpeg", plain.clone()).unwrap();
        assert_eq!((cleaned.bytes, cleaned.location_removed), (plain, false));
        let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
        assert_eq!(without_location("application/pdf", pdf.clone()).unwrap().bytes, pdf);
        assert!(without_location("image/jpeg", b"\xff\xd8\xff not really".to_vec()).is_err());
    }
}
