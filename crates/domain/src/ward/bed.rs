//! Bed labels as the ward writes them on the door: room number, dash, bed number (`101-1`).
//! The predecessor's Raspberry Pi publishers identify themselves by this label, so it is the
//! key that maps their messages onto a bed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A validated bed label: a room number of 1–5 digits, `-`, a bed number 1–99, neither with
/// leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BedLabel {
    room: String,
    bed: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a bed label; write the room number, a dash and the bed number, e.g. 101-1")]
pub struct BedLabelProblem(pub String);

impl BedLabelProblem {
    pub fn code(&self) -> &'static str {
        "bad_bed_label"
    }
}

impl BedLabel {
    pub fn parse(text: &str) -> Result<Self, BedLabelProblem> {
        let problem = || BedLabelProblem(text.to_owned());
        let (room, bed) = text.trim().split_once('-').ok_or_else(problem)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // Room "0101" and "101" would be two labels for one door; bed "01" likewise.
        let canonical = |s: &str| digits(s) && !s.starts_with('0');
        if !canonical(room) || room.len() > 5 || !canonical(bed) {
            return Err(problem());
        }
        let bed: u8 = bed.parse().map_err(|_| problem())?;
        if bed > 99 {
            return Err(problem());
        }
        Ok(Self {
            room: room.to_owned(),
            bed,
        })
    }

    /// The room number as written (`101`).
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The bed within the room (`1`).
    pub fn bed(&self) -> u8 {
        self.bed
    }
}

impl fmt::Display for BedLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.room, self.bed)
    }
}

impl FromStr for BedLabel {
    type Err = BedLabelProblem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BedLabel::parse(s)
    }
}

impl TryFrom<String> for BedLabel {
    type Error = BedLabelProblem;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        BedLabel::parse(&s)
    }
}

impl From<BedLabel> for String {
    fn from(label: BedLabel) -> Self {
        label.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_room_and_bed_number_make_a_label() {
        let label = BedLabel::parse(" 101-1 ").unwrap();
        assert_eq!((label.room(), label.bed()), ("101", 1));
        assert_eq!(label.to_string(), "101-1");
        assert_eq!(BedLabel::parse("1203-12").unwrap().bed(), 12);
    }

    #[test]
    fn anything_else_is_refused_with_an_example() {
        for bad in [
            "", "101", "101-", "-1", "101-0", "101-01", "101-100", "A101-1", "101-1-2", "101 -1",
            "123456-1", "101-a", "0101-1",
        ] {
            let problem = BedLabel::parse(bad).unwrap_err();
            assert_eq!(problem.code(), "bad_bed_label");
            assert!(problem.to_string().contains("e.g. 101-1"), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_valid_label_round_trips_through_its_text(room in "[1-9][0-9]{0,4}", bed in 1u8..=99) {
            let label = BedLabel::parse(&format!("{room}-{bed}")).unwrap();
            prop_assert_eq!(BedLabel::parse(&label.to_string()), Ok(label.clone()));
            prop_assert_eq!(label.room(), room.as_str());
        }
    }
}
