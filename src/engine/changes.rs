//! What a lab's setup changed on the node, so `reset` can put it back. Before a setup step
//! touches a path, the original (or the fact that there was none) is saved on the node under
//! `/var/lib/ckalab/originals/`, through the backend's own file primitives: the record lives
//! with the node it describes, on any backend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::backend::Backend;
use crate::catalog::step::Step;

const DIR: &str = "/var/lib/ckalab/originals";
const INDEX: &str = "/var/lib/ckalab/originals/index.json";

/// Every node path setup changed, with what was there before.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Changes {
    paths: BTreeMap<String, Original>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Original {
    /// A file, saved under `DIR` by this name.
    File { saved_as: String },
    /// Nothing was there: reset removes whatever setup put there.
    Absent,
}

impl Changes {
    /// The record on the node, or an empty one.
    pub fn load(backend: &Backend) -> Changes {
        backend
            .read(INDEX)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Saves what is at each path `step` will change, unless an earlier step already did.
    pub fn record(&mut self, backend: &Backend, step: &Step) -> Result<(), String> {
        let layout = backend.layout();
        for path in touched_paths(step) {
            let path = layout.render(path)?;
            if self.paths.contains_key(&path) {
                continue;
            }
            let original = if backend.is_dir(&path) {
                return Err(format!(
                    "{path} is a directory: setup can only change files it can put back"
                ));
            } else {
                match backend.read_bytes(&path) {
                    Ok(bytes) => {
                        let saved_as = format!("{}.orig", self.paths.len());
                        backend
                            .write_bytes(&format!("{DIR}/{saved_as}"), &bytes)
                            .map_err(|e| e.to_string())?;
                        Original::File { saved_as }
                    }
                    Err(_) => Original::Absent,
                }
            };
            self.paths.insert(path, original);
        }
        let index = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        backend.write(INDEX, &index).map_err(|e| e.to_string())
    }

    /// Puts every recorded path back as it was and forgets the record. Returns how many paths
    /// it restored.
    pub fn restore(self, backend: &Backend) -> Result<usize, String> {
        for (path, original) in &self.paths {
            match original {
                Original::File { saved_as } => {
                    let bytes = backend
                        .read_bytes(&format!("{DIR}/{saved_as}"))
                        .map_err(|e| format!("the saved copy of {path} is gone: {e}"))?;
                    backend
                        .write_bytes(path, &bytes)
                        .map_err(|e| e.to_string())?;
                }
                Original::Absent => backend.remove(path).map_err(|e| e.to_string())?,
            }
        }
        backend.remove(DIR).map_err(|e| e.to_string())?;
        Ok(self.paths.len())
    }
}

/// The node paths (templates) a step writes, moves or removes.
fn touched_paths(step: &Step) -> Vec<&str> {
    match step {
        Step::WriteFile { path, .. } | Step::RemovePath(path) | Step::Keep(path) => vec![path],
        Step::SetKey { file, .. }
        | Step::RemoveKey { file, .. }
        | Step::ReplaceText { file, .. } => {
            vec![file]
        }
        Step::SetFlag { manifest, .. } | Step::RemoveFlag { manifest, .. } => vec![manifest],
        Step::SetRuntimeEndpoint(_) => vec!["{{ kubelet_endpoint_file }}"],
        Step::CopyPath { to, .. } => vec![to],
        Step::MovePath { from, to } => vec![from, to],
        Step::EtcdSnapshot { to } => vec![to],
        Step::EtcdRestore { data_dir, .. } => vec![data_dir],
        Step::MakeCert { cert, .. } => vec![cert],
        // Units, objects, waits and commands change no file setup could name in advance.
        Step::Start(_)
        | Step::Stop(_)
        | Step::Restart(_)
        | Step::PutObject { .. }
        | Step::DeleteObject { .. }
        | Step::WaitFor { .. }
        | Step::Run(_) => Vec::new(),
    }
}
