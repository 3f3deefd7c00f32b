//! Entities resolved from the evidence itself: hosts (FQDN, NetBIOS name and the addresses seen
//! for each), accounts (`DOMAIN\user`, UPN, SID tied together where an event pairs them), the
//! roles of infrastructure hosts (domain controllers, DNS servers) and how widely each external
//! destination is contacted.
//!
//! Rules:
//! - A host's canonical name is the first label of its name, upper-case (`WS-17.corp.example`,
//!   `ws-17` and `WS-17` are one host). Two hosts of the same short name in different domains
//!   are taken for one.
//! - An address belongs to a host when an event pairs them: Security 4624
//!   (`WorkstationName`/`IpAddress`), 4778 (`ClientName`/`ClientAddress`), Sysmon 3
//!   (`SourceHostname`/`SourceIp`, and `Computer`/`SourceIp` for connections it initiated),
//!   Zeek dns (internal answers of a name), dhcp (`host_name`/`assigned_addr`), ntlm
//!   (`hostname`/`id.orig_h`). An address paired with several hosts (DHCP reuse, NAT) goes to
//!   the host it was paired with most often.
//! - An account's SID and name are tied by any event that carries both (`TargetUserSid` with
//!   `TargetDomainName\TargetUserName`, `SubjectUserSid` with the subject's name); a bare user
//!   name resolves to `DOMAIN\user` when exactly one domain is known for it.
//! - A domain controller is a host that logs Kerberos ticket events (4768/4769) or answers on
//!   port 88 (Zeek); a DNS server is an internal address answering DNS queries of other hosts.
//! - Every table is capped; what did not fit is counted in [`EntityMap::dropped`].

use dragnet_event::{Event, Timestamp, Value};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Caps of the entity tables.
#[derive(Clone, Copy, Debug)]
pub struct EntityLimits {
    pub max_hosts: usize,
    pub max_ips: usize,
    pub max_accounts: usize,
    pub max_destinations: usize,
}

impl Default for EntityLimits {
    fn default() -> Self {
        EntityLimits {
            max_hosts: 100_000,
            max_ips: 200_000,
            max_accounts: 200_000,
            max_destinations: 100_000,
        }
    }
}

/// What an infrastructure host does (its host key does not link incidents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    DomainController,
    DnsServer,
}

const MAX_ALIASES: usize = 8;
const MAX_IPS_PER_HOST: usize = 8;
const MAX_HOSTS_PER_IP: usize = 4;
const MAX_DOMAINS_PER_USER: usize = 4;
/// Sources remembered per destination; a destination with more is common whatever the time.
pub const MAX_DEST_SOURCES: usize = 16;

#[derive(Clone, Debug, Default)]
struct HostRec {
    aliases: BTreeSet<String>,
    roles: BTreeSet<Role>,
}

#[derive(Clone, Debug, Default)]
struct DestRec {
    /// Raw source (address or host name as seen) and its first contact.
    sources: Vec<(Box<str>, Timestamp)>,
    saturated: bool,
}

/// Hosts, addresses, accounts and destinations learnt from the evidence.
#[derive(Clone, Debug, Default)]
pub struct EntityMap {
    limits: EntityLimits,
    hosts: HashMap<String, HostRec>,
    /// Address -> (host, times paired).
    ip_hosts: HashMap<IpAddr, Vec<(String, u32)>>,
    /// Lower-case `domain\user` -> SID.
    name_sid: HashMap<String, String>,
    /// SID -> display `DOMAIN\user`.
    sid_name: HashMap<String, String>,
    /// Lower-case bare user -> upper-case domains seen for it.
    user_domains: HashMap<String, Vec<String>>,
    /// Lower-case UPN -> display `DOMAIN\user` (when an event pairs them).
    upn_name: HashMap<String, String>,
    /// Internal DNS server candidates -> distinct clients seen (up to 3).
    dns_clients: HashMap<IpAddr, Vec<IpAddr>>,
    destinations: HashMap<String, DestRec>,
    dropped: u64,
    approx_bytes: usize,
}

/// Whether an address is internal: private (RFC 1918), shared (RFC 6598), link-local,
/// loopback, or IPv6 unique-local.
pub fn is_internal_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Parse an address as logs write it (`::ffff:10.0.0.1` becomes `10.0.0.1`); `None` for
/// anything else, including the unspecified address.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    let ip: IpAddr = s.parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    if ip.is_unspecified() {
        None
    } else {
        Some(ip)
    }
}

/// The canonical short name of a host name: first label, upper-case, without a leading `\\`
/// or a trailing `$` (machine account). `None` for addresses, `-`, `localhost` and text that
/// is no host name.
pub fn short_host_name(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches('\\').trim_end_matches('.');
    let s = s.strip_suffix('$').unwrap_or(s);
    if s.is_empty() || s.len() > 255 || parse_ip(s).is_some() {
        return None;
    }
    let first = s.split('.').next().unwrap_or(s);
    if first.is_empty()
        || first.len() > 63
        || !first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        || first.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let up = first.to_ascii_uppercase();
    if matches!(
        up.as_str(),
        "LOCALHOST" | "-" | "UNKNOWN" | "WORKGROUP" | "NULL" | "NONE"
    ) {
        return None;
    }
    Some(up)
}

/// Built-in and service identities that say nothing about who is behind an action.
pub fn is_builtin_account(raw: &str) -> bool {
    let s = raw.trim();
    if s.is_empty() || s == "-" {
        return true;
    }
    let user = s.rsplit('\\').next().unwrap_or(s);
    let user = user.split('@').next().unwrap_or(user);
    let u = user.to_ascii_lowercase();
    if u.ends_with('$') {
        return true;
    }
    if s.starts_with("S-1-5-") && !s.starts_with("S-1-5-21-") {
        return true;
    }
    matches!(
        u.as_str(),
        "system"
            | "localsystem"
            | "local service"
            | "localservice"
            | "network service"
            | "networkservice"
            | "anonymous logon"
            | "anonymous"
            | "iusr"
            | "defaultapppool"
            | "trustedinstaller"
            | "-"
            | "n/a"
            | "null"
    ) || u.starts_with("dwm-")
        || u.starts_with("umfd-")
        || u.starts_with("font driver host")
        || u.starts_with("window manager")
}

fn text(ev: &Event, name: &str) -> Option<String> {
    let t = ev.get_text(name)?;
    let t = t.trim();
    if t.is_empty() || t == "-" {
        None
    } else {
        Some(t.to_string())
    }
}

impl EntityMap {
    pub fn new(limits: EntityLimits) -> Self {
        EntityMap {
            limits,
            ..Default::default()
        }
    }

    /// Entries that did not fit in the caps.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Approximate bytes held.
    pub fn state_bytes(&self) -> usize {
        self.approx_bytes
    }

    /// Number of hosts known.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// Whether `name` (any case) is a name seen for a host of the evidence.
    pub fn is_host_alias(&self, name: &str) -> bool {
        let Some(short) = short_host_name(name) else {
            return false;
        };
        let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
        self.hosts
            .get(&short)
            .is_some_and(|r| r.aliases.contains(&lower))
    }

    /// Whether a canonical host name was seen in the evidence.
    pub fn knows_host(&self, canonical: &str) -> bool {
        self.hosts.contains_key(canonical)
    }

    /// Learn a host name (as seen: FQDN or short). Returns its canonical name.
    pub fn add_host(&mut self, raw: &str) -> Option<String> {
        let short = short_host_name(raw)?;
        let alias = raw.trim().trim_end_matches('$').to_ascii_lowercase();
        if let Some(rec) = self.hosts.get_mut(&short) {
            if rec.aliases.len() < MAX_ALIASES && !rec.aliases.contains(&alias) {
                self.approx_bytes += alias.len() + 32;
                rec.aliases.insert(alias);
            }
        } else if self.hosts.len() < self.limits.max_hosts {
            let mut rec = HostRec::default();
            self.approx_bytes += 2 * alias.len() + 96;
            rec.aliases.insert(alias);
            self.hosts.insert(short.clone(), rec);
        } else {
            self.dropped += 1;
        }
        Some(short)
    }

    /// Record that the evidence pairs host `name` with address `ip`.
    pub fn tie_host_ip(&mut self, name: &str, ip: &str) {
        let Some(ip) = parse_ip(ip) else { return };
        if ip.is_loopback() {
            return;
        }
        let Some(host) = self.add_host(name) else {
            return;
        };
        match self.ip_hosts.get_mut(&ip) {
            Some(v) => {
                if let Some(slot) = v.iter_mut().find(|(h, _)| *h == host) {
                    slot.1 = slot.1.saturating_add(1);
                } else if v.len() < MAX_HOSTS_PER_IP {
                    self.approx_bytes += host.len() + 32;
                    v.push((host, 1));
                } else {
                    self.dropped += 1;
                }
            }
            None => {
                if self.ip_hosts.len() < self.limits.max_ips {
                    self.approx_bytes += host.len() + 80;
                    self.ip_hosts.insert(ip, vec![(host, 1)]);
                } else {
                    self.dropped += 1;
                }
            }
        }
    }

    /// Give a host a role (domain controller, DNS server).
    pub fn mark_role(&mut self, name: &str, role: Role) {
        if let Some(h) = self.add_host(name) {
            if let Some(rec) = self.hosts.get_mut(&h) {
                rec.roles.insert(role);
            }
        }
    }

    fn mark_ip_role(&mut self, ip: IpAddr, role: Role) {
        // The address may be tied to a name only later: keep a placeholder host named by
        // the address's role list, resolved when asked.
        let key = ip.to_string();
        let rec = self.hosts.entry(format!("@{key}")).or_default();
        rec.roles.insert(role);
    }

    /// Roles of a canonical host (or of an address).
    pub fn roles(&self, host: &str) -> BTreeSet<Role> {
        let mut out = BTreeSet::new();
        if let Some(r) = self.hosts.get(host) {
            out.extend(r.roles.iter().copied());
        }
        // Roles learnt for addresses that resolve to this host.
        for (ip, hosts) in &self.ip_hosts {
            if let Some(best) = best_host(hosts) {
                if best == host {
                    if let Some(r) = self.hosts.get(&format!("@{ip}")) {
                        out.extend(r.roles.iter().copied());
                    }
                }
            }
        }
        if let Some(ip) = parse_ip(host) {
            if let Some(r) = self.hosts.get(&format!("@{ip}")) {
                out.extend(r.roles.iter().copied());
            }
        }
        out
    }

    /// Infrastructure: every host with a role, by canonical name (addresses included when
    /// they resolve to no name).
    pub fn infrastructure(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (name, rec) in &self.hosts {
            if rec.roles.is_empty() {
                continue;
            }
            match name.strip_prefix('@') {
                Some(ip) => {
                    if let Some(h) = self.host(ip) {
                        out.insert(h);
                    }
                }
                None => {
                    out.insert(name.clone());
                }
            }
        }
        out
    }

    /// The canonical host for a name or an address: a name's short form, an address's host
    /// when the evidence ties it to one, else the address itself. `None` for `-`, empty,
    /// loopback and text that is neither.
    pub fn host(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if let Some(ip) = parse_ip(raw) {
            if ip.is_loopback() {
                return None;
            }
            return Some(match self.ip_hosts.get(&ip).and_then(|v| best_host(v)) {
                Some(h) => h.to_string(),
                None => ip.to_string(),
            });
        }
        short_host_name(raw)
    }

    /// The host entity of a canonical name: aliases and addresses known for it.
    pub fn host_entity(&self, name: &str) -> crate::HostEntity {
        let mut aliases: Vec<String> = self
            .hosts
            .get(name)
            .map(|r| r.aliases.iter().cloned().collect())
            .unwrap_or_default();
        aliases.retain(|a| !a.eq_ignore_ascii_case(name));
        let mut ips: Vec<String> = self
            .ip_hosts
            .iter()
            .filter(|(_, v)| best_host(v) == Some(name))
            .map(|(ip, _)| ip.to_string())
            .collect();
        ips.sort();
        ips.truncate(MAX_IPS_PER_HOST);
        crate::HostEntity {
            name: name.to_string(),
            aliases,
            ips,
        }
    }

    /// Record that the evidence pairs an account's SID with its name.
    pub fn tie_account(&mut self, sid: Option<&str>, domain: Option<&str>, user: &str) {
        let user = user.trim();
        if user.is_empty() || user == "-" || is_builtin_account(user) {
            return;
        }
        if user.contains('@') {
            return;
        }
        let domain = domain
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "-")
            .map(|d| d.split('.').next().unwrap_or(d).to_ascii_uppercase());
        let lower = user.to_ascii_lowercase();
        if let Some(d) = &domain {
            let full = self.user_domains.len() >= self.limits.max_accounts
                && !self.user_domains.contains_key(&lower);
            if full {
                self.dropped += 1;
            } else {
                let doms = self.user_domains.entry(lower.clone()).or_default();
                let known = doms.contains(d);
                if !known && doms.len() < MAX_DOMAINS_PER_USER {
                    self.approx_bytes += d.len() + lower.len() + 48;
                    doms.push(d.clone());
                } else if !known {
                    self.dropped += 1;
                }
            }
        }
        if let (Some(sid), Some(d)) = (sid.map(str::trim), &domain) {
            if sid.starts_with("S-1-5-21-") && self.sid_name.len() < self.limits.max_accounts {
                let display = format!("{d}\\{lower}");
                let key = display.to_ascii_lowercase();
                if !self.sid_name.contains_key(sid) {
                    self.approx_bytes += 2 * (sid.len() + display.len()) + 96;
                    self.sid_name.insert(sid.to_ascii_uppercase(), display);
                    self.name_sid.insert(key, sid.to_ascii_uppercase());
                }
            }
        }
    }

    /// Record that a UPN (`user@domain.tld`) is the account `DOMAIN\user`.
    pub fn tie_upn(&mut self, upn: &str, domain: &str, user: &str) {
        if self.upn_name.len() >= self.limits.max_accounts {
            self.dropped += 1;
            return;
        }
        if let Some(name) = self.account(&format!("{domain}\\{user}")) {
            self.upn_name.insert(upn.trim().to_ascii_lowercase(), name);
        }
    }

    /// The canonical account: `DOMAIN\user` (domain upper-case, user lower-case) for names,
    /// SIDs with a known name and UPNs tied to one; a bare user name with one known domain gets
    /// it; else the lower-case form as seen. `None` for built-in identities.
    pub fn account(&self, raw: &str) -> Option<String> {
        let s = raw.trim();
        if is_builtin_account(s) {
            return None;
        }
        if s.len() > 256 {
            return None;
        }
        if s.starts_with("S-1-") {
            return Some(
                self.sid_name
                    .get(&s.to_ascii_uppercase())
                    .cloned()
                    .unwrap_or_else(|| s.to_ascii_uppercase()),
            );
        }
        if s.contains('@') && !s.contains('\\') {
            let l = s.to_ascii_lowercase();
            if let Some(n) = self.upn_name.get(&l) {
                return Some(n.clone());
            }
            return Some(self.upn_account(&l).unwrap_or(l));
        }
        if let Some((d, u)) = s.split_once('\\') {
            let d = d.split('.').next().unwrap_or(d).to_ascii_uppercase();
            let u = u.to_ascii_lowercase();
            if u.is_empty() {
                return None;
            }
            if d.is_empty() || d == "-" {
                return Some(self.bare_user(&u));
            }
            return Some(format!("{d}\\{u}"));
        }
        Some(self.bare_user(&s.to_ascii_lowercase()))
    }

    /// `user@corp.example` is `CORP\user` when that account is known (the first label of
    /// the UPN's domain is taken for the NetBIOS domain).
    fn upn_account(&self, upn: &str) -> Option<String> {
        let (local, dom) = upn.split_once('@')?;
        let netbios = dom.split('.').next()?.to_ascii_uppercase();
        self.user_domains
            .get(local)
            .filter(|d| d.contains(&netbios))
            .map(|_| format!("{netbios}\\{local}"))
    }

    /// The account a mailbox belongs to, when the evidence knows one under the usual
    /// conventions: the same local part (`j.doe@corp.example` -> `CORP\j.doe`), or a
    /// `given.surname` mailbox whose `g.surname` account exists (`john.doe@` -> `CORP\j.doe`).
    pub fn mailbox_account(&self, mailbox: &str) -> Option<String> {
        let l = mailbox.trim().to_ascii_lowercase();
        if let Some(a) = self.upn_account(&l) {
            return Some(a);
        }
        let (local, dom) = l.split_once('@')?;
        let (given, surname) = local.split_once('.')?;
        let initial = given.chars().next()?;
        self.upn_account(&format!("{initial}.{surname}@{dom}"))
    }

    fn bare_user(&self, u: &str) -> String {
        match self.user_domains.get(u) {
            Some(d) if d.len() == 1 => format!("{}\\{u}", d[0]),
            _ => u.to_string(),
        }
    }

    /// Note that `source` (an address or a host name as seen) contacted the external
    /// destination `dest` (a domain name or an external address) at `time`.
    pub fn note_destination(&mut self, dest: &str, source: &str, time: Timestamp) {
        let dest = dest.trim().trim_end_matches('.');
        if dest.is_empty() || dest == "-" || dest.len() > 255 {
            return;
        }
        if let Some(ip) = parse_ip(dest) {
            if is_internal_ip(&ip) {
                return;
            }
        } else if !dest.contains('.') {
            return;
        }
        let key = dest.to_ascii_lowercase();
        let rec = match self.destinations.get_mut(&key) {
            Some(r) => r,
            None => {
                if self.destinations.len() >= self.limits.max_destinations {
                    self.dropped += 1;
                    return;
                }
                self.approx_bytes += key.len() + 96;
                self.destinations.entry(key).or_default()
            }
        };
        if rec.saturated {
            return;
        }
        if let Some(slot) = rec
            .sources
            .iter_mut()
            .find(|(s, _)| s.eq_ignore_ascii_case(source))
        {
            if time < slot.1 && !time.is_unknown() {
                slot.1 = time;
            }
        } else if rec.sources.len() < MAX_DEST_SOURCES {
            self.approx_bytes += source.len() + 32;
            rec.sources.push((source.into(), time));
        } else {
            rec.saturated = true;
        }
    }

    /// Whether an external destination is common: contacted by more distinct sources than
    /// are remembered, or by at least two distinct hosts (after resolution) by `cutoff` (the
    /// end of the baseline period).
    pub fn is_common_destination(&self, dest: &str, cutoff: Timestamp) -> bool {
        let key = dest.trim().trim_end_matches('.').to_ascii_lowercase();
        let Some(rec) = self.destinations.get(&key) else {
            return false;
        };
        if rec.saturated {
            return true;
        }
        let mut early: Vec<String> = Vec::new();
        for (src, t) in &rec.sources {
            if *t > cutoff {
                continue;
            }
            let h = self
                .host(src)
                .unwrap_or_else(|| src.to_ascii_uppercase().to_string());
            if !early.contains(&h) {
                early.push(h);
            }
        }
        early.len() >= 2
    }

    /// Learn what one event tells about entities.
    pub fn observe(&mut self, ev: &Event) {
        if let Some(Value::Str(p)) = ev.get("_product") {
            if p.eq_ignore_ascii_case("zeek") {
                self.observe_zeek(ev);
            }
            return;
        }
        let Some(id) = ev.event_id() else { return };
        let computer = ev.host.to_string();
        let sysmon = ev.channel().is_some_and(|c| c.contains("Sysmon"));
        match id {
            4624 | 4625 | 4648 | 4768 | 4769 | 4776 | 4778 | 4779 if !sysmon => {
                if let (Some(ws), Some(ip)) = (
                    text(ev, "WorkstationName").or_else(|| text(ev, "ClientName")),
                    text(ev, "IpAddress").or_else(|| text(ev, "ClientAddress")),
                ) {
                    self.tie_host_ip(&ws, &ip);
                }
                if id == 4768 || id == 4769 {
                    if !computer.is_empty() {
                        self.mark_role(&computer, Role::DomainController);
                    }
                    if let (Some(u), Some(d)) =
                        (text(ev, "TargetUserName"), text(ev, "TargetDomainName"))
                    {
                        let u = u.split('@').next().unwrap_or(&u).to_string();
                        self.tie_account(text(ev, "TargetSid").as_deref(), Some(&d), &u);
                    }
                }
                if let Some(u) = text(ev, "TargetUserName") {
                    self.tie_account(
                        text(ev, "TargetUserSid").as_deref(),
                        text(ev, "TargetDomainName").as_deref(),
                        &u,
                    );
                }
                if let Some(u) = text(ev, "AccountName") {
                    self.tie_account(None, text(ev, "AccountDomain").as_deref(), &u);
                }
            }
            1 | 3 | 22 if sysmon => {
                if id == 3 {
                    let initiated = text(ev, "Initiated").is_some_and(|s| s == "true");
                    if let (Some(n), Some(ip)) = (text(ev, "SourceHostname"), text(ev, "SourceIp"))
                    {
                        self.tie_host_ip(&n, &ip);
                    } else if initiated && !computer.is_empty() {
                        if let Some(ip) = text(ev, "SourceIp") {
                            self.tie_host_ip(&computer, &ip);
                        }
                    }
                    if let (Some(n), Some(ip)) =
                        (text(ev, "DestinationHostname"), text(ev, "DestinationIp"))
                    {
                        if parse_ip(&ip).is_some_and(|i| is_internal_ip(&i)) {
                            self.tie_host_ip(&n, &ip);
                        } else if initiated {
                            self.note_destination(&n, &computer, ev.time);
                        }
                    }
                    if initiated {
                        if let Some(ip) = text(ev, "DestinationIp") {
                            self.note_destination(&ip, &computer, ev.time);
                        }
                    }
                } else if id == 22 {
                    if let Some(q) = text(ev, "QueryName") {
                        self.note_destination(&q, &computer, ev.time);
                    }
                }
                if let Some(u) = text(ev, "User") {
                    if let Some((d, n)) = u.split_once('\\') {
                        self.tie_account(None, Some(d), n);
                    }
                }
            }
            _ => {
                if let Some(u) = text(ev, "SubjectUserName") {
                    self.tie_account(
                        text(ev, "SubjectUserSid").as_deref(),
                        text(ev, "SubjectDomainName").as_deref(),
                        &u,
                    );
                }
            }
        }
    }

    fn observe_zeek(&mut self, ev: &Event) {
        let service = ev.get_text("_service").unwrap_or_default().to_string();
        let orig = text(ev, "id.orig_h");
        let resp = text(ev, "id.resp_h");
        let resp_p = ev.get("id.resp_p").and_then(Value::as_i64).unwrap_or(0);
        match service.as_str() {
            "dns" => {
                if let (Some(q), Some(Value::List(answers))) =
                    (text(ev, "query"), ev.get("answers"))
                {
                    for a in answers.iter().take(8) {
                        if let Some(a) = a.as_text() {
                            if parse_ip(&a).is_some_and(|ip| is_internal_ip(&ip)) {
                                self.tie_host_ip(&q, &a);
                            }
                        }
                    }
                }
                if let (Some(q), Some(o)) = (text(ev, "query"), orig.as_deref()) {
                    self.note_destination(&q, o, ev.time);
                }
                if let (Some(o), Some(r)) = (
                    orig.as_deref().and_then(parse_ip),
                    resp.as_deref().and_then(parse_ip),
                ) {
                    if resp_p == 53 && o != r && is_internal_ip(&r) {
                        let v = self.dns_clients.entry(r).or_default();
                        if v.len() < 3 && !v.contains(&o) {
                            v.push(o);
                            if v.len() == 3 {
                                self.mark_ip_role(r, Role::DnsServer);
                            }
                        }
                    }
                }
            }
            "dhcp" => {
                let addr = text(ev, "assigned_addr").or_else(|| text(ev, "assigned_ip"));
                let name = text(ev, "client_fqdn").or_else(|| text(ev, "host_name"));
                if let (Some(n), Some(a)) = (name, addr) {
                    self.tie_host_ip(&n, &a);
                }
            }
            "ntlm" => {
                if let (Some(n), Some(o)) = (text(ev, "hostname"), orig.as_deref()) {
                    self.tie_host_ip(&n, o);
                }
                if let (Some(u), Some(d)) = (text(ev, "username"), text(ev, "domainname")) {
                    self.tie_account(None, Some(&d), &u);
                }
            }
            "kerberos" => {
                if let Some(r) = resp.as_deref().and_then(parse_ip) {
                    if is_internal_ip(&r) {
                        self.mark_ip_role(r, Role::DomainController);
                    }
                }
            }
            "conn" => {
                if resp_p == 88 {
                    if let Some(r) = resp.as_deref().and_then(parse_ip) {
                        if is_internal_ip(&r) {
                            self.mark_ip_role(r, Role::DomainController);
                        }
                    }
                }
                if let (Some(o), Some(r)) = (orig.as_deref(), resp.as_deref()) {
                    if parse_ip(r).is_some_and(|ip| !is_internal_ip(&ip)) {
                        self.note_destination(r, o, ev.time);
                    }
                }
            }
            "ssl" => {
                if let (Some(o), Some(s)) = (orig.as_deref(), text(ev, "server_name")) {
                    self.note_destination(&s, o, ev.time);
                }
            }
            "http" => {
                if let (Some(o), Some(h)) = (orig.as_deref(), text(ev, "host")) {
                    let h = h.rsplit_once(':').map(|(a, _)| a).unwrap_or(&h).to_string();
                    self.note_destination(&h, o, ev.time);
                }
            }
            _ => {}
        }
    }
}

/// The host an address was paired with most often (ties: the name first in order).
fn best_host(v: &[(String, u32)]) -> Option<&str> {
    v.iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(h, _)| h.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, SourceFormat};

    fn ev(fields: &[(&str, &str)]) -> Event {
        let mut e = Event::new(Provenance {
            path: "t.evtx".into(),
            record: 1,
            format: SourceFormat::Evtx,
        });
        for (k, v) in fields {
            if *k == "Computer" {
                e.host = (*v).into();
            }
            if *k == "EventID" {
                e.push("EventID", Value::Int(v.parse().unwrap()));
            } else {
                e.push(*k, Value::str(*v));
            }
        }
        e
    }

    #[test]
    fn host_names_and_addresses_resolve_to_one_host() {
        let mut m = EntityMap::new(EntityLimits::default());
        assert_eq!(
            short_host_name("WS-17.corp.example").as_deref(),
            Some("WS-17")
        );
        assert_eq!(short_host_name("ws-17").as_deref(), Some("WS-17"));
        assert_eq!(short_host_name("WS-17$").as_deref(), Some("WS-17"));
        assert_eq!(short_host_name("10.0.0.5"), None);
        assert_eq!(short_host_name("-"), None);
        assert_eq!(short_host_name("localhost"), None);
        // Before any evidence, the address is its own host.
        assert_eq!(m.host("10.1.2.3").as_deref(), Some("10.1.2.3"));
        m.observe(&ev(&[
            ("EventID", "4624"),
            ("Channel", "Security"),
            ("Computer", "FS-03.corp.example"),
            ("LogonType", "3"),
            ("WorkstationName", "WS-17"),
            ("IpAddress", "::ffff:10.1.2.3"),
            ("TargetUserName", "j.doe"),
            ("TargetDomainName", "CORP"),
            ("TargetUserSid", "S-1-5-21-1-2-3-1104"),
        ]));
        m.add_host("WS-17.corp.example");
        assert_eq!(m.host("10.1.2.3").as_deref(), Some("WS-17"));
        assert_eq!(m.host("ws-17.CORP.example").as_deref(), Some("WS-17"));
        assert_eq!(m.host("127.0.0.1"), None);
        let e = m.host_entity("WS-17");
        assert_eq!(e.ips, vec!["10.1.2.3"]);
        assert!(e.aliases.contains(&"ws-17.corp.example".to_string()));
        // Accounts: SID, name and bare name are one.
        assert_eq!(
            m.account("S-1-5-21-1-2-3-1104").as_deref(),
            Some("CORP\\j.doe")
        );
        assert_eq!(m.account("corp\\J.Doe").as_deref(), Some("CORP\\j.doe"));
        assert_eq!(m.account("j.doe").as_deref(), Some("CORP\\j.doe"));
        assert_eq!(
            m.account("corp.example\\j.doe").as_deref(),
            Some("CORP\\j.doe")
        );
        assert_eq!(m.account("NT AUTHORITY\\SYSTEM"), None);
        assert_eq!(m.account("WS-17$"), None);
        assert_eq!(m.account("S-1-5-18"), None);
    }

    #[test]
    fn an_address_shared_by_hosts_goes_to_the_most_paired_one() {
        let mut m = EntityMap::new(EntityLimits::default());
        m.tie_host_ip("WS-1", "10.0.0.9");
        m.tie_host_ip("WS-2", "10.0.0.9");
        m.tie_host_ip("WS-2", "10.0.0.9");
        assert_eq!(m.host("10.0.0.9").as_deref(), Some("WS-2"));
    }

    #[test]
    fn zeek_dns_answers_and_kerberos_servers() {
        let mut m = EntityMap::new(EntityLimits::default());
        let mut e = Event::new(Provenance {
            path: "dns.log".into(),
            record: 1,
            format: SourceFormat::ZeekTsv,
        });
        e.push("_product", Value::str("zeek"));
        e.push("_service", Value::str("dns"));
        e.push("id.orig_h", Value::str("10.0.0.7"));
        e.push("id.resp_h", Value::str("10.0.0.2"));
        e.push("id.resp_p", Value::Int(53));
        e.push("query", Value::str("fs-03.corp.example"));
        e.push(
            "answers",
            Value::List(vec![Value::str("10.0.0.30"), Value::str("8.8.8.8")]),
        );
        m.observe(&e);
        assert_eq!(m.host("10.0.0.30").as_deref(), Some("FS-03"));
        assert_eq!(m.host("8.8.8.8").as_deref(), Some("8.8.8.8"));
        m.observe(&ev(&[
            ("EventID", "4769"),
            ("Channel", "Security"),
            ("Computer", "DC-01.corp.example"),
        ]));
        assert!(m.infrastructure().contains("DC-01"));
        assert!(!m.infrastructure().contains("FS-03"));
    }

    #[test]
    fn destinations_common_by_baseline_prevalence() {
        let mut m = EntityMap::new(EntityLimits::default());
        let t = |h: i64| Timestamp::from_nanos(h * 3_600_000_000_000);
        m.tie_host_ip("WS-1", "10.0.0.1");
        m.note_destination("outlook.office365.com", "10.0.0.1", t(1));
        m.note_destination("outlook.office365.com", "WS-2", t(2));
        // The same host by address and by name counts once.
        m.note_destination("c2.example", "10.0.0.1", t(3));
        m.note_destination("c2.example", "ws-1.corp.example", t(3));
        m.note_destination("c2.example", "WS-3", t(30));
        assert!(m.is_common_destination("outlook.office365.com", t(10)));
        assert!(!m.is_common_destination("c2.example", t(10)));
        assert!(!m.is_common_destination("never.example", t(10)));
    }
}
