//! Opening hours and announcements as Korean hospitals publish them: weekdays with a lunch
//! break, Saturday mornings, Sundays and public holidays mostly closed; big hospitals run
//! outpatient clinics without a lunch break.

use docde_domain::directory::{DayHours, Timetable};

use crate::hospital::HospitalType;
use crate::rng::Rng;

const fn hm(hours: u16, minutes: u16) -> u16 {
    hours * 60 + minutes
}

/// Hours the generator chose: always valid by construction, so a failure is a bug here.
fn day(open: u16, close: u16, lunch: Option<(u16, u16)>) -> DayHours {
    DayHours::new(open, close, lunch).expect("generated hours are valid")
}

pub(crate) fn timetable(rng: &mut Rng, kind: HospitalType) -> Timetable {
    match kind {
        HospitalType::Clinic | HospitalType::DentalClinic | HospitalType::KoreanMedicineClinic => {
            clinic(rng, kind)
        }
        HospitalType::Hospital | HospitalType::NursingHospital | HospitalType::GeneralHospital => {
            hospital(rng, kind)
        }
        HospitalType::TertiaryHospital => tertiary(rng),
    }
}

fn clinic(rng: &mut Rng, kind: HospitalType) -> Timetable {
    let late_start = kind != HospitalType::Clinic;
    let open = *rng.weighted(&[
        (hm(9, 0), 5),
        (hm(8, 30), if late_start { 0 } else { 2 }),
        (hm(9, 30), 2),
        (hm(10, 0), if late_start { 2 } else { 1 }),
    ]);
    let close = *rng.weighted(&[
        (hm(18, 0), 4),
        (hm(18, 30), 3),
        (hm(19, 0), 2),
        (hm(17, 30), 1),
    ]);
    let lunch = if rng.percent(95) {
        Some(*rng.weighted(&[
            ((hm(13, 0), hm(14, 0)), 6),
            ((hm(12, 30), hm(13, 30)), 3),
            ((hm(12, 0), hm(13, 0)), 1),
        ]))
    } else {
        None
    };
    let weekday = day(open, close, lunch);
    let mut weekly = [
        Some(weekday),
        Some(weekday),
        Some(weekday),
        Some(weekday),
        Some(weekday),
        None,
        None,
    ];
    if rng.percent(35) {
        // 야간진료: one weekday evening until 20:00 or 21:00.
        let late = if rng.percent(60) {
            hm(20, 0)
        } else {
            hm(21, 0)
        };
        weekly[rng.below(5)] = Some(day(open, late, lunch));
    }
    if rng.percent(15) {
        // 오후 휴진: one weekday ends at lunch.
        let noon = lunch.map_or(hm(13, 0), |(start, _)| start);
        weekly[rng.below(5)] = Some(day(open, noon, None));
    }
    if rng.percent(85) {
        let close = *rng.pick(&[hm(13, 0), hm(13, 0), hm(14, 0), hm(12, 30)]);
        weekly[5] = Some(day(open, close, None));
    }
    if rng.percent(8) {
        weekly[6] = Some(day(hm(10, 0), hm(14, 0), None));
    }
    let holiday = rng.percent(7).then(|| day(hm(9, 0), hm(13, 0), None));
    Timetable { weekly, holiday }
}

fn hospital(rng: &mut Rng, kind: HospitalType) -> Timetable {
    let (open, close) = *rng.pick(&[
        (hm(8, 30), hm(17, 30)),
        (hm(9, 0), hm(18, 0)),
        (hm(8, 30), hm(18, 0)),
    ]);
    let no_lunch = if kind == HospitalType::GeneralHospital {
        30
    } else {
        10
    };
    let lunch = if rng.percent(no_lunch) {
        None
    } else {
        Some(*rng.pick(&[
            (hm(12, 30), hm(13, 30)),
            (hm(12, 0), hm(13, 0)),
            (hm(13, 0), hm(14, 0)),
        ]))
    };
    let weekday = Some(day(open, close, lunch));
    let saturday = rng.percent(70).then(|| day(open, open + 240, None));
    let holiday = rng.percent(3).then(|| day(hm(9, 0), hm(12, 0), None));
    Timetable {
        weekly: [weekday, weekday, weekday, weekday, weekday, saturday, None],
        holiday,
    }
}

fn tertiary(rng: &mut Rng) -> Timetable {
    let (open, close) = *rng.pick(&[
        (hm(8, 30), hm(17, 30)),
        (hm(8, 0), hm(17, 0)),
        (hm(9, 0), hm(17, 30)),
    ]);
    let weekday = Some(day(open, close, None));
    let saturday = rng.percent(40).then(|| day(hm(8, 30), hm(12, 30), None));
    Timetable {
        weekly: [weekday, weekday, weekday, weekday, weekday, saturday, None],
        holiday: None,
    }
}

/// A notice like the ones on hospital home pages, for about a quarter of hospitals.
pub(crate) fn announcement(rng: &mut Rng) -> Option<String> {
    if !rng.percent(25) {
        return None;
    }
    let month = rng.between(1, 12);
    let from = rng.between(1, 24);
    Some(match rng.below(10) {
        0 => format!("{month}월 {from}일은 원장님 학회 참석으로 휴진합니다."),
        1 => format!(
            "{month}월 {from}일부터 {}일까지 여름 휴가로 휴진합니다.",
            from + rng.between(1, 4)
        ),
        2 => "독감 예방접종을 시작했습니다. 예약 없이 방문해 주세요.".to_owned(),
        3 => format!(
            "주차는 건물 지하 주차장을 이용해 주세요. 진료 시 {}시간 무료입니다.",
            rng.between(1, 3)
        ),
        4 => "접수는 진료 마감 30분 전까지 가능합니다.".to_owned(),
        5 => "토요일은 예약 환자 위주로 진료합니다.".to_owned(),
        6 => "국가건강검진 지정 기관입니다. 신분증을 지참해 주세요.".to_owned(),
        7 => "온라인 예약을 하시면 대기 시간이 줄어듭니다.".to_owned(),
        8 => format!("{month}월부터 진료 시간이 변경되었습니다. 방문 전 확인해 주세요."),
        _ => "점심시간에는 접수가 되지 않습니다.".to_owned(),
    })
}
