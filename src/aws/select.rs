//! Which launch templates a run touches: `--id`, `--name` globs and `--tag K=V`, or `--all`.
//! Ids and names are alternatives (a template matching any of them is taken); every tag must
//! match. An `--id` that names no template is an error, not an empty result, so a typo cannot
//! turn a migration into a silent no-op.

use super::{AwsError, Connection};
use aws_sdk_ec2::types::Filter;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub ids: Vec<String>,
    /// Shell-style globs (`*`, `?`) over the template name.
    pub names: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub all: bool,
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.names.is_empty() && self.tags.is_empty() && !self.all
    }

    fn takes(&self, id: &str, name: &str) -> bool {
        (self.ids.is_empty() && self.names.is_empty())
            || self.ids.iter().any(|i| i == id)
            || self.names.iter().any(|g| crate::config::wildcard(g, name))
    }
}

/// A launch template as listed: its versions at the time of listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    pub id: String,
    pub name: String,
    pub default_version: i64,
    pub latest_version: i64,
    /// The template's tags and `CreatedBy` (an ARN): who owns it (`owner.rs`).
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub created_by: Option<String>,
}

impl TemplateRef {
    pub fn owner(&self, terraform_tags: &[super::owner::TagMarker]) -> Option<super::owner::Owner> {
        let facts = super::owner::Facts { name: &self.name, tags: &self.tags, created_by: self.created_by.as_deref() };
        super::owner::of(facts, terraform_tags)
    }
}

/// The templates in the connection's region that `sel` takes, sorted by name then id.
pub async fn select(conn: &Connection, sel: &Selector) -> Result<Vec<TemplateRef>, AwsError> {
    let filters: Vec<Filter> =
        sel.tags.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect();
    let mut pages = conn
        .ec2
        .describe_launch_templates()
        .set_filters((!filters.is_empty()).then_some(filters))
        .max_results(200)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("ec2:DescribeLaunchTemplates", e))?;
        for t in page.launch_templates() {
            let (Some(id), Some(name)) = (t.launch_template_id(), t.launch_template_name()) else { continue };
            if sel.takes(id, name) {
                out.push(TemplateRef {
                    id: id.to_string(),
                    name: name.to_string(),
                    default_version: t.default_version_number().unwrap_or(1),
                    latest_version: t.latest_version_number().unwrap_or(1),
                    tags: t
                        .tags()
                        .iter()
                        .map(|g| (g.key().unwrap_or_default().to_string(), g.value().unwrap_or_default().to_string()))
                        .collect(),
                    created_by: t.created_by().map(str::to_string),
                });
            }
        }
    }
    if let Some(missing) = sel.ids.iter().find(|i| !out.iter().any(|t| &t.id == *i)) {
        let tags = if sel.tags.is_empty() { String::new() } else { " with the tags given".to_string() };
        return Err(AwsError::new(
            "ec2:DescribeLaunchTemplates",
            "InvalidLaunchTemplateId.NotFound",
            format!("no launch template {missing}{tags} in {}", conn.region),
        ));
    }
    out.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_alternatives() {
        let s = Selector { ids: vec!["lt-1".into()], names: vec!["web-*".into()], ..Default::default() };
        assert!(s.takes("lt-1", "db") && s.takes("lt-2", "web-a") && !s.takes("lt-3", "db"));
        let tags_only = Selector { tags: vec![("team".into(), "a".into())], ..Default::default() };
        assert!(tags_only.takes("lt-9", "anything"), "tags are filtered by EC2");
    }
}
