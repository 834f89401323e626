//! The CKA curriculum's competencies (`content/curriculum.yaml`), each with the lessons that
//! teach it and the labs that practise it: what `learn --curriculum` and `progress` show as
//! covered, and where the gaps are.

use serde::{Deserialize, Serialize};

use super::Domain;
use super::error::CatalogError;

/// Where the map lives in the catalog.
pub const FILE: &str = "content/curriculum.yaml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curriculum {
    /// The Kubernetes version the curriculum is written for (`v1.35`).
    pub version: String,
    pub competencies: Vec<Competency>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    pub id: String,
    pub domain: Domain,
    /// In the curriculum's own words.
    pub title: String,
    pub lessons: Vec<String>,
    #[serde(default)]
    pub labs: Vec<String>,
}

impl Curriculum {
    pub fn parse(text: &str) -> Result<Curriculum, CatalogError> {
        serde_saphyr::from_str(text).map_err(|err| CatalogError::yaml(FILE, &err, 0))
    }

    /// The competencies of one domain, in the curriculum's order.
    pub fn of(&self, domain: Domain) -> impl Iterator<Item = &Competency> {
        self.competencies.iter().filter(move |c| c.domain == domain)
    }
}
