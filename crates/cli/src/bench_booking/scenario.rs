//! The scenarios of `docde bench booking` and the size of each run they make.

use clap::ValueEnum;

use super::BookingArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 20,000 patients race for 200 slots.
    Hot,
    /// 200,000 requests over 20,000 slots.
    Spread,
    /// The spread load through the admission queue (202 + tickets).
    Rush,
    /// hot, spread and rush, one after another.
    All,
}

/// One scenario's size.
pub(super) struct Shape {
    pub(super) name: &'static str,
    pub(super) patients: usize,
    pub(super) slots: usize,
    pub(super) requests: usize,
    pub(super) rush: bool,
    /// Every request asks for its own slot (`--distinct-slots`; never in the hot race).
    pub(super) distinct: bool,
}

impl Shape {
    pub(super) fn of(scenario: Scenario, args: &BookingArgs) -> Vec<Shape> {
        let hot = Shape {
            name: "hot",
            patients: args.patients,
            slots: args.hot_slots,
            requests: args.patients,
            rush: false,
            distinct: false,
        };
        let spread = |name, rush| Shape {
            name,
            patients: args.patients,
            slots: args.slots,
            requests: args.requests,
            rush,
            distinct: args.distinct_slots,
        };
        match scenario {
            Scenario::Hot => vec![hot],
            Scenario::Spread => vec![spread("spread", false)],
            Scenario::Rush => vec![spread("rush", true)],
            Scenario::All => vec![hot, spread("spread", false), spread("rush", true)],
        }
    }
}
