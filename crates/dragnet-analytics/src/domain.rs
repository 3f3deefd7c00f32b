//! Domain names: the registrable domain (a compact public-suffix rule) and look-alike tests.
//!
//! Registrable domain rule (no full public suffix list is embedded): the last two labels,
//! or the last three when the last two form one of the multi-label public suffixes in
//! [`MULTI_LABEL_SUFFIXES`] (country second-level domains such as `co.uk`, `com.au`, and the
//! big shared hosting suffixes such as `s3.amazonaws.com`, `blob.core.windows.net`,
//! `azurewebsites.net`, `cloudfront.net`, `herokuapp.com`, `github.io`), where every customer
//! name is its own registrable domain. Reverse-lookup names (`in-addr.arpa`, `ip6.arpa`) and
//! single-label names have none.

/// Suffixes of two (or three) labels under which names are registered.
pub const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "ltd.uk",
    "plc.uk",
    "me.uk",
    "net.uk",
    "com.au",
    "net.au",
    "org.au",
    "edu.au",
    "gov.au",
    "co.nz",
    "org.nz",
    "co.jp",
    "ne.jp",
    "or.jp",
    "ac.jp",
    "co.kr",
    "or.kr",
    "com.cn",
    "net.cn",
    "org.cn",
    "gov.cn",
    "com.hk",
    "org.hk",
    "com.tw",
    "org.tw",
    "com.sg",
    "com.my",
    "co.in",
    "net.in",
    "org.in",
    "firm.in",
    "co.id",
    "or.id",
    "co.th",
    "in.th",
    "com.vn",
    "com.ph",
    "com.pk",
    "com.br",
    "net.br",
    "org.br",
    "com.ar",
    "com.mx",
    "com.co",
    "com.pe",
    "co.za",
    "org.za",
    "com.tr",
    "net.tr",
    "org.tr",
    "com.ua",
    "co.il",
    "org.il",
    "com.eg",
    "com.sa",
    "com.ng",
    "co.ke",
    "gv.at",
    "co.at",
    "or.at",
    "com.pl",
    "net.pl",
    "org.pl",
    "com.ru",
    "msk.ru",
    "spb.ru",
    "s3.amazonaws.com",
    "compute.amazonaws.com",
    "elb.amazonaws.com",
    "cloudfront.net",
    "blob.core.windows.net",
    "web.core.windows.net",
    "azurewebsites.net",
    "cloudapp.net",
    "cloudapp.azure.com",
    "azureedge.net",
    "trafficmanager.net",
    "herokuapp.com",
    "github.io",
    "gitlab.io",
    "appspot.com",
    "firebaseapp.com",
    "web.app",
    "pages.dev",
    "workers.dev",
    "netlify.app",
    "vercel.app",
    "ngrok.io",
    "ngrok-free.app",
    "duckdns.org",
    "no-ip.org",
    "ddns.net",
    "dyndns.org",
    "blogspot.com",
    "wordpress.com",
    "sharepoint.com",
    "onmicrosoft.com",
    "r2.dev",
    "trycloudflare.com",
];

/// Lower-cased, trailing dot removed; `None` for something that is no domain name (an IP
/// address, empty, spaces).
pub fn normalize(name: &str) -> Option<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let n = match n.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => n,
    };
    if n.is_empty() || n.len() > 253 || n.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    if !n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    {
        return None;
    }
    Some(n)
}

/// The registrable domain of a normalized name (see the module doc for the rule).
pub fn registrable(name: &str) -> Option<&str> {
    if name.ends_with(".arpa") || name == "arpa" {
        return None;
    }
    let labels: Vec<usize> = std::iter::once(0)
        .chain(name.match_indices('.').map(|(i, _)| i + 1))
        .collect();
    let n = labels.len();
    if n < 2 {
        return None;
    }
    for suffix_labels in [3usize, 2] {
        if n > suffix_labels {
            let suffix = &name[labels[n - suffix_labels]..];
            if MULTI_LABEL_SUFFIXES.contains(&suffix) {
                return Some(&name[labels[n - suffix_labels - 1]..]);
            }
        }
    }
    if n >= 2 {
        let suffix2 = &name[labels[n - 2]..];
        if MULTI_LABEL_SUFFIXES.contains(&suffix2) {
            return None; // the name is itself a public suffix
        }
    }
    Some(&name[labels[n - 2]..])
}

/// The part of a name left of its registrable domain (`a.b` of `a.b.example.com`).
pub fn subdomain<'a>(name: &'a str, reg: &str) -> &'a str {
    name.strip_suffix(reg)
        .map(|s| s.trim_end_matches('.'))
        .unwrap_or("")
}

/// Shannon entropy (bits per character).
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Optimal string alignment distance (edits, with adjacent transpositions), capped at
/// `limit + 1`.
pub fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<u8> = a.bytes().collect();
    let b: Vec<u8> = b.bytes().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m].min(limit + 1)
}

/// Common look-alike substitutions undone: `0`->`o`, `1`/`l`->`l`, `rn`->`m`, `vv`->`w`,
/// `3`->`e`, `5`->`s`, hyphens dropped.
pub fn deconfuse(s: &str) -> String {
    s.replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .filter(|c| *c != '-')
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '3' => 'e',
            '5' => 's',
            '@' => 'a',
            other => other,
        })
        .collect()
}

/// Brands of security and IT vendors whose look-alikes attackers register (Ink Dragon used
/// `checkponit`, `fortineat`, `vmphere`).
pub const VENDOR_BRANDS: &[&str] = &[
    "checkpoint",
    "fortinet",
    "fortiguard",
    "vmware",
    "vsphere",
    "microsoft",
    "windowsupdate",
    "office365",
    "outlook",
    "azure",
    "crowdstrike",
    "paloaltonetworks",
    "sentinelone",
    "sophos",
    "kaspersky",
    "eset",
    "trendmicro",
    "mcafee",
    "symantec",
    "broadcom",
    "cisco",
    "zscaler",
    "okta",
    "citrix",
    "ivanti",
    "f5",
    "splunk",
    "elastic",
    "mandiant",
    "defender",
    "bitdefender",
    "malwarebytes",
    "cloudflare",
    "akamai",
    "google",
    "apple",
    "amazon",
    "github",
    "solarwinds",
    "sonicwall",
    "watchguard",
    "barracuda",
    "proofpoint",
    "mimecast",
    "rapid7",
    "tenable",
    "qualys",
    "veeam",
];

/// Registrable domains of the vendors themselves that are within an edit or two of a brand
/// (never reported as look-alikes).
pub const VENDOR_OWN_DOMAINS: &[&str] = &[
    "s-microsoft.com",
    "microsoft.us",
    "msft.net",
    "fortinet.net",
    "fortinet.com",
    "fortiguard.com",
    "checkpoint.com",
    "vmware.com",
    "vmwareidentity.com",
    "google.co",
    "googl.com",
    "goo.gl",
    "cisco.com",
    "sophos.com",
    "sophosxl.net",
    "eset.com",
    "symantec.com",
    "symantecliveupdate.com",
    "mcafee.com",
    "trendmicro.com",
    "kaspersky.com",
    "crowdstrike.com",
    "sentinelone.net",
    "paloaltonetworks.com",
    "zscaler.net",
    "zscaler.com",
    "citrix.com",
    "splunk.com",
    "elastic.co",
];

/// Why `label` (the first label of a registrable domain) looks like `brand`, if it does and
/// is not it.
pub fn looks_like(label: &str, brand: &str) -> Option<String> {
    if label == brand || brand.len() < 5 {
        return None;
    }
    let limit = if brand.len() >= 9 { 2 } else { 1 };
    let d = edit_distance(label, brand, limit);
    if d <= limit {
        return Some(format!("\"{label}\" is {d} edit(s) from \"{brand}\""));
    }
    let dl = deconfuse(label);
    if dl != label && (dl == brand || edit_distance(&dl, brand, 1) == 0) {
        return Some(format!(
            "\"{label}\" reads as \"{brand}\" (look-alike characters)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("poster.checkponit.com"), Some("checkponit.com"));
        assert_eq!(registrable("a.b.example.co.uk"), Some("example.co.uk"));
        assert_eq!(
            registrable("bucket.s3.amazonaws.com"),
            Some("bucket.s3.amazonaws.com")
        );
        assert_eq!(registrable("co.uk"), None);
        assert_eq!(registrable("1.2.3.4.in-addr.arpa"), None);
        assert_eq!(registrable("localhost"), None);
        assert_eq!(subdomain("x.y.example.com", "example.com"), "x.y");
        assert_eq!(
            normalize("WWW.Example.COM.").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(
            normalize("www.google.com:443").as_deref(),
            Some("www.google.com")
        );
        assert_eq!(normalize("10.0.0.1"), None);
    }

    #[test]
    fn look_alikes_of_the_ink_dragon_domains() {
        assert!(looks_like("checkponit", "checkpoint").is_some());
        assert!(looks_like("fortineat", "fortinet").is_some());
        assert!(looks_like("vmphere", "vsphere").is_some());
        assert!(looks_like("micr0soft", "microsoft").is_some());
        assert!(looks_like("rnicrosoft", "microsoft").is_some());
        assert!(looks_like("microsoft", "microsoft").is_none());
        assert!(looks_like("hobiter", "checkpoint").is_none());
        assert!(looks_like("cisco", "sisco").is_some());
        assert!(entropy("aaaa") == 0.0 && entropy("abcd") == 2.0);
    }
}
