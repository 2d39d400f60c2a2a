//! Doctors: Korean names weighted like the population, departments within their hospital's,
//! and a one-line bio.

use docde_domain::directory::Department::{self, *};

use crate::hospital::Doctor;
use crate::naming::related;
use crate::rng::Rng;

/// Surnames with their share per 10,000 people (2015 census, rounded; the long tail trimmed).
#[rustfmt::skip]
const SURNAMES: &[(&str, u32)] = &[
    ("김", 2150), ("이", 1470), ("박", 840), ("최", 470), ("정", 430), ("강", 230), ("조", 210),
    ("윤", 210), ("장", 200), ("임", 170), ("한", 150), ("오", 150), ("서", 150), ("신", 140),
    ("권", 140), ("황", 140), ("안", 140), ("송", 130), ("전", 130), ("홍", 110), ("유", 110),
    ("고", 90), ("문", 90), ("양", 90), ("손", 90), ("배", 80), ("백", 70), ("허", 70), ("남", 50),
    ("심", 50), ("노", 40), ("하", 40), ("곽", 40), ("성", 40), ("차", 40), ("주", 40), ("우", 40),
    ("구", 40), ("민", 30), ("류", 30), ("나", 30), ("진", 30), ("지", 30), ("엄", 30), ("채", 30),
    ("원", 30), ("천", 20), ("방", 20), ("공", 20), ("현", 20), ("함", 20), ("변", 20), ("염", 10),
    ("여", 10), ("추", 10), ("도", 10), ("소", 10), ("석", 10), ("선", 10), ("설", 10), ("마", 10),
    ("길", 10), ("연", 10), ("위", 10), ("표", 10), ("명", 10), ("기", 10), ("반", 10), ("왕", 10),
    ("금", 10), ("옥", 10), ("육", 10), ("인", 10), ("맹", 10), ("제", 10), ("모", 10), ("탁", 10),
    ("국", 10), ("남궁", 5), ("황보", 3), ("제갈", 2), ("선우", 2), ("독고", 1),
];

/// Given names common for people born 1960–1995, the age of practising doctors.
#[rustfmt::skip]
const GIVEN_NAMES: &[&str] = &[
    "민수", "영수", "성호", "정훈", "상훈", "성민", "재훈", "준호", "지훈", "현우", "동현", "승현",
    "민호", "진우", "성진", "재현", "준영", "상민", "태호", "종혁", "병철", "영호", "기훈", "광수",
    "정호", "동욱", "주원", "승우", "우진", "재민", "현수", "성훈", "영진", "민석", "정우", "상우",
    "재원", "용준", "태영", "경수", "종민", "형준", "지원", "석진", "대현", "인호", "세진", "동훈",
    "준석", "재성", "태훈", "상철", "규현", "윤호", "명수", "창민", "덕수", "정민", "지영", "수진",
    "은정", "미영", "현정", "지현", "혜진", "은영", "선영", "민정", "영희", "경희", "미경", "수연",
    "윤정", "유진", "소영", "지은", "하나", "은지", "서영", "정은", "혜원", "지혜", "수정", "미정",
    "은주", "연주", "현주", "보람", "슬기", "다은", "예진", "수빈", "나영", "민지", "혜정", "소연",
    "아름", "지수", "은경", "성희", "미란", "정아", "선희", "주희", "다혜", "승민", "준혁", "도현",
];
const FIRST_SYLLABLES: &[&str] = &[
    "민", "서", "지", "현", "수", "영", "성", "재", "정", "준", "동", "상", "은", "혜", "윤", "경",
    "승", "태", "진", "우", "선", "유", "하", "예", "도", "주", "종", "병", "기", "용", "석", "세",
    "미", "소", "채", "규", "형",
];
const SECOND_SYLLABLES: &[&str] = &[
    "호", "우", "민", "현", "진", "수", "영", "훈", "준", "희", "연", "정", "아", "은", "경", "석",
    "철", "원", "혁", "빈", "윤", "주", "기", "환", "범", "식",
];

/// A full Korean name: surname by frequency, then a common given name or a plausible pair of
/// syllables.
pub(crate) fn name(rng: &mut Rng) -> String {
    let surname = *rng.weighted(SURNAMES);
    let mut name = String::with_capacity(12);
    name.push_str(surname);
    if rng.percent(75) {
        let given: &&str = rng.pick(GIVEN_NAMES);
        name.push_str(given);
    } else {
        let first = *rng.pick(FIRST_SYLLABLES);
        let mut second = *rng.pick(SECOND_SYLLABLES);
        while second == first {
            second = *rng.pick(SECOND_SYLLABLES);
        }
        name.push_str(first);
        name.push_str(second);
    }
    name
}

/// The surname of a generated name: everything before the two-syllable given name.
pub(crate) fn surname_of(name: &str) -> &str {
    let cut = name.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
    &name[..cut]
}

const MEDICAL_SCHOOLS: &[&str] = &[
    "서울대학교",
    "연세대학교",
    "고려대학교",
    "가톨릭대학교",
    "성균관대학교",
    "울산대학교",
    "경희대학교",
    "한양대학교",
    "중앙대학교",
    "이화여자대학교",
    "부산대학교",
    "경북대학교",
    "전남대학교",
    "충남대학교",
    "전북대학교",
    "조선대학교",
    "계명대학교",
    "영남대학교",
    "인하대학교",
    "아주대학교",
    "한림대학교",
    "순천향대학교",
    "인제대학교",
    "동아대학교",
    "원광대학교",
    "건국대학교",
    "을지대학교",
    "가천대학교",
    "단국대학교",
    "고신대학교",
    "충북대학교",
    "강원대학교",
    "경상국립대학교",
    "제주대학교",
    "대구가톨릭대학교",
    "동국대학교",
];
const DENTAL_SCHOOLS: &[&str] = &[
    "서울대학교",
    "연세대학교",
    "경희대학교",
    "단국대학교",
    "조선대학교",
    "전남대학교",
    "전북대학교",
    "부산대학교",
    "경북대학교",
    "원광대학교",
    "강릉원주대학교",
];
const KOREAN_MEDICINE_SCHOOLS: &[&str] = &[
    "경희대학교",
    "원광대학교",
    "동국대학교",
    "대구한의대학교",
    "동의대학교",
    "대전대학교",
    "상지대학교",
    "세명대학교",
    "가천대학교",
    "동신대학교",
    "우석대학교",
];
const TRAINING_HOSPITALS: &[&str] = &[
    "서울대학교병원",
    "서울아산병원",
    "삼성서울병원",
    "세브란스병원",
    "서울성모병원",
    "분당서울대학교병원",
    "고려대학교 안암병원",
    "경희대학교병원",
    "한양대학교병원",
    "부산대학교병원",
    "경북대학교병원",
    "전남대학교병원",
    "충남대학교병원",
    "아주대학교병원",
    "강남세브란스병원",
];
const ROLES: &[&str] = &[
    "임상강사",
    "전임의",
    "외래교수",
    "임상조교수",
    "전공의 수료",
];
const DENTAL_SPECIALTIES: &[&str] = &[
    "통합치의학과",
    "치과교정과",
    "구강악안면외과",
    "치주과",
    "치과보존과",
    "소아치과",
    "치과보철과",
];

/// What a doctor in this department lists as interests (searchable: `내시경`, `임플란트`).
fn interests(d: Department) -> &'static [&'static str] {
    match d {
        InternalMedicine => &[
            "위내시경",
            "대장내시경",
            "고혈압",
            "당뇨병",
            "갑상선 질환",
            "건강검진",
        ],
        OrthopedicSurgery => &[
            "척추 질환",
            "관절 질환",
            "스포츠 손상",
            "골다공증",
            "어깨 통증",
        ],
        Pediatrics => &["영유아 검진", "예방접종", "소아 알레르기", "성장 클리닉"],
        Otorhinolaryngology => &["비염", "축농증", "중이염", "수면무호흡", "어지럼증"],
        Ophthalmology => &["백내장", "녹내장", "라식·라섹", "망막 질환", "안구건조증"],
        Dermatology => &["여드름", "아토피 피부염", "레이저 시술", "탈모", "기미"],
        ObstetricsGynecology => &["산전 진찰", "자궁근종", "난임", "자궁경부암 검진", "갱년기"],
        Urology => &["전립선 질환", "요로결석", "배뇨장애", "남성 갱년기"],
        Psychiatry => &["우울증", "불안장애", "불면증", "ADHD", "공황장애"],
        RehabilitationMedicine => &["통증 재활", "뇌졸중 재활", "도수치료", "척추 측만증"],
        FamilyMedicine => &[
            "만성질환 관리",
            "건강검진",
            "비만 클리닉",
            "금연",
            "예방접종",
        ],
        Anesthesiology => &["신경차단술", "만성 통증", "대상포진 통증", "척추 통증"],
        Neurology => &["두통", "어지럼증", "치매", "뇌졸중", "파킨슨병"],
        Neurosurgery => &["척추 디스크", "척추관 협착증", "뇌혈관 질환", "뇌종양"],
        GeneralSurgery => &["갑상선 수술", "유방 질환", "탈장", "하지정맥류", "치질"],
        ThoracicSurgery => &["하지정맥류", "폐암 수술", "심장 수술", "다한증"],
        PlasticSurgery => &["눈 성형", "코 성형", "흉터 치료", "안면 재건"],
        Radiology => &["초음파", "CT·MRI 판독", "유방 촬영", "중재시술"],
        EmergencyMedicine => &["응급 처치", "중증 외상", "중독"],
        Dentistry => &[
            "임플란트",
            "치아교정",
            "신경치료",
            "스케일링",
            "사랑니 발치",
        ],
        KoreanMedicine | KoreanRehabilitation | Acupuncture => &[
            "추나요법",
            "침·뜸 치료",
            "한약 처방",
            "교통사고 후유증",
            "체질 관리",
        ],
        _ => &["일반 진료"],
    }
}

/// Everything about the hospital a doctor's generation depends on.
pub(crate) struct Staffing<'a> {
    pub departments: &'a [Department],
    /// The hospital's main department (the one a clinic is named after).
    pub main: Department,
    /// Clinic-sized: most doctors work in the main department.
    pub small: bool,
    /// University hospital: doctors are professors.
    pub university: bool,
    /// Percentage of doctors taking online bookings.
    pub booking_rate: u32,
}

pub(crate) fn doctor(rng: &mut Rng, name: String, staff: &Staffing<'_>, head: bool) -> Doctor {
    let clinical: Vec<Department> = staff
        .departments
        .iter()
        .copied()
        .filter(|d| *d != LaboratoryMedicine)
        .collect();
    let first = if head || (staff.small && rng.percent(70)) {
        staff.main
    } else {
        *rng.pick(&clinical)
    };
    let mut departments = vec![first];
    // Some doctors also see patients in a neighbouring department (정형외과 + 재활의학과).
    let also: Vec<Department> = related(first)
        .iter()
        .copied()
        .filter(|d| clinical.contains(d))
        .collect();
    if !also.is_empty() && rng.percent(15) {
        departments.push(*rng.pick(&also));
        departments.sort();
    }
    Doctor {
        bio: bio(rng, first, staff.university),
        name,
        departments,
        accepts_online_booking: rng.percent(staff.booking_rate),
    }
}

fn bio(rng: &mut Rng, d: Department, university: bool) -> String {
    let all = interests(d);
    let a = rng.below(all.len());
    let b = (a + 1 + rng.below(all.len().max(2) - 1)) % all.len();
    let focus = if a == b {
        all[a].to_owned()
    } else {
        format!("{}, {}", all[a], all[b])
    };
    match d {
        Dentistry => format!(
            "{} 치과대학 졸업 · 치과의사 · {} 전문의 · 진료 분야: {focus}",
            rng.pick(DENTAL_SCHOOLS),
            rng.pick(DENTAL_SPECIALTIES)
        ),
        KoreanMedicine | KoreanRehabilitation | Acupuncture => format!(
            "{} 한의과대학 졸업 · 한의사 · {} 전문의 · 진료 분야: {focus}",
            rng.pick(KOREAN_MEDICINE_SCHOOLS),
            d.ko()
        ),
        _ if university => format!(
            "{} 의과대학 졸업 · {} 전문의 · {} · 진료 분야: {focus}",
            rng.pick(MEDICAL_SCHOOLS),
            d.ko(),
            rng.pick(&["교수", "부교수", "조교수", "임상교수", "임상조교수"])
        ),
        _ => format!(
            "{} 의과대학 졸업 · {} 전문의 · 전 {} {} · 진료 분야: {focus}",
            rng.pick(MEDICAL_SCHOOLS),
            d.ko(),
            rng.pick(TRAINING_HOSPITALS),
            rng.pick(ROLES)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_split_off_including_two_syllable_ones() {
        assert_eq!(surname_of("김지훈"), "김");
        assert_eq!(surname_of("남궁민수"), "남궁");
    }
}
