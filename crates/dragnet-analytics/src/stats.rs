//! The beacon scoring of RITA v5, as its authors describe it (timestamp and data-size scores
//! from Bowley skewness and the median absolute deviation; histogram score from the coefficient
//! of variation of connections per hour and a bimodal fit; duration score from dataset coverage
//! and consistency; weighted sum rounded to three decimals), implemented from that description.
//! Quartiles follow the usual "median of each half, the median itself left out of odd halves"
//! rule (Tukey's hinges), which is what RITA's statistics library computes.

/// Scoring settings (RITA's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct BeaconWeights {
    pub ts: f64,
    pub ds: f64,
    pub dur: f64,
    pub hist: f64,
    /// Bucket size of the bimodal analysis, as a fraction of the tallest hour.
    pub hist_mode_sensitivity: f64,
    /// Hour buckets the bimodal fit may throw away as outliers.
    pub hist_bimodal_outlier_removal: usize,
    /// Hours with connections needed before the bimodal fit counts.
    pub hist_bimodal_min_hours: usize,
    /// Hours with connections needed before the duration score counts.
    pub dur_min_hours: usize,
    /// Consecutive hours for a full consistency score.
    pub dur_ideal_hours: usize,
}

impl Default for BeaconWeights {
    fn default() -> Self {
        BeaconWeights {
            ts: 0.25,
            ds: 0.25,
            dur: 0.25,
            hist: 0.25,
            hist_mode_sensitivity: 0.05,
            hist_bimodal_outlier_removal: 1,
            hist_bimodal_min_hours: 11,
            dur_min_hours: 6,
            dur_ideal_hours: 12,
        }
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ceil3(x: f64) -> f64 {
    (x * 1000.0).ceil() / 1000.0
}

/// Median of sorted data.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// (Q1, Q2, Q3) of sorted data: medians of the lower and upper halves (the median itself
/// excluded from both when the count is odd).
pub fn quartiles(sorted: &[f64]) -> Option<(f64, f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let (c1, c2) = if n.is_multiple_of(2) {
        (n / 2, n / 2)
    } else {
        ((n - 1) / 2, (n - 1) / 2 + 1)
    };
    let q1 = median(&sorted[..c1]).unwrap_or(sorted[0]);
    let q2 = median(sorted)?;
    let q3 = median(&sorted[c2..]).unwrap_or(sorted[n - 1]);
    Some((q1, q2, q3))
}

/// Bowley skewness and its score (`1 - |skew|`). The skew is taken as zero when the
/// interquartile range is below 10 or the median equals a quartile (it is unreliable then).
pub fn bowley(sorted: &[f64]) -> Option<(f64, f64)> {
    if sorted.len() < 3 {
        return None;
    }
    let (q1, q2, q3) = quartiles(sorted)?;
    let den = q3 - q1;
    let mut skew = 0.0;
    if den >= 10.0 && q2 != q1 && q2 != q3 {
        skew = (q1 + q3 - 2.0 * q2) / den;
    }
    Some((skew, 1.0 - skew.abs()))
}

/// Median absolute deviation and its score `(median - mad) / median` (`default` when the
/// median is below 1; never negative).
pub fn mad(sorted: &[f64], default: f64) -> Option<(f64, f64)> {
    let m = median(sorted)?;
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - m).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median(&dev)?;
    let mut score = default;
    if m >= 1.0 {
        score = (m - mad) / m;
    }
    if score < 0.0 || score.is_nan() {
        score = 0.0;
    }
    Some((mad, score))
}

/// `(score, skew, mad)`: the mean of the skew and MAD scores, rounded.
pub fn statistical_score(sorted: &[f64], default_mad: f64) -> Option<(f64, f64, f64)> {
    if sorted.is_empty() {
        return None;
    }
    let (skew, skew_score) = bowley(sorted)?;
    let (mad, mad_score) = mad(sorted, default_mad)?;
    Some((round3((skew_score + mad_score) / 2.0), skew, mad))
}

/// Timestamp score from connection times (seconds): the statistical score of the non-zero
/// intervals. `None` with fewer than 4 times or 3 non-zero intervals.
pub fn timestamp_score(ts: &[u32]) -> Option<(f64, f64, f64)> {
    if ts.len() < 4 {
        return None;
    }
    let mut sorted = ts.to_vec();
    sorted.sort_unstable();
    let mut deltas: Vec<f64> = sorted
        .windows(2)
        .map(|w| f64::from(w[1] - w[0]))
        .filter(|d| *d > 0.0)
        .collect();
    if deltas.len() < 3 {
        return None;
    }
    deltas.sort_by(f64::total_cmp);
    statistical_score(&deltas, 1.0)
}

/// Data-size score from the bytes each connection sent. `None` with fewer than 3.
pub fn data_size_score(bytes: &[f64]) -> Option<(f64, f64, f64)> {
    if bytes.len() < 3 {
        return None;
    }
    let mut sorted = bytes.to_vec();
    sorted.sort_by(f64::total_cmp);
    statistical_score(&sorted, 0.0)
}

/// What the hourly histogram of a pair gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Connections per bin.
    pub bins: Vec<u32>,
    /// Bins with at least one connection.
    pub total_bars: usize,
    /// Longest run of consecutive non-empty bins, wrapping from the end to the start.
    pub longest_run: usize,
    pub cv_score: f64,
    pub bimodal_score: f64,
    /// `max(cv_score, bimodal_score)`.
    pub score: f64,
}

/// Histogram of `ts` over `bins` equal bins between `min` and `max` (times before `min` fall
/// in the first bin, at or after `max` in the last), and its score.
pub fn histogram_score(
    min: i64,
    max: i64,
    ts: &[u32],
    bins: usize,
    w: &BeaconWeights,
) -> Option<Histogram> {
    if ts.is_empty() || max <= min || bins == 0 {
        return None;
    }
    let step = (max - min) as f64 / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| min as f64 + i as f64 * step).collect();
    edges[bins] = max as f64;
    let mut hist = vec![0u32; bins];
    let mut sorted = ts.to_vec();
    sorted.sort_unstable();
    let mut cur = 0usize;
    for &t in &sorted {
        let t = f64::from(t);
        while cur + 1 < bins && t >= edges[cur + 1] {
            cur += 1;
        }
        hist[cur] += 1;
    }
    let total_bars = hist.iter().filter(|&&c| c > 0).count();
    let largest = hist.iter().copied().max().unwrap_or(0);
    let bin_size = (f64::from(largest) * w.hist_mode_sensitivity)
        .ceil()
        .max(1.0);
    // Frequency of bar heights, bucketed by bin_size.
    let mut freq: std::collections::BTreeMap<i64, u32> = std::collections::BTreeMap::new();
    for &c in &hist {
        if c > 0 {
            let b = ((f64::from(c) / bin_size).floor() * bin_size) as i64;
            *freq.entry(b).or_insert(0) += 1;
        }
    }
    let mut longest = 0usize;
    let mut run = 0usize;
    for i in 0..bins * 2 {
        if hist[i % bins] > 0 {
            run += 1;
        } else {
            longest = longest.max(run);
            run = 0;
        }
    }
    longest = longest.max(run).min(bins);
    // Coefficient of variation of the bars.
    let total: f64 = hist.iter().map(|&c| f64::from(c)).sum();
    let mean = total / bins as f64;
    let sd = (hist
        .iter()
        .map(|&c| (f64::from(c) - mean).powi(2))
        .sum::<f64>()
        / bins as f64)
        .sqrt();
    let cv = sd / mean.abs();
    let cv_score = if cv > 1.0 {
        0.0
    } else {
        round3(1.0 - cv).min(1.0)
    };
    // Bimodal fit: share of bars in the two most common height buckets.
    let min_hours = if w.hist_bimodal_min_hours < 6 {
        11
    } else {
        w.hist_bimodal_min_hours
    };
    let mut bimodal = 0.0;
    if total_bars >= min_hours {
        let mut counts: Vec<u32> = freq.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top2 = counts.iter().take(2).sum::<u32>();
        let denom = (total_bars.saturating_sub(w.hist_bimodal_outlier_removal)).max(1) as f64;
        bimodal = f64::from(top2) / denom;
    }
    let bimodal_score = round3(bimodal).min(1.0);
    Some(Histogram {
        bins: hist,
        total_bars,
        longest_run: longest,
        cv_score,
        bimodal_score,
        score: cv_score.max(bimodal_score),
    })
}

#[allow(clippy::too_many_arguments)] // RITA's own signature, kept for its test vectors
/// `(coverage, consistency, score)`: the share of the dataset's span the pair covers, the
/// longest run of hours against the ideal; zero when fewer than `min_hours` hours had
/// connections.
pub fn duration_score(
    dataset_min: i64,
    dataset_max: i64,
    first: i64,
    last: i64,
    total_bars: usize,
    longest_run: usize,
    min_hours: usize,
    ideal_hours: usize,
) -> Option<(f64, f64, f64)> {
    if min_hours < 1 || ideal_hours < 1 || dataset_max <= dataset_min || last <= first {
        return None;
    }
    if total_bars < min_hours {
        return Some((0.0, 0.0, 0.0));
    }
    let coverage = ceil3((last - first) as f64 / (dataset_max - dataset_min) as f64).min(1.0);
    let consistency = ceil3(longest_run as f64 / ideal_hours as f64).min(1.0);
    Some((coverage, consistency, coverage.max(consistency)))
}

/// The weighted beacon score, rounded; `None` when a score or weight is outside 0..1 or the
/// weights do not sum to 1.
pub fn beacon_score(ts: f64, ds: f64, dur: f64, hist: f64, w: &BeaconWeights) -> Option<f64> {
    let scores = [ts, ds, dur, hist];
    let weights = [w.ts, w.ds, w.dur, w.hist];
    if scores
        .iter()
        .chain(weights.iter())
        .any(|x| !(0.0..=1.0).contains(x))
    {
        return None;
    }
    if (weights.iter().sum::<f64>() - 1.0).abs() > 1e-9 {
        return None;
    }
    Some(round3(ts * w.ts + ds * w.ds + dur * w.dur + hist * w.hist))
}

/// Thresholds that grade a value into RITA's threat categories.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub base: f64,
    pub low: f64,
    pub medium: f64,
    pub high: f64,
}

/// Category scores: none 0.2, low 0.4, medium 0.6, high 0.8 (above 0.8: critical).
pub const NONE_SCORE: f64 = 0.2;
pub const LOW_SCORE: f64 = 0.4;
pub const MEDIUM_SCORE: f64 = 0.6;
pub const HIGH_SCORE: f64 = 0.8;

/// A value graded between the category scores, linearly within each bucket; 0 below `base`,
/// at most [`HIGH_SCORE`].
pub fn bucketed(value: f64, t: Thresholds) -> f64 {
    if value < t.base {
        0.0
    } else if value < t.low {
        NONE_SCORE + (value - t.base) / (t.low - t.base) * (LOW_SCORE - NONE_SCORE)
    } else if value < t.medium {
        LOW_SCORE + (value - t.low) / (t.medium - t.low) * (MEDIUM_SCORE - LOW_SCORE)
    } else {
        let v = value.min(t.high);
        MEDIUM_SCORE + (v - t.medium) / (t.high - t.medium) * (HIGH_SCORE - MEDIUM_SCORE)
    }
}

/// The finding level of a final threat score: above 0.8 critical, from 0.6 high, from 0.4
/// medium, from 0.2 low, else informational.
pub fn level_of(score: f64) -> dragnet_event::Level {
    use dragnet_event::Level;
    if score > HIGH_SCORE + 1e-9 {
        Level::Critical
    } else if score >= MEDIUM_SCORE - 1e-9 {
        Level::High
    } else if score >= LOW_SCORE - 1e-9 {
        Level::Medium
    } else if score >= NONE_SCORE - 1e-9 {
        Level::Low
    } else {
        Level::Informational
    }
}

#[cfg(test)]
mod tests {
    //! Test vectors ported from RITA v5's unit tests (activecm/rita,
    //! `analysis/beacons_test.go`, GPL-3.0): inputs and expected values only.
    #![allow(clippy::type_complexity)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 0.001
    }

    #[test]
    fn rita_beacon_score_vectors() {
        let w = |a, b, c, d| BeaconWeights {
            ts: a,
            ds: b,
            dur: c,
            hist: d,
            ..Default::default()
        };
        let cases: &[(f64, f64, f64, f64, BeaconWeights, Option<f64>)] = &[
            (0.8, 0.7, 0.6, 0.5, w(0.2, 0.2, 0.3, 0.3), Some(0.63)),
            (1.0, 1.0, 1.0, 1.0, w(0.25, 0.25, 0.25, 0.25), Some(1.0)),
            (1.0, 1.0, 1.0, 1.0, w(0.1, 0.2, 0.3, 0.4), Some(1.0)),
            (0.1, 0.2, 0.3, 0.4, w(0.25, 0.25, 0.25, 0.25), Some(0.25)),
            (0.1, 0.2, 0.3, 0.4, w(0.1, 0.2, 0.3, 0.4), Some(0.30)),
            (
                0.111,
                0.222,
                0.333,
                0.444,
                w(0.173, 0.325, 0.299, 0.203),
                Some(0.281),
            ),
            (
                0.1001,
                0.1002,
                0.1003,
                0.1004,
                w(0.249, 0.251, 0.250, 0.250),
                Some(0.10025),
            ),
            (0.25, 1.0, 1.0, 1.0, w(1.0, 0.0, 0.0, 0.0), Some(0.25)),
            (-0.1, 0.5, 0.5, 0.5, w(0.25, 0.25, 0.25, 0.25), None),
            (1.1, 0.5, 0.5, 0.5, w(0.25, 0.25, 0.25, 0.25), None),
            (0.5, 0.5, 0.5, 0.5, w(-0.1, 0.25, 0.25, 0.25), None),
            (0.5, 0.5, 0.5, 0.5, w(1.1, 0.25, 0.25, 0.25), None),
            (0.5, 0.5, 0.5, 0.5, w(0.3, 0.3, 0.3, 0.3), None),
            (0.5, 0.5, 0.5, 0.5, w(0.3, 0.3, 0.2, 0.1), None),
            (0.5, 0.5, 0.5, 0.5, w(0.3, 0.3, 0.3, 0.2), None),
        ];
        for (i, (a, b, c, d, w, want)) in cases.iter().enumerate() {
            let got = beacon_score(*a, *b, *c, *d, w);
            match (got, want) {
                (Some(g), Some(x)) => assert!(close(g, *x), "case {i}: {g} vs {x}"),
                (None, None) => {}
                _ => panic!("case {i}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn rita_timestamp_score_vectors() {
        let cases: &[(&[u32], Option<(f64, f64, f64)>)] = &[
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], Some((1.0, 0.0, 0.0))),
            (
                &[
                    1517338924, 1517338984, 1517339044, 1517339104, 1517339164, 1517339224,
                    1517339284, 1517339344, 1517339404, 1517339464,
                ],
                Some((1.0, 0.0, 0.0)),
            ),
            (
                &[
                    1517338924, 1517339022, 1517339121, 1517339220, 1517339320, 1517339420,
                    1517339520, 1517339621, 1517339722, 1517339824,
                ],
                Some((0.995, 0.0, 1.0)),
            ),
            (
                &[
                    1517338924, 1517339022, 1517339322, 1517339420, 1517339720, 1517339818,
                    1517340118, 1517340216, 1517340516, 1517340614, 1517340914,
                ],
                Some((0.746, 0.0, 101.0)),
            ),
            (
                &[
                    1517338924, 1517338925, 1517339224, 1517339249, 1517344224, 1517344314,
                    1517344316, 1517344358, 1517344858, 1517346358,
                ],
                Some((0.083, 0.845, 89.0)),
            ),
            (&[60, 60, 60, 60, 60, 60, 60, 60, 60], None),
            (&[1517338924, 1517338925], None),
            (&[], None),
        ];
        for (i, (ts, want)) in cases.iter().enumerate() {
            let got = timestamp_score(ts);
            match (got, want) {
                (Some((s, k, m)), Some((ws, wk, wm))) => {
                    assert!(
                        close(s, *ws) && close(k, *wk) && close(m, *wm),
                        "case {i}: {got:?} vs {want:?}"
                    )
                }
                (None, None) => {}
                _ => panic!("case {i}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn rita_data_size_and_statistical_vectors() {
        let ds: &[(&[f64], Option<(f64, f64, f64)>)] = &[
            (
                &[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.],
                Some((0.773, 0.0, 2.5)),
            ),
            (&[60.; 9], Some((1.0, 0.0, 0.0))),
            (
                &[98., 99., 99., 100., 100., 100., 101., 101., 102.],
                Some((0.995, 0.0, 1.0)),
            ),
            (
                &[524885., 1., 5000., 98654., 50., 41., 965842., 3.],
                Some((0.008, 0.984, 2523.0)),
            ),
            (&[0.; 10], Some((0.5, 0.0, 0.0))),
            (&[100., 200.], None),
            (&[], None),
        ];
        for (i, (b, want)) in ds.iter().enumerate() {
            let got = data_size_score(b);
            match (got, want) {
                (Some((s, k, m)), Some((ws, wk, wm))) => {
                    assert!(
                        close(s, *ws) && close(k, *wk) && close(m, *wm),
                        "case {i}: {got:?} vs {want:?}"
                    )
                }
                (None, None) => {}
                _ => panic!("case {i}: {got:?} vs {want:?}"),
            }
        }
        let st: &[(&[f64], f64, (f64, f64, f64))] = &[
            (
                &[1., 299., 25., 4975., 90., 2., 42., 500., 1500.],
                1.0,
                (0.083, 0.845, 89.0),
            ),
            (&[0.; 10], 1.0, (1.0, 0.0, 0.0)),
            (
                &[-1., -2., -3., -4., -5., -6., -7., -8., -9., -10.],
                0.0,
                (0.5, 0.0, 2.5),
            ),
            (&[7., 8., 7., 8., 7., 8., 7., 8., 7.], 1.0, (1.0, 0.0, 0.0)),
            (&[1., 1., 2., 2., 2., 2.], 1.0, (1.0, 0.0, 0.0)),
        ];
        for (i, (v, def, (ws, wk, wm))) in st.iter().enumerate() {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            let (s, k, m) = statistical_score(&v, *def).unwrap();
            assert!(
                close(s, *ws) && close(k, *wk) && close(m, *wm),
                "case {i}: {s} {k} {m}"
            );
        }
        assert!(statistical_score(&[], 0.0).is_none());
    }

    #[test]
    fn rita_duration_vectors() {
        let m = 1517338924i64;
        let h = 3600i64;
        let cases = [
            (m, m + 24 * h, 24, 24, (1.0, 1.0, 1.0)),
            (m, m + 24 * h, 6, 0, (1.0, 0.0, 1.0)),
            (m + 12 * h, m + 24 * h, 6, 0, (0.5, 0.0, 0.5)),
            (m, m + 12 * h, 6, 0, (0.5, 0.0, 0.5)),
            (m + 6 * h, m + 24 * h, 6, 0, (0.75, 0.0, 0.75)),
            (m + 12 * h, m + 24 * h, 12, 12, (0.5, 1.0, 1.0)),
            (m + 12 * h, m + 18 * h, 6, 6, (0.25, 0.5, 0.5)),
            (m + 6 * h, m + 18 * h, 12, 6, (0.5, 0.5, 0.5)),
        ];
        for (i, (first, last, bars, run, want)) in cases.into_iter().enumerate() {
            let got = duration_score(m, m + 24 * h, first, last, bars, run, 6, 12).unwrap();
            assert!(
                close(got.0, want.0) && close(got.1, want.1) && close(got.2, want.2),
                "case {i}: {got:?}"
            );
        }
        assert_eq!(
            duration_score(m, m + 24 * h, m, m + h, 5, 5, 6, 12),
            Some((0.0, 0.0, 0.0))
        );
        assert!(duration_score(m, m, m, m + h, 6, 6, 6, 12).is_none());
    }

    #[test]
    fn histogram_flat_and_bimodal() {
        let w = BeaconWeights::default();
        // One connection every 5 minutes for 24 hours: flat.
        let ts: Vec<u32> = (0..288).map(|i| 1_000_000 + i * 300).collect();
        let h = histogram_score(1_000_000, 1_000_000 + 86_400, &ts, 24, &w).unwrap();
        assert_eq!(h.total_bars, 24);
        assert_eq!(h.longest_run, 24);
        assert_eq!(h.score, 1.0);
        // Six connections an hour half the day, two the other half: two flat sections.
        let mut ts = Vec::new();
        for hour in 0..24u32 {
            let n = if hour < 12 { 6 } else { 2 };
            for k in 0..n {
                ts.push(1_000_000 + hour * 3600 + k * (3600 / n));
            }
        }
        let h = histogram_score(1_000_000, 1_000_000 + 86_400, &ts, 24, &w).unwrap();
        assert!(h.cv_score < 0.6, "{h:?}");
        assert_eq!(h.bimodal_score, 1.0);
        // One hour only: no bimodal analysis, CV near zero.
        let ts = [1_000_000u32, 1_000_010, 1_000_020, 1_000_030];
        let h = histogram_score(1_000_000, 1_000_000 + 86_400, &ts, 24, &w).unwrap();
        assert_eq!(h.total_bars, 1);
        assert_eq!(h.score, 0.0);
    }

    #[test]
    fn buckets_and_levels() {
        let beacon = Thresholds {
            base: 50.0,
            low: 70.0,
            medium: 90.0,
            high: 100.0,
        };
        assert_eq!(bucketed(40.0, beacon), 0.0);
        assert!(close(bucketed(96.3, beacon), 0.726));
        assert!(close(bucketed(60.0, beacon), 0.3));
        assert!(close(bucketed(150.0, beacon), 0.8));
        use dragnet_event::Level;
        assert_eq!(level_of(1.05), Level::Critical);
        assert_eq!(level_of(0.8), Level::High);
        assert_eq!(level_of(0.6), Level::High);
        assert_eq!(level_of(0.45), Level::Medium);
        assert_eq!(level_of(0.2), Level::Low);
        assert_eq!(level_of(0.1), Level::Informational);
    }
}
