//! A small, fixed directory and helpers shared by the tests.

use docde_search::{DayHours, DoctorDoc, HospitalDoc, HospitalQuery, MAX_LIMIT, Page, SearchIndex};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

pub const SNUH: u128 = 1; // 서울대학교병원
pub const SNUBH: u128 = 2; // 분당서울대학교병원
pub const ASAN: u128 = 3; // 서울아산병원
pub const SAMSUNG: u128 = 4; // 삼성서울병원
pub const ST_MARY: u128 = 5; // 서울성모병원
pub const SEVERANCE: u128 = 6; // 연세대학교 세브란스병원
pub const PNUH: u128 = 7; // 부산대학교병원
pub const KIM_CLINIC: u128 = 8; // 김내과의원
pub const HAPPY_PEDS: u128 = 9; // 행복소아청소년과의원
pub const DENTAL: u128 = 10; // 대학로치과의원
pub const STATION_ORTHO: u128 = 11; // 서울대입구역 정형외과
pub const LEE_DERM: u128 = 12; // 이서연피부과의원
pub const SSANGMUN: u128 = 13; // 쌍문한의원
pub const NOWHERE: u128 = 14; // 위치미상의원 (no valid coordinates)

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Doctor ids: hospital number × 100 + index.
pub fn doctor_id(hospital: u128, i: usize) -> Uuid {
    Uuid::from_u128(hospital * 100 + i as u128)
}

const fn day(open: u16, close: u16, lunch: Option<(u16, u16)>) -> Option<DayHours> {
    Some(DayHours { open, close, lunch })
}

/// Mon–Fri 09:00–18:00 with lunch 13:00–14:00, Saturday 09:00–13:00, Sunday closed.
pub const CLINIC_WEEK: [Option<DayHours>; 7] = [
    day(540, 1080, Some((780, 840))),
    day(540, 1080, Some((780, 840))),
    day(540, 1080, Some((780, 840))),
    day(540, 1080, Some((780, 840))),
    day(540, 1080, Some((780, 840))),
    day(540, 780, None),
    None,
];

/// Open around the clock every day, holidays included.
const ALL_DAY: Option<DayHours> = day(0, 1440, None);

#[allow(clippy::too_many_arguments)]
fn h(
    n: u128,
    name: &str,
    kind: &str,
    sido: &str,
    sigungu: &str,
    address: &str,
    departments: &[&str],
    doctors: &[&str],
    latin: Option<&str>,
    (lat, lon): (f64, f64),
) -> HospitalDoc {
    HospitalDoc {
        id: id(n),
        name: name.into(),
        hospital_type: kind.into(),
        sido: sido.into(),
        sigungu: sigungu.into(),
        address: address.into(),
        departments: departments.iter().map(|s| s.to_string()).collect(),
        doctor_names: doctors.iter().map(|s| s.to_string()).collect(),
        latin_name: latin.map(str::to_owned),
        lat,
        lon,
        weekly: CLINIC_WEEK,
        holiday: None,
    }
}

pub fn hospitals() -> Vec<HospitalDoc> {
    const SEOUL: &str = "서울특별시";
    const GYEONGGI: &str = "경기도";
    const TOP: &str = "상급종합병원";
    let mut v = vec![
        h(
            SNUH,
            "서울대학교병원",
            TOP,
            SEOUL,
            "종로구",
            "서울특별시 종로구 대학로 101",
            &["내과", "외과", "소아청소년과", "정형외과"],
            &["김민준", "이서연"],
            Some("Seoul National University Hospital"),
            (37.5796, 126.9990),
        ),
        h(
            SNUBH,
            "분당서울대학교병원",
            TOP,
            GYEONGGI,
            "성남시 분당구",
            "경기도 성남시 분당구 구미로173번길 82",
            &["내과", "신경과"],
            &["박지훈"],
            Some("Seoul National University Bundang Hospital"),
            (37.3520, 127.1237),
        ),
        h(
            ASAN,
            "서울아산병원",
            TOP,
            SEOUL,
            "송파구",
            "서울특별시 송파구 올림픽로43길 88",
            &["내과", "외과", "산부인과"],
            &["최지우", "이서연"],
            Some("Asan Medical Center"),
            (37.5267, 127.1080),
        ),
        h(
            SAMSUNG,
            "삼성서울병원",
            TOP,
            SEOUL,
            "강남구",
            "서울특별시 강남구 일원로 81",
            &["내과", "영상의학과"],
            &["정하은"],
            Some("Samsung Medical Center"),
            (37.4881, 127.0855),
        ),
        h(
            ST_MARY,
            "서울성모병원",
            TOP,
            SEOUL,
            "서초구",
            "서울특별시 서초구 반포대로 222",
            &["내과", "안과"],
            &["강도윤"],
            Some("Seoul St. Mary's Hospital"),
            (37.5015, 127.0050),
        ),
        h(
            SEVERANCE,
            "연세대학교 세브란스병원",
            TOP,
            SEOUL,
            "서대문구",
            "서울특별시 서대문구 연세로 50-1",
            &["내과", "재활의학과"],
            &["윤서준"],
            Some("Severance Hospital, Yonsei University"),
            (37.5622, 126.9408),
        ),
        h(
            PNUH,
            "부산대학교병원",
            TOP,
            "부산광역시",
            "서구",
            "부산광역시 서구 구덕로 179",
            &["내과", "외과"],
            &["장예준"],
            Some("Pusan National University Hospital"),
            (35.1007, 129.0175),
        ),
        h(
            KIM_CLINIC,
            "김내과의원",
            "의원",
            SEOUL,
            "종로구",
            "서울특별시 종로구 종로 200",
            &["내과"],
            &["김도현"],
            None,
            (37.5714, 127.0010),
        ),
        h(
            HAPPY_PEDS,
            "행복소아청소년과의원",
            "의원",
            GYEONGGI,
            "성남시 분당구",
            "경기도 성남시 분당구 정자일로 100",
            &["소아청소년과"],
            &["한지민"],
            None,
            (37.3660, 127.1080),
        ),
        h(
            DENTAL,
            "대학로치과의원",
            "치과의원",
            SEOUL,
            "종로구",
            "서울특별시 종로구 대학로 12",
            &["치과"],
            &["오세훈"],
            None,
            (37.5800, 127.0020),
        ),
        h(
            STATION_ORTHO,
            "서울대입구역 정형외과",
            "의원",
            SEOUL,
            "관악구",
            "서울특별시 관악구 남부순환로 1800",
            &["정형외과"],
            &["임수빈"],
            None,
            (37.4812, 126.9527),
        ),
        h(
            LEE_DERM,
            "이서연피부과의원",
            "의원",
            SEOUL,
            "강남구",
            "서울특별시 강남구 테헤란로 123 (Teheran-ro)",
            &["피부과"],
            &["이서연"],
            None,
            (37.5000, 127.0330),
        ),
        h(
            SSANGMUN,
            "쌍문한의원",
            "한의원",
            SEOUL,
            "도봉구",
            "서울특별시 도봉구 도봉로 486",
            &["한방내과"],
            &["송민호"],
            None,
            (37.6480, 127.0340),
        ),
        h(
            NOWHERE,
            "위치미상의원",
            "의원",
            SEOUL,
            "중구",
            "서울특별시 중구 세종대로 1",
            &["가정의학과"],
            &["문가영"],
            None,
            (f64::NAN, 127.0),
        ),
    ];
    // Big hospitals run around the clock; the dental clinic also opens on public holidays.
    for doc in &mut v {
        if doc.hospital_type == TOP {
            doc.weekly = [ALL_DAY; 7];
            doc.holiday = ALL_DAY;
        }
        if doc.id == id(DENTAL) {
            doc.holiday = day(600, 840, None);
        }
    }
    v
}

/// One doctor document per name in each hospital's `doctor_names`, all in the hospital's first
/// department.
pub fn doctors(hospitals: &[HospitalDoc]) -> Vec<DoctorDoc> {
    hospitals
        .iter()
        .flat_map(|h| {
            h.doctor_names
                .iter()
                .enumerate()
                .map(move |(i, name)| DoctorDoc {
                    id: doctor_id(h.id.as_u128(), i),
                    hospital_id: h.id,
                    name: name.clone(),
                    departments: h.departments.iter().take(1).cloned().collect(),
                    hospital_name: h.name.clone(),
                    sido: h.sido.clone(),
                    sigungu: h.sigungu.clone(),
                    lat: h.lat,
                    lon: h.lon,
                })
        })
        .collect()
}

pub fn index() -> SearchIndex {
    let hs = hospitals();
    let ds = doctors(&hs);
    SearchIndex::build(hs, ds).expect("build")
}

pub fn text(q: &str) -> HospitalQuery {
    HospitalQuery {
        text: q.into(),
        ..HospitalQuery::default()
    }
}

/// The ids of the first page (up to MAX_LIMIT), in order.
pub fn ids(index: &SearchIndex, q: &HospitalQuery) -> Vec<u128> {
    let q = HospitalQuery {
        limit: MAX_LIMIT,
        ..q.clone()
    };
    page(index, &q)
        .items
        .iter()
        .map(|h| h.id.as_u128())
        .collect()
}

pub fn page(index: &SearchIndex, q: &HospitalQuery) -> Page<docde_search::HospitalHit> {
    index.search_hospitals(q).expect("search")
}

/// Every hit of `q`, following cursors with the query's own limit.
pub fn all_pages(index: &SearchIndex, q: &HospitalQuery) -> Vec<u128> {
    let mut q = q.clone();
    let mut out = Vec::new();
    loop {
        let p = page(index, &q);
        out.extend(p.items.iter().map(|h| h.id.as_u128()));
        match p.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

pub fn sorted(mut v: Vec<u128>) -> Vec<u128> {
    v.sort_unstable();
    v
}

/// The reference folding for brute-force checks: NFC, lower case, full-width folded,
/// alphanumerics only.
pub fn fold(s: &str) -> String {
    s.nfc()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Ids of hospitals where `needle` (folded) is a substring of a searched field (folded), or,
/// for an ASCII needle, a prefix of a word of the Latin name. (Typo tolerance, from four
/// letters on, is not modelled: use it only with shorter ASCII needles.)
pub fn brute_force(hospitals: &[HospitalDoc], needle: &str) -> Vec<u128> {
    let needle = fold(needle);
    let latin_prefix = |h: &HospitalDoc| {
        needle.is_ascii()
            && h.latin_name.as_deref().is_some_and(|l| {
                l.split(|c: char| !c.is_alphanumeric())
                    .any(|w| fold(w).starts_with(&needle))
            })
    };
    sorted(
        hospitals
            .iter()
            .filter(|h| {
                latin_prefix(h)
                    || std::iter::once(&h.name)
                        .chain([&h.address])
                        .chain(&h.departments)
                        .chain(&h.doctor_names)
                        .any(|v| fold(v).contains(&needle))
            })
            .map(|h| h.id.as_u128())
            .collect(),
    )
}

/// The 초성 string of a folded name (reference implementation).
pub fn chosung(s: &str) -> String {
    const CHO: [char; 19] = [
        'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ',
        'ㅋ', 'ㅌ', 'ㅍ', 'ㅎ',
    ];
    fold(s)
        .chars()
        .map(|c| match c as u32 {
            0xAC00..=0xD7A3 => CHO[((c as u32 - 0xAC00) / 588) as usize],
            _ => c,
        })
        .collect()
}
