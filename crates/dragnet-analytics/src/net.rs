//! Which addresses are internal.

use std::net::IpAddr;

/// The organisation's networks. An address is internal when it is in `subnets`, or (by
/// default) in a private range, or when the sensor itself flagged it local (Zeek's
/// `local_orig`/`local_resp`, from its `Site::local_nets`).
#[derive(Clone, Debug)]
pub struct Networks {
    pub subnets: Vec<(IpAddr, u8)>,
    pub private_is_internal: bool,
    pub trust_sensor_flags: bool,
}

impl Default for Networks {
    fn default() -> Self {
        Networks {
            subnets: Vec::new(),
            private_is_internal: true,
            trust_sensor_flags: true,
        }
    }
}

/// Parse `10.0.0.0/8`, `64.225.56.201/32`, `fd00::/8` or a bare address.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (a, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok()?),
        None => (s, if s.contains(':') { 128 } else { 32 }),
    };
    let ip: IpAddr = a.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// Whether `ip` is in `net/bits`.
pub fn in_subnet(ip: &IpAddr, net: &IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            (u32::from(*a) & mask) == (u32::from(*n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            (u128::from(*a) & mask) == (u128::from(*n) & mask)
        }
        _ => false,
    }
}

impl Networks {
    pub fn is_internal(&self, ip: &IpAddr, sensor_flag: Option<bool>) -> bool {
        if self.trust_sensor_flags && sensor_flag == Some(true) {
            return true;
        }
        if self.subnets.iter().any(|(n, b)| in_subnet(ip, n, *b)) {
            return true;
        }
        self.private_is_internal && dragnet_ingest::is_private_ip(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let (n, b) = parse_cidr("64.225.56.201/32").unwrap();
        assert!(in_subnet(&"64.225.56.201".parse().unwrap(), &n, b));
        assert!(!in_subnet(&"64.225.56.202".parse().unwrap(), &n, b));
        let (n, b) = parse_cidr("10.0.0.0/8").unwrap();
        assert!(in_subnet(&"10.2.3.4".parse().unwrap(), &n, b));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        let nets = Networks::default();
        assert!(nets.is_internal(&"10.1.1.1".parse().unwrap(), None));
        assert!(nets.is_internal(&"64.225.56.201".parse().unwrap(), Some(true)));
        assert!(!nets.is_internal(&"8.8.8.8".parse().unwrap(), Some(false)));
    }
}
