//! A doctor's schedule as stored and as the API shows it: the JSON document behind
//! `doctor_schedules.definition`, turned into a checked `docde_domain::schedule::Schedule`.

use chrono::{NaiveDate, NaiveTime, Weekday};
use docde_domain::schedule::{
    BookingPolicy, Break, Exception, ExceptionKind, Schedule, ScheduleError, WeeklyRule,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One weekly session: back-to-back slots from `start` to `end` on `weekday`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// `mon` … `sun`.
    #[schema(value_type = String, example = "mon")]
    pub weekday: WeekdayDoc,
    #[schema(value_type = String, example = "09:00")]
    pub start: NaiveTime,
    #[schema(value_type = String, example = "12:00")]
    pub end: NaiveTime,
    pub slot_minutes: u16,
    #[serde(default = "one")]
    pub capacity: u16,
}

/// A break; without `weekday` it applies every day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakDoc {
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "fri")]
    pub weekday: Option<WeekdayDoc>,
    #[schema(value_type = String, example = "12:00")]
    pub start: NaiveTime,
    #[schema(value_type = String, example = "13:00")]
    pub end: NaiveTime,
}

/// A dated exception: `closed` (leave, holiday; whole day without a window) or `extra`
/// (an additional session in the window).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionDoc {
    pub date: NaiveDate,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub start: Option<NaiveTime>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub end: Option<NaiveTime>,
    /// `closed` or `extra`.
    pub kind: String,
    #[serde(default)]
    pub slot_minutes: Option<u16>,
    #[serde(default)]
    pub capacity: Option<u16>,
}

/// Booking window rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyDoc {
    /// Bookable up to this many local days ahead, today included.
    pub horizon_days: u16,
    /// Booking closes this long before the slot starts.
    pub book_cutoff_minutes: u32,
    /// Patients may cancel until this long before the start (staff any time).
    pub cancel_cutoff_minutes: u32,
}

impl Default for PolicyDoc {
    fn default() -> Self {
        let p = BookingPolicy::default();
        Self {
            horizon_days: p.horizon_days,
            book_cutoff_minutes: p.book_cutoff_minutes,
            cancel_cutoff_minutes: p.cancel_cutoff_minutes,
        }
    }
}

/// The whole schedule of a doctor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDoc {
    pub rules: Vec<RuleDoc>,
    #[serde(default)]
    pub breaks: Vec<BreakDoc>,
    #[serde(default)]
    pub exceptions: Vec<ExceptionDoc>,
    /// No weekly sessions on public holidays (extra sessions still happen).
    #[serde(default = "yes")]
    pub closed_on_holidays: bool,
    #[serde(default)]
    pub policy: PolicyDoc,
}

fn one() -> u16 {
    1
}

fn yes() -> bool {
    true
}

/// `mon` … `sun` (also accepts `Monday`, `MON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekdayDoc(pub Weekday);

impl Serialize for WeekdayDoc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = match self.0 {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        };
        s.serialize_str(name)
    }
}

impl<'de> Deserialize<'de> for WeekdayDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<Weekday>()
            .map(WeekdayDoc)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a weekday (mon … sun)")))
    }
}

/// A problem with one field of a schedule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl ScheduleDoc {
    /// The checked schedule in `tz`.
    pub fn to_schedule(&self, tz: chrono_tz::Tz) -> Result<Schedule, DocProblem> {
        let rules = self
            .rules
            .iter()
            .map(|r| WeeklyRule {
                weekday: r.weekday.0,
                start: r.start,
                end: r.end,
                slot_minutes: r.slot_minutes,
                capacity: r.capacity,
            })
            .collect();
        let breaks = self
            .breaks
            .iter()
            .map(|b| Break {
                weekday: b.weekday.map(|w| w.0),
                start: b.start,
                end: b.end,
            })
            .collect();
        let mut exceptions = Vec::with_capacity(self.exceptions.len());
        for (i, e) in self.exceptions.iter().enumerate() {
            let kind = match e.kind.as_str() {
                "closed" => ExceptionKind::Closed,
                "extra" => ExceptionKind::Extra {
                    slot_minutes: e.slot_minutes.ok_or_else(|| DocProblem {
                        field: format!("exceptions[{i}].slot_minutes"),
                        code: "required",
                        message: "an extra session needs slot_minutes".into(),
                    })?,
                    capacity: e.capacity.unwrap_or(1),
                },
                other => {
                    return Err(DocProblem {
                        field: format!("exceptions[{i}].kind"),
                        code: "unknown_exception_kind",
                        message: format!("{other:?} is not closed or extra"),
                    });
                }
            };
            exceptions.push(Exception {
                date: e.date,
                start: e.start,
                end: e.end,
                kind,
            });
        }
        let policy = BookingPolicy {
            horizon_days: self.policy.horizon_days,
            book_cutoff_minutes: self.policy.book_cutoff_minutes,
            cancel_cutoff_minutes: self.policy.cancel_cutoff_minutes,
        };
        Schedule::new(
            tz,
            rules,
            breaks,
            exceptions,
            self.closed_on_holidays,
            policy,
        )
        .map_err(|e: ScheduleError| DocProblem {
            field: e.field().to_owned(),
            code: e.code(),
            message: e.to_string(),
        })
    }
}

/// The hospital's zone, or Seoul if the stored name is unknown to this build.
pub fn zone(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(docde_domain::schedule::DEFAULT_TZ)
}
