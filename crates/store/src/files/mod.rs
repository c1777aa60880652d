//! Uploaded files, stored by content hash behind one interface (a directory by default; an
//! object store later). A file is checked before a byte is written, so a refused upload
//! leaves nothing behind.

use crate::{Result, StoreError};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub trait BlobStore: Send + Sync {
    /// Stores the bytes; returns their SHA-256 hex and whether they were new.
    fn put(&self, bytes: &[u8]) -> Result<(String, bool)>;
    fn get(&self, hash: &str) -> Result<Vec<u8>>;
    /// Removes a blob that no committed row refers to (after a failed command).
    fn forget(&self, hash: &str);
}

pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(DirStore { root })
    }
    fn path(&self, hash: &str) -> Option<PathBuf> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.root.join(&hash[..2]).join(&hash[2..]))
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("file store: {e}"))
}

impl BlobStore for DirStore {
    fn put(&self, bytes: &[u8]) -> Result<(String, bool)> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self.path(&hash).expect("hash is hex");
        if path.exists() {
            return Ok((hash, false));
        }
        let dir = path.parent().expect("has parent");
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(".{}.tmp{}", &hash[2..10], rand::random::<u32>()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok((hash, true))
    }

    fn get(&self, hash: &str) -> Result<Vec<u8>> {
        let path = self.path(hash).ok_or_else(|| {
            StoreError::not_found("file.not_found", "No such file.", "文件不存在。")
        })?;
        std::fs::read(path)
            .map_err(|_| StoreError::not_found("file.not_found", "No such file.", "文件不存在。"))
    }

    fn forget(&self, hash: &str) {
        if let Some(p) = self.path(hash) {
            let _ = std::fs::remove_file(p);
        }
    }
}
