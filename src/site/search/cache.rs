//! What a build leaves for the next one in the project's cache folder: each search shard's
//! digest and files, so that the next build takes the shards whose pages have not changed
//! from the site it replaces instead of indexing them again. It names the engine that wrote
//! it (this binary) and is not trusted when that has changed; a shard's files are taken only
//! when they are in the site as they were written (see `shards::take`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Built, Previous};

const FILE: &str = "site-search.json";

#[derive(Serialize, Deserialize)]
struct Stored {
    engine: String,
    language: String,
    site: PathBuf,
    shards: Vec<Built>,
}

/// This binary: its version, and its size and time, which change with every build of it.
fn engine() -> String {
    let id = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let at = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            format!("{} {}", m.len(), at.as_nanos())
        })
        .unwrap_or_default();
    format!("runbook {} {id}", env!("CARGO_PKG_VERSION"))
}

fn site_key(dest: &Path) -> PathBuf {
    std::path::absolute(dest).unwrap_or_else(|_| dest.to_path_buf())
}

/// The shards the last build wrote into `dest`, if it was this engine's, in this language.
pub fn load(cache: &Path, dest: &Path, language: &str) -> Option<Previous> {
    let bytes = std::fs::read(cache.join(FILE)).ok()?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    (stored.engine == engine() && stored.language == language && stored.site == site_key(dest))
        .then(|| Previous {
            dir: dest.to_path_buf(),
            shards: stored.shards,
        })
}

/// Records the shards now in `dest`; a cache that cannot be written is only a slower next
/// build.
pub fn save(cache: &Path, dest: &Path, language: &str, shards: &[Built]) {
    let stored = Stored {
        engine: engine(),
        language: language.to_string(),
        site: site_key(dest),
        shards: shards.to_vec(),
    };
    if let Ok(json) = serde_json::to_vec(&stored) {
        let _ = crate::atomic::write(&cache.join(FILE), &json);
    }
}
