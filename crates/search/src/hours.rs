//! Opening hours packed into one u64 fast field per weekday (and one for public holidays), so
//! the "open at" filter reads a single column value per matching document.
//!
//! Layout: bit 63 = has hours; bits 0..12 open, 12..24 close, 24..36 lunch start, 36..48 lunch
//! end (minutes, saturated at 4095). A day without hours is 0.

use crate::model::{DayHours, OpenAt};

const HAS_HOURS: u64 = 1 << 63;
const MASK: u64 = 0xFFF;

/// Fast-field names: `hours_0` (Monday) … `hours_6` (Sunday), `hours_holiday`.
pub(crate) const COLUMNS: [&str; 8] = [
    "hours_0",
    "hours_1",
    "hours_2",
    "hours_3",
    "hours_4",
    "hours_5",
    "hours_6",
    "hours_holiday",
];

pub(crate) fn pack(hours: Option<&DayHours>) -> u64 {
    let Some(h) = hours else { return 0 };
    let m = |v: u16| u64::from(v).min(MASK);
    let (ls, le) = h.lunch.unwrap_or((0, 0));
    HAS_HOURS | m(h.open) | m(h.close) << 12 | m(ls) << 24 | m(le) << 36
}

#[inline]
pub(crate) fn is_open(packed: u64, minute: u16) -> bool {
    if packed & HAS_HOURS == 0 {
        return false;
    }
    let m = u64::from(minute);
    let open = packed & MASK;
    let close = (packed >> 12) & MASK;
    let lunch_start = (packed >> 24) & MASK;
    let lunch_end = (packed >> 36) & MASK;
    close <= 1440 && open <= m && m < close && !(lunch_start <= m && m < lunch_end)
}

/// The column that decides `at`, after validating it.
pub(crate) fn column_for(at: &OpenAt) -> crate::Result<&'static str> {
    if at.weekday > 6 || at.minute >= 1440 {
        return Err(crate::Error::InvalidOpenAt);
    }
    Ok(if at.is_public_holiday {
        COLUMNS[7]
    } else {
        COLUMNS[usize::from(at.weekday)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_of_opening_lunch_and_closing() {
        let p = pack(Some(&DayHours {
            open: 540,
            close: 1080,
            lunch: Some((780, 840)),
        }));
        assert!(!is_open(p, 539));
        assert!(is_open(p, 540));
        assert!(is_open(p, 779));
        assert!(!is_open(p, 780));
        assert!(!is_open(p, 839));
        assert!(is_open(p, 840));
        assert!(is_open(p, 1079));
        assert!(!is_open(p, 1080));
        assert!(!is_open(pack(None), 600));
    }

    #[test]
    fn inverted_hours_are_never_open() {
        let p = pack(Some(&DayHours {
            open: 1320,
            close: 120,
            lunch: None,
        }));
        assert!((0..1440).all(|m| !is_open(p, m)));
        let all_day = pack(Some(&DayHours {
            open: 0,
            close: 1440,
            lunch: None,
        }));
        assert!((0..1440).all(|m| is_open(all_day, m)));
    }
}
