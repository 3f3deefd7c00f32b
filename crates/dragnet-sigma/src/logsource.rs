//! Logsource routing: which events a rule's `logsource` means, as data.
//!
//! The built-in map (`data/logsources.yml`) follows SigmaHQ's own CI: Sysmon categories to
//! Sysmon EventIDs, process_creation also to Security 4688 with its field names, services to
//! channels. Users add entries with a file of the same format.
//!
//! Network evidence has its own part of the map (`data/logsources-network.yml`): the network
//! readers give each event a `Channel` of `<product>/<service>` (`zeek/dns`, `suricata/http`,
//! `iis/webserver`), so `product: zeek` services and the `proxy`, `dns`, `firewall` and
//! `webserver` categories route like Windows ones. Because network events have a channel too,
//! `product: windows` alone means every *Windows* channel the map knows (not every event that
//! has a channel): a Windows rule never runs on a network event.

use crate::rule::LogSource;
use crate::yaml::{parse_documents, Node};

/// The built-in map's text: Windows (generated from SigmaHQ's CI map).
pub const BUILTIN: &str = include_str!("../data/logsources.yml");
/// The built-in map's text: network evidence (Zeek, Suricata, IIS).
pub const BUILTIN_NETWORK: &str = include_str!("../data/logsources-network.yml");

#[derive(Clone, Debug)]
struct ServiceEntry {
    product: Option<String>,
    service: String,
    channels: Vec<String>,
}

#[derive(Clone, Debug)]
struct CategoryEntry {
    category: String,
    product: Option<String>,
    service: Option<String>,
    rewrite_product: Option<String>,
    conditions: Vec<(String, Vec<String>)>,
    fieldmappings: Vec<(String, String)>,
}

/// Where a rule runs: events of these channels that meet these field conditions, read
/// through this field mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub channels: Vec<String>,
    /// Field -> accepted values (EventID, EventType, ...).
    pub conditions: Vec<(String, Vec<String>)>,
    /// Rule field -> event field.
    pub fieldmap: Vec<(String, String)>,
}

/// What a logsource resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    Routes(Vec<Route>),
    /// `product: windows` alone: every Windows event.
    AnyWindows,
    /// No source in this build reads it (the reason says what is missing).
    Unrouted(String),
}

/// The logsource map.
#[derive(Clone, Debug, Default)]
pub struct LogsourceMap {
    services: Vec<ServiceEntry>,
    categories: Vec<CategoryEntry>,
}

fn low(n: Option<&Node>) -> Option<String> {
    n.and_then(Node::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
}

impl LogsourceMap {
    pub fn builtin() -> LogsourceMap {
        let mut map = Self::parse(BUILTIN).expect("built-in logsource map is valid");
        map.extend(Self::parse(BUILTIN_NETWORK).expect("built-in network logsource map is valid"));
        map
    }

    /// Parse a map in the format of `data/logsources.yml`.
    pub fn parse(src: &str) -> Result<LogsourceMap, String> {
        let docs = parse_documents(src).map_err(|e| format!("line {}: {}", e.line, e.message))?;
        let mut map = LogsourceMap::default();
        for doc in &docs {
            for s in doc.get("services").and_then(Node::as_seq).unwrap_or(&[]) {
                let service = low(s.get("service"))
                    .ok_or_else(|| format!("line {}: service entry without 'service'", s.line))?;
                map.services.push(ServiceEntry {
                    product: low(s.get("product")),
                    service,
                    channels: s.get("channels").map(Node::string_list).unwrap_or_default(),
                });
            }
            for c in doc.get("categories").and_then(Node::as_seq).unwrap_or(&[]) {
                let category = low(c.get("category"))
                    .ok_or_else(|| format!("line {}: category entry without 'category'", c.line))?;
                let conditions = c
                    .get("conditions")
                    .and_then(Node::as_map)
                    .unwrap_or(&[])
                    .iter()
                    .map(|(k, v)| (k.clone(), v.string_list()))
                    .collect();
                let fieldmappings = c
                    .get("fieldmappings")
                    .and_then(Node::as_map)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect();
                map.categories.push(CategoryEntry {
                    category,
                    product: low(c.get("product")),
                    service: low(c.get("service")),
                    rewrite_product: low(c.get("rewrite_product")),
                    conditions,
                    fieldmappings,
                });
            }
        }
        Ok(map)
    }

    /// Add the entries of another map (a user's file) to this one.
    pub fn extend(&mut self, other: LogsourceMap) {
        self.services.extend(other.services);
        self.categories.extend(other.categories);
    }

    fn channels(&self, product: Option<&str>, service: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.services {
            let product_ok = match (product, s.product.as_deref()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if product_ok && s.service == service {
                for c in &s.channels {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
            }
        }
        out
    }

    /// Resolve a rule's logsource.
    pub fn route(&self, ls: &LogSource) -> Routing {
        let product = ls.product.as_deref();
        if let Some(cat) = ls.category.as_deref() {
            let mut routes = Vec::new();
            for e in &self.categories {
                if e.category != cat {
                    continue;
                }
                if let (Some(a), Some(b)) = (product, e.product.as_deref()) {
                    if a != b {
                        continue;
                    }
                }
                if let (Some(a), Some(b)) = (ls.service.as_deref(), e.service.as_deref()) {
                    if a != b {
                        continue;
                    }
                }
                let Some(service) = e.service.as_deref() else {
                    continue;
                };
                let p = e
                    .rewrite_product
                    .as_deref()
                    .or(e.product.as_deref())
                    .or(product);
                let channels = self.channels(p, service);
                if channels.is_empty() {
                    continue;
                }
                routes.push(Route {
                    channels,
                    conditions: e.conditions.clone(),
                    fieldmap: e.fieldmappings.clone(),
                });
            }
            return if routes.is_empty() {
                Routing::Unrouted(format!(
                    "no source for category '{cat}' of product '{}'",
                    product.unwrap_or("-")
                ))
            } else {
                Routing::Routes(routes)
            };
        }
        if let Some(service) = ls.service.as_deref() {
            let channels = self.channels(product, service);
            return if channels.is_empty() {
                Routing::Unrouted(format!(
                    "no source for service '{service}' of product '{}'",
                    product.unwrap_or("-")
                ))
            } else {
                Routing::Routes(vec![Route {
                    channels,
                    conditions: Vec::new(),
                    fieldmap: Vec::new(),
                }])
            };
        }
        match product {
            Some("windows") => {
                // Every Windows channel of the map (network events have channels too).
                let mut channels: Vec<String> = Vec::new();
                for s in &self.services {
                    if s.product.as_deref() == Some("windows") {
                        for c in &s.channels {
                            if !channels.contains(c) {
                                channels.push(c.clone());
                            }
                        }
                    }
                }
                if channels.is_empty() {
                    Routing::AnyWindows
                } else {
                    Routing::Routes(vec![Route {
                        channels,
                        conditions: Vec::new(),
                        fieldmap: Vec::new(),
                    }])
                }
            }
            Some(p) => Routing::Unrouted(format!("no source for product '{p}'")),
            None => Routing::Unrouted("logsource names no product, category or service".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(p: Option<&str>, c: Option<&str>, s: Option<&str>) -> LogSource {
        LogSource {
            product: p.map(str::to_string),
            category: c.map(str::to_string),
            service: s.map(str::to_string),
        }
    }

    #[test]
    fn process_creation_is_sysmon_1_and_security_4688() {
        let m = LogsourceMap::builtin();
        let Routing::Routes(r) = m.route(&ls(Some("windows"), Some("process_creation"), None))
        else {
            panic!("not routed")
        };
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].channels, vec!["Microsoft-Windows-Sysmon/Operational"]);
        assert_eq!(
            r[0].conditions,
            vec![("EventID".to_string(), vec!["1".to_string()])]
        );
        assert_eq!(r[1].channels, vec!["Security"]);
        assert!(r[1]
            .fieldmap
            .contains(&("Image".to_string(), "NewProcessName".to_string())));
    }

    #[test]
    fn services_and_unrouted() {
        let m = LogsourceMap::builtin();
        assert_eq!(
            m.route(&ls(Some("windows"), None, Some("security"))),
            Routing::Routes(vec![Route {
                channels: vec!["Security".into()],
                conditions: vec![],
                fieldmap: vec![]
            }])
        );
        let Routing::Routes(r) = m.route(&ls(Some("windows"), None, None)) else {
            panic!("product: windows alone is not routed")
        };
        assert!(r[0].channels.iter().any(|c| c == "Security"));
        assert!(!r[0].channels.iter().any(|c| c.starts_with("zeek/")));
        assert!(matches!(
            m.route(&ls(Some("linux"), Some("process_creation"), None)),
            Routing::Unrouted(_)
        ));
        let Routing::Routes(r) = m.route(&ls(Some("windows"), None, Some("powershell"))) else {
            panic!()
        };
        assert_eq!(r[0].channels.len(), 2);
    }

    #[test]
    fn network_logsources_route_to_network_channels() {
        let m = LogsourceMap::builtin();
        let chans = |p: Option<&str>, c: Option<&str>, s: Option<&str>| -> Vec<String> {
            match m.route(&ls(p, c, s)) {
                Routing::Routes(r) => r.into_iter().flat_map(|r| r.channels).collect(),
                other => panic!("{p:?} {c:?} {s:?}: {other:?}"),
            }
        };
        assert_eq!(chans(Some("zeek"), None, Some("dns")), ["zeek/dns"]);
        assert_eq!(
            chans(Some("zeek"), None, Some("smb_files")),
            ["zeek/smb_files"]
        );
        assert_eq!(
            chans(None, Some("proxy"), None),
            ["zeek/http", "suricata/http"]
        );
        assert_eq!(chans(None, Some("dns"), None), ["zeek/dns", "suricata/dns"]);
        assert_eq!(
            chans(None, Some("firewall"), None),
            ["zeek/conn", "suricata/flow", "suricata/netflow"]
        );
        assert_eq!(chans(None, Some("webserver"), None), ["iis/webserver"]);
        // Windows categories stay on Windows channels.
        assert_eq!(
            chans(Some("windows"), Some("dns_query"), None),
            ["Microsoft-Windows-Sysmon/Operational"]
        );
        assert!(matches!(
            m.route(&ls(Some("apache"), Some("webserver"), None)),
            Routing::Unrouted(_)
        ));
    }

    #[test]
    fn user_entries_extend_the_map() {
        let mut m = LogsourceMap::builtin();
        m.extend(
            LogsourceMap::parse("services:\n  - product: windows\n    service: custom\n    channels: [My/Channel]\n").unwrap(),
        );
        assert!(matches!(
            m.route(&ls(Some("windows"), None, Some("custom"))),
            Routing::Routes(_)
        ));
    }
}
