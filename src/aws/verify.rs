//! Reading versions back and comparing them: a new version must equal its source version with
//! only the planned fields replaced (EC2 API reference, CreateLaunchTemplateVersion: the new
//! version starts from `SourceVersion` and the request replaces top-level parameters). The same
//! comparison recognises, on a re-run, the version an earlier run made and whether it verifies.

use super::converge::Existing;
use super::plan::{self, Item};
use super::{AwsError, Connection};
use aws_sdk_ec2::types::{LaunchTemplateInstanceMetadataOptions, ResponseLaunchTemplateData};

/// Everything EC2 returns about one version.
#[derive(Clone)]
pub(crate) struct ReadVersion {
    pub(crate) number: i64,
    pub(crate) description: Option<String>,
    pub(crate) default: bool,
    pub(crate) data: ResponseLaunchTemplateData,
}

impl ReadVersion {
    fn of(v: &aws_sdk_ec2::types::LaunchTemplateVersion) -> ReadVersion {
        ReadVersion {
            number: v.version_number().unwrap_or(0),
            description: v.version_description().map(str::to_string),
            default: v.default_version().unwrap_or(false),
            data: v.launch_template_data().cloned().unwrap_or_else(|| ResponseLaunchTemplateData::builder().build()),
        }
    }
}

pub(crate) async fn read_versions(
    conn: &Connection,
    id: &str,
    versions: &[&str],
) -> Result<Vec<ReadVersion>, AwsError> {
    let out = conn
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .set_versions(Some(versions.iter().map(|v| v.to_string()).collect()))
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DescribeLaunchTemplateVersions", e))?;
    Ok(out.launch_template_versions().iter().map(ReadVersion::of).collect())
}

/// Every version from `min` up, page by page.
pub(crate) async fn read_from(conn: &Connection, id: &str, min: i64) -> Result<Vec<ReadVersion>, AwsError> {
    let mut pages = conn
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .min_version(min.to_string())
        .max_results(200)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("ec2:DescribeLaunchTemplateVersions", e))?;
        out.extend(page.launch_template_versions().iter().map(ReadVersion::of));
    }
    Ok(out)
}

/// The source version an earlier run made `v` from, by its description.
pub(crate) fn made_from(v: &ReadVersion) -> Option<i64> {
    v.description.as_deref().and_then(plan::parse_description)
}

/// `v` is `origin` with only UserData, ImageId and the hop limit replaced: EC2 carried every
/// other field over, as verification demands.
pub(crate) fn faithful(origin: &ReadVersion, v: &ReadVersion) -> bool {
    let own = expected(&origin.data, v.data.user_data(), v.data.image_id(), hop_limit(&v.data));
    differences(&own, &v.data).is_empty()
}

pub(crate) fn digest_of(data: &ResponseLaunchTemplateData) -> String {
    // Debug redacts UserData (the SDK marks it sensitive), so it is added on its own.
    plan::digest(&[format!("{data:?}").as_bytes(), data.user_data().unwrap_or_default().as_bytes()])
}

pub(crate) fn hop_limit(data: &ResponseLaunchTemplateData) -> Option<i32> {
    data.metadata_options().and_then(|m| m.http_put_response_hop_limit())
}

/// The source data with the three fields `push` ever changes replaced where given.
pub(crate) fn expected(
    source: &ResponseLaunchTemplateData,
    user_data: Option<&str>,
    image_id: Option<&str>,
    hop: Option<i32>,
) -> ResponseLaunchTemplateData {
    let mut want = source.clone();
    if let Some(u) = user_data {
        want.user_data = Some(u.to_string());
    }
    if let Some(i) = image_id {
        want.image_id = Some(i.to_string());
    }
    if let Some(h) = hop {
        let mut m =
            want.metadata_options.clone().unwrap_or_else(|| LaunchTemplateInstanceMetadataOptions::builder().build());
        m.http_put_response_hop_limit = Some(h);
        want.metadata_options = Some(m);
    }
    want
}

/// What the item's new version must be.
pub(crate) fn expected_for(source: &ResponseLaunchTemplateData, item: &Item) -> ResponseLaunchTemplateData {
    expected(source, item.user_data.as_deref(), item.image_id.as_deref(), item.hop_limit)
}

/// Whether `candidate` is a version an earlier run made from `source`, and how it compares with
/// the one this run would make.
pub(crate) fn existing(source: &ReadVersion, latest: &ReadVersion, item: &Item) -> Option<Existing> {
    let from = latest.description.as_deref().and_then(plan::parse_description)?;
    if from != source.number || latest.number == source.number {
        return None;
    }
    let own = expected(&source.data, latest.data.user_data(), latest.data.image_id(), hop_limit(&latest.data));
    Some(Existing {
        number: latest.number,
        equal: differences(&expected_for(&source.data, item), &latest.data).is_empty(),
        faithful: differences(&own, &latest.data).is_empty(),
    })
}

/// Lines of the debug rendering that differ (UserData compared on its own, as Debug redacts
/// it). The metadata options' `state` (`pending`/`applied`) describes EC2's rollout, not the
/// template, so it is not compared.
pub(crate) fn differences(want: &ResponseLaunchTemplateData, got: &ResponseLaunchTemplateData) -> Vec<String> {
    let normal = |d: &ResponseLaunchTemplateData| {
        let mut d = d.clone();
        if let Some(m) = d.metadata_options.as_mut() {
            m.state = None;
        }
        d
    };
    let (want, got) = (normal(want), normal(got));
    let mut out = Vec::new();
    if want.user_data != got.user_data {
        out.push("UserData: the new version's user data is not the planned one".to_string());
    }
    if want != got {
        let (a, b) = (fields(&format!("{want:#?}")), fields(&format!("{got:#?}")));
        let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let (x, y) = (a.get(name), b.get(name));
            if x != y {
                let show = |v: Option<&String>| v.map_or("(absent)".to_string(), |v| compact(v));
                out.push(format!("{name}: planned {}, EC2 has {}", show(x), show(y)));
            }
        }
    }
    out
}

/// The top-level fields of a `{:#?}` rendering (indented four spaces), each with its value.
fn fields(debug: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in debug.lines() {
        let top = line.strip_prefix("    ").filter(|l| !l.starts_with(' '));
        if let Some((name, value)) = top.and_then(|l| l.split_once(": ")) {
            if let Some((n, v)) = current.take() {
                out.insert(n, v);
            }
            current = Some((name.to_string(), value.to_string()));
        } else if let Some((_, v)) = current.as_mut() {
            v.push(' ');
            v.push_str(line.trim());
        }
    }
    if let Some((n, v)) = current {
        out.insert(n, v);
    }
    out
}

/// One line, at most 160 characters.
fn compact(v: &str) -> String {
    let v = v.trim_end_matches(',');
    let v = [(",)", ")"), (", )", ")"), (", ]", "]"), (", }", " }"), ("( ", "("), ("[ ", "[")]
        .iter()
        .fold(v.to_string(), |acc, (from, to)| acc.replace(from, to));
    match v.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", v.get(..i).unwrap_or(&v)),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice};

    fn data(user_data: &str, hop: i32) -> ResponseLaunchTemplateData {
        ResponseLaunchTemplateData::builder()
            .image_id("ami-1")
            .user_data(user_data)
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(LaunchTemplateEbsBlockDevice::builder().volume_size(100).build())
                    .build(),
            )
            .metadata_options(LaunchTemplateInstanceMetadataOptions::builder().http_put_response_hop_limit(hop).build())
            .build()
    }

    fn item() -> Item {
        let mut i = plan::sample_item();
        i.hop_limit = Some(2);
        i
    }

    fn version(number: i64, description: Option<String>, data: ResponseLaunchTemplateData) -> ReadVersion {
        ReadVersion { number, description, default: false, data }
    }

    #[test]
    fn verification_accepts_exactly_the_planned_changes() {
        let src = data("T0xE", 1);
        let want = expected_for(&src, &item());
        assert!(differences(&want, &data("TkVX", 2)).is_empty());
        // A lost block device mapping, or user data that is not the planned one, is reported.
        let mut lost = data("TkVX", 2);
        lost.block_device_mappings = None;
        let d = differences(&want, &lost);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("block_device_mappings: planned Some([LaunchTemplateBlockDeviceMapping {"), "{d:?}");
        assert!(d[0].ends_with("EC2 has None"), "{d:?}");
        assert_eq!(
            differences(&want, &data("T0xE", 2))[0],
            "UserData: the new version's user data is not the planned one"
        );
    }

    #[test]
    fn an_earlier_runs_version_is_recognised_and_judged() {
        let src = version(1, None, data("T0xE", 1));
        let ours = || Some(plan::description(1));
        let e = existing(&src, &version(2, ours(), data("TkVX", 2)), &item()).unwrap();
        assert!(e.equal && e.faithful);
        // Made with another hop limit: faithful, not equal (a new version is made, this one kept).
        let e = existing(&src, &version(2, ours(), data("TkVX", 1)), &item()).unwrap();
        assert!(!e.equal && e.faithful);
        // Lost its block devices: it failed verification.
        let mut lost = data("TkVX", 2);
        lost.block_device_mappings = None;
        let e = existing(&src, &version(2, ours(), lost), &item()).unwrap();
        assert!(!e.equal && !e.faithful);
        // Not ours, or ours from another source: not an earlier run's version of this one.
        assert_eq!(existing(&src, &version(2, Some("by hand".into()), data("TkVX", 2)), &item()), None);
        assert_eq!(existing(&src, &version(2, Some(plan::description(7)), data("TkVX", 2)), &item()), None);
    }
}
