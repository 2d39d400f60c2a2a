//! The vocabulary hospital names are made of.

use docde_domain::directory::Department::{self, *};

/// Specialties clinics are named after, weighted roughly like Korea's 의원 by 표방과목.
#[rustfmt::skip]
pub(super) const CLINIC_SPECIALTIES: &[(Department, u32)] = &[
    (InternalMedicine, 25), (FamilyMedicine, 6), (OrthopedicSurgery, 9), (Pediatrics, 9),
    (Otorhinolaryngology, 9), (Ophthalmology, 7), (Dermatology, 5), (ObstetricsGynecology, 6),
    (Psychiatry, 5), (Urology, 4), (RehabilitationMedicine, 4), (Anesthesiology, 5),
    (Neurology, 2), (Neurosurgery, 3), (PlasticSurgery, 3), (GeneralSurgery, 5), (Radiology, 1),
    (ThoracicSurgery, 1),
];

/// Main departments of clinics that do not name a specialty (`하나의원`).
pub(super) const GENERAL_PRACTICE: &[Department] = &[
    FamilyMedicine,
    FamilyMedicine,
    InternalMedicine,
    GeneralSurgery,
    Pediatrics,
];

#[rustfmt::skip]
pub(super) const BRANDS: &[&str] = &[
    "연세", "서울", "우리", "행복한", "365", "밝은", "하나", "바른", "튼튼", "참", "좋은", "열린",
    "미소", "사랑", "늘", "푸른", "봄", "온", "다온", "믿음", "더", "예", "한결", "편한", "건강한",
    "으뜸", "제일", "중앙", "성모", "가톨릭", "고려", "이화", "한양", "경희", "새", "맑은", "센트럴",
    "365열린", "정", "선", "드림", "스마일", "하늘", "미래", "희망", "온누리", "새봄", "참좋은",
];

/// Brands typical of one specialty (`밝은눈안과의원`, `속편한내과의원`).
pub(super) fn specialty_brands(d: Department) -> &'static [&'static str] {
    match d {
        Ophthalmology => &["밝은눈", "눈사랑", "빛", "새빛", "맑은눈", "아이"],
        Otorhinolaryngology => &["코앤", "숨", "소리", "맑은숨"],
        Dermatology => &["고운", "아름다운", "예쁜", "맑은"],
        Pediatrics => &["아이", "꿈나무", "아이사랑", "키즈", "튼튼"],
        OrthopedicSurgery | RehabilitationMedicine => &["힘찬", "바른자세", "참튼튼", "척"],
        ObstetricsGynecology => &["여성", "미즈", "엄마"],
        Psychiatry => &["마음", "마음편한", "숲", "봄날", "다정"],
        InternalMedicine => &["속편한", "365속편한", "튼튼"],
        Urology => &["맨", "남성"],
        PlasticSurgery => &["아름다운", "라인", "예쁜"],
        Anesthesiology => &["통증", "편한"],
        _ => &[],
    }
}

#[rustfmt::skip]
pub(super) const DENTAL_BRANDS: &[&str] = &[
    "미소", "예쁜", "바른", "튼튼", "연세", "서울", "하얀", "밝은미소", "이손", "365", "참", "좋은",
    "하나", "플란트", "미소가득", "사랑", "웃는", "유니", "스마일", "튼튼이",
];
#[rustfmt::skip]
pub(super) const KOREAN_MEDICINE_BRANDS: &[&str] = &[
    "경희", "동의", "본", "솔", "청", "해", "수", "연", "참", "하늘", "바른", "편한", "소나무",
    "백세", "동의보감", "허준", "함께", "생생", "다움", "자연",
];
#[rustfmt::skip]
pub(super) const NURSING_BRANDS: &[&str] = &[
    "효", "사랑", "행복한", "실버", "새희망", "편안한", "은빛", "늘봄", "참사랑", "소망", "큰나무",
    "평화", "온누리", "효도", "백세", "늘푸른",
];

/// Brands of 병원 and 종합병원 with the Latin form those hospitals use.
#[rustfmt::skip]
pub(super) const HOSPITAL_BRANDS: &[(&str, &str)] = &[
    ("중앙", "Central"), ("제일", "Jeil"), ("성모", "St. Mary's"), ("우리", "Woori"),
    ("현대", "Hyundai"), ("한국", "Hankook"), ("세란", "Seran"), ("기독", "Christian"),
    ("성심", "Sacred Heart"), ("시민", "Citizens'"), ("연세", "Yonsei"), ("365", "365"),
    ("한마음", "Hanmaeum"), ("온누리", "Onnuri"), ("힘찬", "Himchan"), ("바른", "Bareun"),
    ("좋은", "Joeun"), ("새", "Sae"), ("참", "Cham"), ("세종", "Sejong"),
];

/// Universities that run hospitals, with their own Latin spelling.
#[rustfmt::skip]
pub(super) const UNIVERSITIES: &[(&str, &str)] = &[
    ("고려", "Korea"), ("한양", "Hanyang"), ("경희", "Kyung Hee"), ("중앙", "Chung-Ang"),
    ("이화여자", "Ewha Womans"), ("건국", "Konkuk"), ("순천향", "Soonchunhyang"), ("인제", "Inje"),
    ("한림", "Hallym"), ("동아", "Dong-A"), ("계명", "Keimyung"), ("영남", "Yeungnam"),
    ("조선", "Chosun"), ("원광", "Wonkwang"), ("을지", "Eulji"), ("단국", "Dankook"),
    ("고신", "Kosin"), ("가천", "Gachon"),
];

/// A specialty 병원: name suffix, Latin suffix, main departments, usual companions.
pub(super) struct Specialty {
    pub suffix: &'static str,
    pub suffix_en: &'static str,
    pub main: &'static [Department],
    pub companions: &'static [Department],
}

const fn s(
    suffix: &'static str,
    suffix_en: &'static str,
    main: &'static [Department],
    companions: &'static [Department],
) -> Specialty {
    Specialty {
        suffix,
        suffix_en,
        main,
        companions,
    }
}

#[rustfmt::skip]
pub(super) const SPECIALTY_HOSPITALS: &[Specialty] = &[
    s("정형외과병원", "Orthopedic Hospital", &[OrthopedicSurgery], &[RehabilitationMedicine, Anesthesiology, Radiology, InternalMedicine]),
    s("척추병원", "Spine Hospital", &[Neurosurgery, OrthopedicSurgery], &[Anesthesiology, Radiology, RehabilitationMedicine]),
    s("관절병원", "Joint Hospital", &[OrthopedicSurgery], &[RehabilitationMedicine, Anesthesiology, Radiology]),
    s("여성병원", "Women's Hospital", &[ObstetricsGynecology], &[Pediatrics, Anesthesiology, Radiology]),
    s("아동병원", "Children's Hospital", &[Pediatrics], &[Otorhinolaryngology, Radiology, FamilyMedicine]),
    s("안과병원", "Eye Hospital", &[Ophthalmology], &[Anesthesiology]),
    s("재활병원", "Rehabilitation Hospital", &[RehabilitationMedicine], &[Neurology, InternalMedicine, FamilyMedicine]),
    s("내과병원", "Internal Medicine Hospital", &[InternalMedicine], &[Radiology, FamilyMedicine]),
    s("외과병원", "Surgical Hospital", &[GeneralSurgery], &[InternalMedicine, Anesthesiology, Radiology]),
    s("이비인후과병원", "ENT Hospital", &[Otorhinolaryngology], &[Anesthesiology, Radiology]),
];

#[rustfmt::skip]
pub(super) const HOSPITAL_POOL: &[Department] = &[
    GeneralSurgery, OrthopedicSurgery, Neurosurgery, FamilyMedicine, Radiology, Anesthesiology,
    RehabilitationMedicine, Pediatrics, ObstetricsGynecology, Otorhinolaryngology, Urology,
    Neurology, EmergencyMedicine,
];
/// What every 종합병원 has (the Medical Service Act asks for 7–9 departments including these).
#[rustfmt::skip]
pub(super) const GENERAL_CORE: &[Department] = &[
    InternalMedicine, GeneralSurgery, ObstetricsGynecology, Pediatrics, Radiology, Anesthesiology,
    LaboratoryMedicine,
];
#[rustfmt::skip]
pub(super) const GENERAL_POOL: &[Department] = &[
    OrthopedicSurgery, Neurosurgery, Neurology, Psychiatry, Otorhinolaryngology, Ophthalmology,
    Dermatology, Urology, RehabilitationMedicine, FamilyMedicine, EmergencyMedicine,
    ThoracicSurgery, PlasticSurgery, Dentistry,
];
#[rustfmt::skip]
pub(super) const NURSING_POOL: &[Department] = &[
    FamilyMedicine, RehabilitationMedicine, Neurology, Psychiatry, KoreanMedicine, Acupuncture,
];
pub(super) const KOREAN_MEDICINE: &[(Department, u32)] = &[
    (KoreanMedicine, 5),
    (Acupuncture, 3),
    (KoreanRehabilitation, 2),
];
