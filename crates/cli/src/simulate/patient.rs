//! A simulated patient at a bedside monitor: vitals that wander around a personal baseline
//! (mean-reverting noise), occasional measurement artefacts (a probe slipping, motion), an IV
//! bag draining and being replaced, the nurse-call button, a draining battery, and scripted
//! deterioration episodes (sepsis: HR and RR rise, SBP and SpO2 fall, fever, then confusion).
//!
//! Pure and deterministic for a seed: `tick` takes the time and returns what the monitor
//! reports; transports live elsewhere.

use serde_json::{Value, json};

/// splitmix64: small, fast, good enough for noise (not for secrets).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A scripted deterioration: starts at `start_s` (seconds into the run) and reaches full
/// severity after `ramp_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    pub start_s: f64,
    pub ramp_s: f64,
}

impl Episode {
    /// 0 before the start, rising linearly to 1.
    fn severity(&self, t: f64) -> f64 {
        if t < self.start_s {
            0.0
        } else {
            ((t - self.start_s) / self.ramp_s.max(1.0)).min(1.0)
        }
    }
}

/// The six continuously monitored vitals.
#[derive(Debug, Clone, Copy)]
struct Vitals {
    hr: f64,
    rr: f64,
    spo2: f64,
    temp: f64,
    sbp: f64,
    dbp: f64,
}

/// How sepsis at full severity moves each vital.
const SEPSIS: Vitals = Vitals {
    hr: 45.0,
    rr: 13.0,
    spo2: -9.0,
    temp: 2.4,
    sbp: -42.0,
    dbp: -22.0,
};

#[derive(Debug, Clone)]
pub struct Patient {
    rng: Rng,
    baseline: Vitals,
    /// Deviation of each vital from baseline (mean-reverting noise).
    drift: Vitals,
    iv_percent: f64,
    /// Percent per second.
    iv_rate: f64,
    /// When an empty bag gets replaced (a nurse comes).
    iv_replace_at: Option<f64>,
    nurse_call_until: Option<f64>,
    battery: f64,
    episode: Option<Episode>,
    ticks: u64,
    last_t: f64,
}

/// What the monitor reports at one tick: `{kind, value, unit}` each (the caller adds
/// `measured_at`).
pub type Readings = Vec<Value>;

/// How often (in ticks) the slower parameters are sent.
const TEMP_EVERY: u64 = 10;
const BP_EVERY: u64 = 15;
const IV_EVERY: u64 = 5;
const SLOW_EVERY: u64 = 30;
const BATTERY_EVERY: u64 = 60;

impl Patient {
    /// A patient with a personal baseline; `iv_minutes` is how long a full bag lasts.
    pub fn new(seed: u64, episode: Option<Episode>, iv_minutes: f64) -> Self {
        let mut rng = Rng::new(seed);
        let baseline = Vitals {
            hr: rng.range(62.0, 86.0),
            rr: rng.range(13.0, 18.0),
            spo2: rng.range(96.0, 99.0),
            temp: rng.range(36.4, 37.2),
            sbp: rng.range(112.0, 135.0),
            dbp: rng.range(68.0, 84.0),
        };
        let iv_percent = rng.range(35.0, 100.0);
        Self {
            rng,
            baseline,
            drift: Vitals {
                hr: 0.0,
                rr: 0.0,
                spo2: 0.0,
                temp: 0.0,
                sbp: 0.0,
                dbp: 0.0,
            },
            iv_percent,
            iv_rate: 100.0 / (iv_minutes.max(0.5) * 60.0),
            iv_replace_at: None,
            nurse_call_until: None,
            battery: 100.0,
            episode,
            ticks: 0,
            last_t: 0.0,
        }
    }

    /// Starts the IV bag at this level (the demo starts one nearly empty).
    pub fn with_iv(mut self, percent: f64) -> Self {
        self.iv_percent = percent.clamp(0.0, 100.0);
        self
    }

    /// Advances to `t` seconds into the run and returns what the monitor reports now.
    pub fn tick(&mut self, t: f64) -> Readings {
        let dt = (t - self.last_t).max(0.0);
        self.last_t = t;
        self.ticks += 1;
        let n = self.ticks;
        self.wander(dt);
        let severity = self.episode.map_or(0.0, |e| e.severity(t));
        let v = self.current(severity);
        let mut out = vec![
            reading(
                "heart_rate",
                self.artefact(v.hr, 0.004, 1.9).round(),
                "/min",
            ),
            reading("respiratory_rate", v.rr.round().max(4.0), "/min"),
            reading(
                "spo2",
                self.artefact(v.spo2, 0.004, 0.78)
                    .round()
                    .clamp(50.0, 100.0),
                "%",
            ),
        ];
        if n % TEMP_EVERY == 1 {
            out.push(reading("body_temperature", round1(v.temp), "Cel"));
        }
        if n % BP_EVERY == 1 {
            let sbp = v.sbp.round();
            let dbp = v.dbp.round().min(sbp - 15.0);
            out.push(reading("systolic_bp", sbp, "mm[Hg]"));
            out.push(reading("diastolic_bp", dbp, "mm[Hg]"));
        }
        self.drain_iv(t, dt);
        if n % IV_EVERY == 1 {
            out.push(reading("iv_bag", self.iv_percent.round(), "%"));
        }
        if n % SLOW_EVERY == 1 {
            let confused = severity > 0.85;
            out.push(json!({"kind": "consciousness", "value": if confused { "C" } else { "A" }}));
            out.push(json!({"kind": "supplemental_oxygen", "value": "air"}));
        }
        self.battery = (self.battery - dt * 0.002).max(5.0);
        if n % BATTERY_EVERY == 1 {
            out.push(reading("battery", self.battery.round(), "%"));
        }
        if let Some(call) = self.nurse_call(t, dt) {
            out.push(
                json!({"kind": "nurse_call", "value": if call { "pressed" } else { "released" }}),
            );
        }
        out
    }

    /// Ornstein–Uhlenbeck steps: noise pulled back towards the baseline.
    fn wander(&mut self, dt: f64) {
        let pull = (dt / 30.0).min(1.0);
        let step = dt.sqrt();
        let rng = &mut self.rng;
        let mut ou = |x: f64, sigma: f64| x - x * pull + sigma * step * rng.normal();
        self.drift = Vitals {
            hr: ou(self.drift.hr, 1.2),
            rr: ou(self.drift.rr, 0.35),
            spo2: ou(self.drift.spo2, 0.25),
            temp: ou(self.drift.temp, 0.015),
            sbp: ou(self.drift.sbp, 1.0),
            dbp: ou(self.drift.dbp, 0.7),
        };
    }

    fn current(&self, severity: f64) -> Vitals {
        let b = self.baseline;
        let d = self.drift;
        Vitals {
            hr: b.hr + d.hr + SEPSIS.hr * severity,
            rr: b.rr + d.rr + SEPSIS.rr * severity,
            spo2: (b.spo2 + d.spo2 + SEPSIS.spo2 * severity).min(100.0),
            temp: b.temp + d.temp + SEPSIS.temp * severity,
            sbp: b.sbp + d.sbp + SEPSIS.sbp * severity,
            dbp: b.dbp + d.dbp + SEPSIS.dbp * severity,
        }
    }

    /// Now and then one reading is wrong for a moment (motion, a loose probe): multiplied by
    /// `factor`. The alarm onset delay is what keeps these from alarming.
    fn artefact(&mut self, value: f64, p: f64, factor: f64) -> f64 {
        if self.rng.chance(p) {
            value * factor
        } else {
            value
        }
    }

    fn drain_iv(&mut self, t: f64, dt: f64) {
        match self.iv_replace_at {
            Some(at) if t >= at => {
                self.iv_percent = 100.0;
                self.iv_replace_at = None;
            }
            Some(_) => {}
            None => {
                self.iv_percent = (self.iv_percent - self.iv_rate * dt).max(0.0);
                if self.iv_percent <= 0.0 {
                    // A nurse replaces the bag within a few minutes.
                    self.iv_replace_at = Some(t + self.rng.range(90.0, 300.0));
                }
            }
        }
    }

    /// Returns `Some(true)` when the button is pressed, `Some(false)` when released.
    fn nurse_call(&mut self, t: f64, dt: f64) -> Option<bool> {
        match self.nurse_call_until {
            Some(until) if t >= until => {
                self.nurse_call_until = None;
                Some(false)
            }
            Some(_) => None,
            // About once per 20 minutes per bed.
            None if self.rng.chance(dt / 1200.0) => {
                self.nurse_call_until = Some(t + self.rng.range(20.0, 90.0));
                Some(true)
            }
            None => None,
        }
    }
}

fn reading(kind: &str, value: f64, unit: &str) -> Value {
    json!({"kind": kind, "value": value, "unit": unit})
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(readings: &Readings, kind: &str) -> Option<f64> {
        readings
            .iter()
            .find(|r| r["kind"] == kind)
            .and_then(|r| r["value"].as_f64())
    }

    #[test]
    fn a_stable_patient_stays_within_plausible_normal_ranges() {
        let mut p = Patient::new(7, None, 60.0);
        for t in 1..=600 {
            let r = p.tick(f64::from(t));
            let hr = value(&r, "heart_rate").unwrap();
            assert!((20.0..=250.0).contains(&hr), "{hr}");
            let spo2 = value(&r, "spo2").unwrap();
            assert!((50.0..=100.0).contains(&spo2), "{spo2}");
        }
    }

    #[test]
    fn sepsis_raises_heart_and_breathing_rates_and_lowers_pressure_and_saturation() {
        let episode = Episode {
            start_s: 10.0,
            ramp_s: 60.0,
        };
        let mut p = Patient::new(11, Some(episode), 600.0);
        let mut before = Vec::new();
        let mut after = Vec::new();
        for t in 1..=200 {
            let r = p.tick(f64::from(t));
            let hr = value(&r, "heart_rate").unwrap();
            if t < 10 {
                before.push(hr);
            } else if t > 100 {
                after.push(hr);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(&after) > mean(&before) + 30.0);
        let r = p.tick(201.0);
        assert!(value(&r, "respiratory_rate").unwrap() >= 24.0);
        assert!(value(&r, "spo2").unwrap() <= 93.0);
    }

    #[test]
    fn an_iv_bag_drains_to_empty_and_is_replaced() {
        let mut p = Patient::new(3, None, 1.0).with_iv(10.0);
        let mut levels = Vec::new();
        for t in 1..=600 {
            if let Some(level) = value(&p.tick(f64::from(t)), "iv_bag") {
                levels.push(level);
            }
        }
        let empty = levels.iter().position(|&l| l == 0.0).expect("ran empty");
        assert!(
            levels[empty..].iter().any(|&l| l > 85.0),
            "replaced with a full bag: {levels:?}"
        );
    }
}
