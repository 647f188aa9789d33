//! AL2's `/etc/eks/max-pods-calculator.sh` → nodeadm's `spec.kubelet.maxPodsExpression`
//! (docs §5.2). nodeadm has no calculator; its CEL expression sees `default_enis`,
//! `ips_per_eni` and `max_pods` (the standard value). The calculator's options map to:
//! custom networking → one ENI fewer; `--cni-max-eni N` → at most N ENIs; prefix delegation →
//! 16 addresses per slot. Without `--show-max-allowed` the calculator capped every result at 110
//! (≤ 30 vCPUs) or 250; the expression cannot see vCPUs, so it caps at 250 and the report says so.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calculator {
    pub custom_networking: bool,
    pub prefix_delegation: bool,
    pub max_eni: Option<u32>,
    /// `--show-max-allowed`: no 110/250 cap.
    pub uncapped: bool,
    /// `--show-max-allowed` sits inside a template directive (`%{ if … }`): the rendering decides.
    pub uncapped_by_template: bool,
}

/// Parses the calculator's options out of a command line (or a `$(…)` text containing one).
pub fn parse(text: &str) -> Option<Calculator> {
    let at = text.find("max-pods-calculator.sh")?;
    let rest = text.get(at..)?;
    let rest = rest.split([')', '`', ';', '|', '\n']).next().unwrap_or(rest);
    let words: Vec<&str> = rest.split_whitespace().collect();
    let mut c = Calculator::default();
    let mut i = 0;
    while let Some(&word) = words.get(i) {
        match word {
            "--cni-custom-networking-enabled" => c.custom_networking = true,
            "--cni-prefix-delegation-enabled" => c.prefix_delegation = true,
            "--show-max-allowed" | "--show-max-allowed%{" => c.uncapped = true,
            "--cni-max-eni" => {
                c.max_eni = words.get(i + 1).and_then(|n| n.trim_matches(['"', '\'']).parse().ok());
                i += 1;
            }
            w if w.starts_with("--cni-max-eni=") => {
                c.max_eni = w.strip_prefix("--cni-max-eni=").and_then(|n| n.parse().ok())
            }
            _ => {}
        }
        i += 1;
    }
    c.uncapped_by_template = c.uncapped && rest.contains("%{");
    Some(c)
}

impl Calculator {
    /// The CEL expression, or `None` when nodeadm's default is already the same formula (the
    /// ENI value, uncapped).
    pub fn expression(&self) -> Option<String> {
        let mut enis = match self.max_eni {
            Some(n) => format!("({n} < default_enis ? {n} : default_enis)"),
            None => "default_enis".to_string(),
        };
        if self.custom_networking {
            enis = format!("({enis} - 1)");
        }
        let plain = !self.custom_networking && !self.prefix_delegation && self.max_eni.is_none();
        let per_eni = if self.prefix_delegation { "((ips_per_eni - 1) * 16)" } else { "(ips_per_eni - 1)" };
        let raw = if plain { "max_pods".to_string() } else { format!("{enis} * {per_eni} + 2") };
        match (plain, self.uncapped) {
            (true, true) => None,
            (false, true) => Some(raw),
            (true, false) => Some(format!("{raw} > 250 ? 250 : {raw}")),
            (false, false) => Some(format!("({raw}) > 250 ? 250 : ({raw})")),
        }
    }

    /// What the expression cannot say the way the calculator did, for the report.
    pub fn caveat(&self) -> Option<&'static str> {
        if self.uncapped_by_template {
            Some(
                "`--show-max-allowed` is passed only when the template renders it; the expression assumes it is, with no cap: where it is not, add the calculator's cap of 250 (110 on instances with 30 vCPUs or fewer)",
            )
        } else if !self.uncapped {
            Some(
                "the calculator capped the result at 110 on instances with 30 vCPUs or fewer and at 250 above; CEL sees no vCPU count, so the expression caps at 250",
            )
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_calculator_options_to_cel() {
        let c = parse("$(/etc/eks/max-pods-calculator.sh --instance-type-from-imds --cni-version 1.10.0 --cni-custom-networking-enabled --show-max-allowed)").unwrap();
        assert_eq!(c.expression().unwrap(), "(default_enis - 1) * (ips_per_eni - 1) + 2");
        let c = parse("/etc/eks/max-pods-calculator.sh --instance-type m5.large --cni-version 1.9.0 --cni-prefix-delegation-enabled").unwrap();
        assert_eq!(
            c.expression().unwrap(),
            "(default_enis * ((ips_per_eni - 1) * 16) + 2) > 250 ? 250 : (default_enis * ((ips_per_eni - 1) * 16) + 2)"
        );
        let c = parse("max-pods-calculator.sh --cni-max-eni 2 --show-max-allowed").unwrap();
        assert_eq!(c.expression().unwrap(), "(2 < default_enis ? 2 : default_enis) * (ips_per_eni - 1) + 2");
        assert_eq!(
            parse("max-pods-calculator.sh --instance-type-from-imds --cni-version 1.10.0")
                .unwrap()
                .expression()
                .unwrap(),
            "max_pods > 250 ? 250 : max_pods"
        );
        assert_eq!(
            parse("max-pods-calculator.sh --instance-type-from-imds --show-max-allowed").unwrap().expression(),
            None
        );
        let c = parse(
            "$(max-pods-calculator.sh --instance-type-from-imds --cni-version 1.10.0 --cni-custom-networking-enabled)",
        )
        .unwrap();
        assert_eq!(
            c.expression().unwrap(),
            "((default_enis - 1) * (ips_per_eni - 1) + 2) > 250 ? 250 : ((default_enis - 1) * (ips_per_eni - 1) + 2)"
        );
        assert!(c.caveat().unwrap().contains("110"));
        let t = parse("MAX_PODS=$(max-pods-calculator.sh --cni-version 1.10.0 %{ if show } --show-max-allowed%{ endif } --cni-custom-networking-enabled)").unwrap();
        assert!(t.uncapped && t.uncapped_by_template, "{t:?}");
        assert!(parse("echo hi").is_none());
    }
}
