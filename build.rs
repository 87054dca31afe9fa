//! Rebuilds when migrations change (embed_migrations! alone misses new folders) and
//! exposes a fingerprint of them, so test templates are rebuilt when the schema changes.
use std::{fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let mut files = Vec::new();
    collect(Path::new("migrations"), &mut files);
    files.sort();
    // FNV-1a: a fingerprint, not a security boundary.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in files {
        for byte in path.to_string_lossy().bytes().chain(fs::read(&path).unwrap_or_default()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=CCHC_MIGRATIONS_FINGERPRINT={hash:016x}");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
