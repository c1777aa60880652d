//! Which uploads are allowed, decided by content, never by the file name.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
    /// GB/T 33190 OFD: a ZIP package whose root holds `OFD.xml`.
    Ofd,
}

impl FileType {
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Ofd => "application/ofd",
        }
    }
    pub fn ext(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Ofd => "ofd",
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Option<FileType> {
    if bytes.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(FileType::Png)
    } else if bytes.starts_with(b"PK\x03\x04") && zip_has_entry(bytes, b"OFD.xml") {
        Some(FileType::Ofd)
    } else {
        None
    }
}

/// Walks the ZIP local file headers looking for an entry name.
fn zip_has_entry(bytes: &[u8], name: &[u8]) -> bool {
    let mut i = 0usize;
    while i + 30 <= bytes.len() && &bytes[i..i + 4] == b"PK\x03\x04" {
        let le16 = |o: usize| usize::from(bytes[i + o]) | usize::from(bytes[i + o + 1]) << 8;
        let le32 = |o: usize| le16(o) | le16(o + 2) << 16;
        let (csize, nlen, xlen) = (le32(18), le16(26), le16(28));
        let start = i + 30;
        if start + nlen > bytes.len() {
            return false;
        }
        if &bytes[start..start + nlen] == name {
            return true;
        }
        i = start + nlen + xlen + csize;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileType::Jpeg));
        assert_eq!(sniff(b"MZ\x90\x00 this is an exe"), None);
        assert_eq!(sniff(b"<html>"), None);
        // A ZIP without OFD.xml is not an OFD.
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([0u8; 14]);
        zip.extend([0, 0, 0, 0]); // compressed size
        zip.extend([0, 0, 0, 0]);
        zip.extend([7, 0, 0, 0]); // name length 7, extra 0
        zip.extend(b"OFD.xml");
        assert_eq!(sniff(&zip), Some(FileType::Ofd));
        let n = zip.len();
        zip[n - 7..].copy_from_slice(b"foo.xml");
        assert_eq!(sniff(&zip), None);
    }
}
