//! A small deterministic PRNG (SplitMix64) with the draws the simulator needs.
//!
//! Every stream is derived from the configured seed and a label, so that independent parts
//! of the simulation (the attack, each host's background) never share a stream: changing the
//! volume of one cannot shift the draws of another.

/// SplitMix64: 64 bits of state, good enough statistics for log synthesis, trivially
/// reproducible on every platform.
#[derive(Clone, Debug)]
pub struct Rng(std::cell::Cell<u64>);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn fnv1a(label: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Rng {
    /// A stream for `label` under `seed`.
    pub fn derive(seed: u64, label: &str) -> Rng {
        let r = Rng(std::cell::Cell::new(seed ^ fnv1a(label).rotate_left(23)));
        r.next_u64();
        r
    }

    pub fn next_u64(&self) -> u64 {
        let mut z = self.0.get().wrapping_add(GOLDEN);
        self.0.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in `lo..hi` (returns `lo` when the range is empty).
    pub fn range(&self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn pick<'a, T>(&self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Index drawn with the given weights.
    pub fn weighted(&self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total.max(1));
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        weights.len() - 1
    }

    /// Exponential with the given mean.
    pub fn exp(&self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Roughly normal (sum of uniforms), clamped to `mean ± 3 sd`.
    pub fn normal(&self, mean: f64, sd: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.f64()).sum::<f64>() - 2.0;
        mean + sd * s * 1.732
    }

    /// Log-normal-ish size: `median * e^(sigma * N(0,1))`.
    pub fn lognormal(&self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal(0.0, 1.0)).exp()
    }

    pub fn hex(&self, n: usize) -> String {
        self.hex_with(n, b"0123456789abcdef")
    }

    pub fn hex_upper(&self, n: usize) -> String {
        self.hex_with(n, b"0123456789ABCDEF")
    }

    fn hex_with(&self, n: usize, digits: &[u8; 16]) -> String {
        let mut s = String::with_capacity(n);
        let mut bits = 0u64;
        for i in 0..n {
            if i % 16 == 0 {
                bits = self.next_u64();
            }
            s.push(digits[(bits & 15) as usize] as char);
            bits >>= 4;
        }
        s
    }

    pub fn base62(&self, n: usize) -> String {
        (0..n)
            .map(|_| BASE62[self.below(62) as usize] as char)
            .collect()
    }

    pub fn lower(&self, n: usize) -> String {
        (0..n)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }

    pub fn digits(&self, n: usize) -> String {
        (0..n)
            .map(|_| (b'0' + self.below(10) as u8) as char)
            .collect()
    }

    /// A version-4 style GUID, lower case, without braces.
    pub fn guid(&self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][self.below(4) as usize],
            &h[17..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = Rng::derive(7, "x");
        let b = Rng::derive(7, "x");
        let c = Rng::derive(7, "y");
        let va: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let vc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
        let r = Rng::derive(1, "range");
        for _ in 0..1000 {
            let x = r.range(5, 9);
            assert!((5..9).contains(&x));
            assert!(r.f64() < 1.0);
        }
        assert_eq!(r.guid().len(), 36);
    }
}
