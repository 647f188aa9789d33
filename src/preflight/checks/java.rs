//! PF607: JDKs that read container limits from cgroup v1 only (AL2023 runs cgroup v2): cgroup
//! v2 support arrived in JDK 15 (JDK-8230305) and was backported to 11.0.16 and 8u372.

use super::super::inventory::{Inventory, image_name, image_tag};
use super::super::{Confidence, Finding, codes};
use crate::diagnostic::Severity;

/// Images that are a JDK or JRE, by repository name.
const JAVA_IMAGES: [&str; 10] = [
    "openjdk",
    "eclipse-temurin",
    "amazoncorretto",
    "adoptopenjdk",
    "ibm-semeru-runtimes",
    "zulu-openjdk",
    "sapmachine",
    "java",
    "ibmjava",
    "corretto",
];

/// Environment variables that carry a JDK version (the official images' `JAVA_VERSION`).
const ENV: [&str; 3] = ["JAVA_VERSION", "JDK_VERSION", "JAVA_VERSION_NUMBER"];

/// `(major, update)` from a version as JDKs and images write it: `8u342`, `jdk8u345-b01`,
/// `1.8.0_342`, `11.0.16`, `jdk-11.0.16+8`, `11.0.14_9`, Corretto's `8.342.07.1`. The update is
/// `None` when only the major is given (`8`, `11-jre`).
pub fn jdk_version(s: &str) -> Option<(u32, Option<u32>)> {
    let s = s.trim().trim_start_matches("jdk").trim_start_matches('-');
    let digits =
        |t: &str| -> Option<u32> { t.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok() };
    if let Some(rest) = s.strip_prefix("1.8.0") {
        return Some((8, rest.strip_prefix('_').and_then(digits)));
    }
    let major = digits(s)?;
    let after = s.get(major.to_string().len()..).unwrap_or_default();
    if let Some(u) = after.strip_prefix('u') {
        return Some((major, digits(u)));
    }
    // `11.0.16`, `11.0.14_9`; Corretto 8 writes `8.342.07.1` (the update second).
    let mut parts = after.strip_prefix('.').map(|r| r.split(['.', '_', '+', '-'])).into_iter().flatten();
    // IBM's `8.0.7.20` is a service release, not an update number.
    let update =
        if major == 8 { parts.next().and_then(digits).filter(|u| *u != 0) } else { parts.nth(1).and_then(digits) };
    Some((major, update))
}

/// Whether a JDK mis-reads cgroup v2; `None` when only the major is known and it depends on the update.
fn affected(major: u32, update: Option<u32>) -> Option<bool> {
    match (major, update) {
        (8, Some(u)) => Some(u < 372),
        (11, Some(u)) => Some(u < 16),
        (8 | 11, None) => None,
        (9 | 10 | 12 | 13 | 14, _) => Some(true),
        _ => Some(false),
    }
}

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let Some(k) = &inv.kubernetes else { return Vec::new() };
    let mut out = Vec::new();
    for w in &k.workloads {
        for c in &w.containers {
            // The most certain source wins: the environment, then a full version in the tag.
            let from_env = ENV.iter().find_map(|e| Some((*e, jdk_version(c.env.get(*e)?)?)));
            let from_tag = JAVA_IMAGES
                .contains(&image_name(&c.image))
                .then(|| image_tag(&c.image).and_then(jdk_version))
                .flatten();
            let (version, how, base) = match (from_env, from_tag) {
                (Some((e, v)), _) => {
                    (v, format!("{e}={}", c.env.get(e).cloned().unwrap_or_default()), Confidence::Certain)
                }
                (None, Some(v)) => (v, format!("image {}", c.image), Confidence::Likely),
                (None, None) => continue,
            };
            let (major, update) = version;
            let (confidence, shown) = match affected(major, update) {
                Some(false) => continue,
                Some(true) => (
                    base,
                    match update {
                        Some(u) if major == 8 => format!("JDK 8u{u}"),
                        Some(u) => format!("JDK {major}.0.{u}"),
                        None => format!("JDK {major}"),
                    },
                ),
                None => (Confidence::Possible, format!("JDK {major} of an unknown update")),
            };
            out.push(
                Finding::new(
                    &codes::JAVA_CGROUP_V2,
                    Severity::Warning,
                    w.subject(),
                    format!("container {} runs {shown} ({how}), which reads limits from cgroup v1 only: on AL2023 (cgroup v2) it sizes heap and threads for the whole node", c.name),
                )
                .with_confidence(confidence),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{Container, KubeView, Workload};

    #[test]
    fn jdk_versions_as_images_write_them() {
        assert_eq!(jdk_version("8u342"), Some((8, Some(342))));
        assert_eq!(jdk_version("jdk8u345-b01"), Some((8, Some(345))));
        assert_eq!(jdk_version("1.8.0_362"), Some((8, Some(362))));
        assert_eq!(jdk_version("11.0.16"), Some((11, Some(16))));
        assert_eq!(jdk_version("jdk-11.0.15+10"), Some((11, Some(15))));
        assert_eq!(jdk_version("11.0.14_9-jdk"), Some((11, Some(14))));
        assert_eq!(jdk_version("8.342.07.1"), Some((8, Some(342))));
        assert_eq!(jdk_version("8-jre"), Some((8, None)));
        assert_eq!(jdk_version("8.0.7.20"), Some((8, None)), "IBM Java's numbering");
        assert_eq!(jdk_version("17.0.2"), Some((17, Some(2))));
        assert_eq!(jdk_version("latest"), None);
    }

    #[test]
    fn old_jdks_are_found_with_how_sure() {
        let c = |name: &str, image: &str, env: &[(&str, &str)]| Container {
            name: name.into(),
            image: image.into(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        };
        let inv = Inventory {
            kubernetes: Some(KubeView {
                workloads: vec![Workload {
                    kind: "Deployment".into(),
                    namespace: "pay".into(),
                    name: "api".into(),
                    containers: vec![
                        c("a", "eclipse-temurin:11.0.14_9-jdk", &[]),
                        c("b", "openjdk:8", &[]),
                        c("c", "registry/app:3", &[("JAVA_VERSION", "8u362")]),
                        c("d", "amazoncorretto:17", &[]),
                        c("e", "eclipse-temurin:8u372-b07-jre", &[]),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            aws: None,
        };
        let got: Vec<(String, Option<Confidence>)> = check(&inv)
            .into_iter()
            .map(|f| (f.message.split(' ').nth(1).unwrap_or_default().to_string(), f.confidence))
            .collect();
        assert_eq!(
            got,
            [
                ("a".to_string(), Some(Confidence::Likely)),
                ("b".to_string(), Some(Confidence::Possible)),
                ("c".to_string(), Some(Confidence::Certain)),
            ]
        );
    }
}
