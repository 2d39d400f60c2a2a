//! Korea's 17 시도 and a broad set of real 시군구, with approximate centroids and weights.
//!
//! Coordinates are the approximate centre of each 시군구's built-up area (within a few km) —
//! good enough for "near me" sorting and maps, not for geocoding. `weight` is roughly the
//! population in thousands (2023), so generated hospitals cluster where people live.
//! Cities with 일반구 (수원, 성남, 고양, 용인, 안양, 안산, 청주, 천안, 전주, 포항, 창원) are
//! listed per 구, written as road addresses write them (`성남시 분당구`).

/// A 시도 (province-level division).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sido {
    /// Official name as written in addresses, e.g. `서울특별시`.
    pub name: &'static str,
    /// The short form people say and hospitals are named after, e.g. `서울`.
    pub short: &'static str,
    /// Telephone area code, e.g. `02`.
    pub phone_prefix: &'static str,
}

/// A 시군구 with its 시도, approximate centroid and telephone area code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub sido: &'static str,
    pub sigungu: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub phone_prefix: &'static str,
    /// Relative share of generated hospitals (≈ population in thousands).
    pub weight: u32,
}

const SEOUL: Sido = Sido {
    name: "서울특별시",
    short: "서울",
    phone_prefix: "02",
};
const BUSAN: Sido = Sido {
    name: "부산광역시",
    short: "부산",
    phone_prefix: "051",
};
const DAEGU: Sido = Sido {
    name: "대구광역시",
    short: "대구",
    phone_prefix: "053",
};
const INCHEON: Sido = Sido {
    name: "인천광역시",
    short: "인천",
    phone_prefix: "032",
};
const GWANGJU: Sido = Sido {
    name: "광주광역시",
    short: "광주",
    phone_prefix: "062",
};
const DAEJEON: Sido = Sido {
    name: "대전광역시",
    short: "대전",
    phone_prefix: "042",
};
const ULSAN: Sido = Sido {
    name: "울산광역시",
    short: "울산",
    phone_prefix: "052",
};
const SEJONG: Sido = Sido {
    name: "세종특별자치시",
    short: "세종",
    phone_prefix: "044",
};
const GYEONGGI: Sido = Sido {
    name: "경기도",
    short: "경기",
    phone_prefix: "031",
};
const GANGWON: Sido = Sido {
    name: "강원특별자치도",
    short: "강원",
    phone_prefix: "033",
};
const CHUNGBUK: Sido = Sido {
    name: "충청북도",
    short: "충북",
    phone_prefix: "043",
};
const CHUNGNAM: Sido = Sido {
    name: "충청남도",
    short: "충남",
    phone_prefix: "041",
};
const JEONBUK: Sido = Sido {
    name: "전북특별자치도",
    short: "전북",
    phone_prefix: "063",
};
const JEONNAM: Sido = Sido {
    name: "전라남도",
    short: "전남",
    phone_prefix: "061",
};
const GYEONGBUK: Sido = Sido {
    name: "경상북도",
    short: "경북",
    phone_prefix: "054",
};
const GYEONGNAM: Sido = Sido {
    name: "경상남도",
    short: "경남",
    phone_prefix: "055",
};
const JEJU: Sido = Sido {
    name: "제주특별자치도",
    short: "제주",
    phone_prefix: "064",
};

/// All 17 시도, in the official order.
pub const SIDOS: &[Sido] = &[
    SEOUL, BUSAN, DAEGU, INCHEON, GWANGJU, DAEJEON, ULSAN, SEJONG, GYEONGGI, GANGWON, CHUNGBUK,
    CHUNGNAM, JEONBUK, JEONNAM, GYEONGBUK, GYEONGNAM, JEJU,
];

/// The 시도 with this official name.
pub fn sido(name: &str) -> Option<&'static Sido> {
    SIDOS.iter().find(|s| s.name == name)
}

const fn r(sido: Sido, sigungu: &'static str, lat: f64, lon: f64, weight: u32) -> Region {
    Region {
        sido: sido.name,
        sigungu,
        lat,
        lon,
        phone_prefix: sido.phone_prefix,
        weight,
    }
}

/// Every 시군구 the generator places hospitals in. (시도, 시군구) pairs are unique; a 시군구
/// name alone is not (중구, 고성군).
#[rustfmt::skip]
pub const REGIONS: &[Region] = &[
    r(SEOUL, "종로구", 37.5735, 126.9790, 140), r(SEOUL, "중구", 37.5641, 126.9979, 120),
    r(SEOUL, "용산구", 37.5326, 126.9905, 215), r(SEOUL, "성동구", 37.5634, 127.0369, 280),
    r(SEOUL, "광진구", 37.5385, 127.0823, 335), r(SEOUL, "동대문구", 37.5744, 127.0400, 340),
    r(SEOUL, "중랑구", 37.6066, 127.0927, 380), r(SEOUL, "성북구", 37.5894, 127.0167, 430),
    r(SEOUL, "강북구", 37.6396, 127.0257, 290), r(SEOUL, "도봉구", 37.6688, 127.0471, 310),
    r(SEOUL, "노원구", 37.6542, 127.0568, 500), r(SEOUL, "은평구", 37.6027, 126.9291, 465),
    r(SEOUL, "서대문구", 37.5791, 126.9368, 310), r(SEOUL, "마포구", 37.5663, 126.9019, 370),
    r(SEOUL, "양천구", 37.5170, 126.8664, 440), r(SEOUL, "강서구", 37.5510, 126.8495, 560),
    r(SEOUL, "구로구", 37.4954, 126.8874, 400), r(SEOUL, "금천구", 37.4568, 126.8954, 230),
    r(SEOUL, "영등포구", 37.5264, 126.8962, 375), r(SEOUL, "동작구", 37.5124, 126.9393, 380),
    r(SEOUL, "관악구", 37.4784, 126.9516, 490), r(SEOUL, "서초구", 37.4837, 127.0324, 410),
    r(SEOUL, "강남구", 37.5172, 127.0473, 540), r(SEOUL, "송파구", 37.5145, 127.1059, 655),
    r(SEOUL, "강동구", 37.5301, 127.1238, 460),

    r(BUSAN, "중구", 35.1063, 129.0323, 40), r(BUSAN, "서구", 35.0979, 129.0243, 105),
    r(BUSAN, "동구", 35.1293, 129.0454, 88), r(BUSAN, "영도구", 35.0911, 129.0679, 108),
    r(BUSAN, "부산진구", 35.1629, 129.0532, 365), r(BUSAN, "동래구", 35.2048, 129.0837, 270),
    r(BUSAN, "남구", 35.1365, 129.0844, 255), r(BUSAN, "북구", 35.1972, 128.9903, 275),
    r(BUSAN, "해운대구", 35.1631, 129.1636, 385), r(BUSAN, "사하구", 35.1043, 128.9749, 300),
    r(BUSAN, "금정구", 35.2430, 129.0922, 215), r(BUSAN, "강서구", 35.2122, 128.9806, 140),
    r(BUSAN, "연제구", 35.1762, 129.0799, 205), r(BUSAN, "수영구", 35.1455, 129.1132, 175),
    r(BUSAN, "사상구", 35.1526, 128.9911, 205), r(BUSAN, "기장군", 35.2446, 129.2222, 180),

    r(DAEGU, "중구", 35.8694, 128.6062, 95), r(DAEGU, "동구", 35.8866, 128.6356, 340),
    r(DAEGU, "서구", 35.8718, 128.5592, 160), r(DAEGU, "남구", 35.8460, 128.5975, 140),
    r(DAEGU, "북구", 35.8858, 128.5828, 415), r(DAEGU, "수성구", 35.8582, 128.6311, 410),
    r(DAEGU, "달서구", 35.8298, 128.5328, 530), r(DAEGU, "달성군", 35.7746, 128.4314, 265),
    r(DAEGU, "군위군", 36.2428, 128.5728, 23),

    r(INCHEON, "중구", 37.4738, 126.6216, 155), r(INCHEON, "동구", 37.4739, 126.6432, 60),
    r(INCHEON, "미추홀구", 37.4635, 126.6503, 410), r(INCHEON, "연수구", 37.4101, 126.6783, 390),
    r(INCHEON, "남동구", 37.4473, 126.7315, 500), r(INCHEON, "부평구", 37.5070, 126.7219, 485),
    r(INCHEON, "계양구", 37.5372, 126.7376, 285), r(INCHEON, "서구", 37.5455, 126.6760, 600),
    r(INCHEON, "강화군", 37.7467, 126.4880, 70),

    r(GWANGJU, "동구", 35.1461, 126.9231, 105), r(GWANGJU, "서구", 35.1520, 126.8903, 285),
    r(GWANGJU, "남구", 35.1329, 126.9025, 210), r(GWANGJU, "북구", 35.1741, 126.9120, 420),
    r(GWANGJU, "광산구", 35.1395, 126.7937, 395),

    r(DAEJEON, "동구", 36.3119, 127.4548, 220), r(DAEJEON, "중구", 36.3256, 127.4213, 225),
    r(DAEJEON, "서구", 36.3554, 127.3838, 465), r(DAEJEON, "유성구", 36.3624, 127.3563, 355),
    r(DAEJEON, "대덕구", 36.3467, 127.4156, 170),

    r(ULSAN, "중구", 35.5694, 129.3326, 215), r(ULSAN, "남구", 35.5438, 129.3301, 310),
    r(ULSAN, "동구", 35.5048, 129.4166, 150), r(ULSAN, "북구", 35.5827, 129.3613, 220),
    r(ULSAN, "울주군", 35.5623, 129.1426, 220),

    r(SEJONG, "세종시", 36.4800, 127.2890, 385),

    r(GYEONGGI, "수원시 장안구", 37.3039, 127.0106, 270),
    r(GYEONGGI, "수원시 권선구", 37.2576, 126.9719, 370),
    r(GYEONGGI, "수원시 팔달구", 37.2826, 127.0197, 190),
    r(GYEONGGI, "수원시 영통구", 37.2596, 127.0466, 365),
    r(GYEONGGI, "성남시 수정구", 37.4504, 127.1455, 230),
    r(GYEONGGI, "성남시 중원구", 37.4306, 127.1373, 215),
    r(GYEONGGI, "성남시 분당구", 37.3826, 127.1189, 470),
    r(GYEONGGI, "고양시 덕양구", 37.6375, 126.8322, 485),
    r(GYEONGGI, "고양시 일산동구", 37.6585, 126.7749, 290),
    r(GYEONGGI, "고양시 일산서구", 37.6770, 126.7501, 300),
    r(GYEONGGI, "용인시 처인구", 37.2342, 127.2015, 265),
    r(GYEONGGI, "용인시 기흥구", 37.2803, 127.1147, 440),
    r(GYEONGGI, "용인시 수지구", 37.3221, 127.0975, 380),
    r(GYEONGGI, "안양시 만안구", 37.3865, 126.9322, 230),
    r(GYEONGGI, "안양시 동안구", 37.3926, 126.9515, 320),
    r(GYEONGGI, "안산시 상록구", 37.3008, 126.8467, 340),
    r(GYEONGGI, "안산시 단원구", 37.3197, 126.8119, 285),
    r(GYEONGGI, "부천시", 37.5035, 126.7660, 785), r(GYEONGGI, "화성시", 37.1996, 126.8311, 935),
    r(GYEONGGI, "평택시", 36.9922, 127.1128, 585), r(GYEONGGI, "시흥시", 37.3800, 126.8029, 515),
    r(GYEONGGI, "김포시", 37.6153, 126.7156, 485), r(GYEONGGI, "광명시", 37.4786, 126.8646, 280),
    r(GYEONGGI, "광주시", 37.4295, 127.2550, 385), r(GYEONGGI, "군포시", 37.3616, 126.9352, 265),
    r(GYEONGGI, "하남시", 37.5393, 127.2148, 330), r(GYEONGGI, "오산시", 37.1498, 127.0772, 230),
    r(GYEONGGI, "이천시", 37.2720, 127.4350, 222), r(GYEONGGI, "안성시", 37.0080, 127.2797, 190),
    r(GYEONGGI, "의왕시", 37.3448, 126.9683, 160), r(GYEONGGI, "양주시", 37.7853, 127.0458, 245),
    r(GYEONGGI, "구리시", 37.5943, 127.1296, 187), r(GYEONGGI, "남양주시", 37.6360, 127.2165, 735),
    r(GYEONGGI, "의정부시", 37.7381, 127.0337, 463), r(GYEONGGI, "파주시", 37.7600, 126.7799, 495),
    r(GYEONGGI, "포천시", 37.8949, 127.2003, 145), r(GYEONGGI, "동두천시", 37.9036, 127.0606, 90),
    r(GYEONGGI, "과천시", 37.4292, 126.9876, 80), r(GYEONGGI, "여주시", 37.2983, 127.6372, 113),
    r(GYEONGGI, "양평군", 37.4917, 127.4876, 122), r(GYEONGGI, "가평군", 37.8315, 127.5105, 62),
    r(GYEONGGI, "연천군", 38.0965, 127.0748, 41),

    r(GANGWON, "춘천시", 37.8813, 127.7298, 287), r(GANGWON, "원주시", 37.3422, 127.9202, 362),
    r(GANGWON, "강릉시", 37.7519, 128.8761, 210), r(GANGWON, "동해시", 37.5247, 129.1143, 89),
    r(GANGWON, "태백시", 37.1641, 128.9856, 39), r(GANGWON, "속초시", 38.2070, 128.5918, 82),
    r(GANGWON, "삼척시", 37.4499, 129.1652, 63), r(GANGWON, "홍천군", 37.6970, 127.8888, 67),
    r(GANGWON, "횡성군", 37.4918, 127.9850, 46), r(GANGWON, "영월군", 37.1837, 128.4617, 37),
    r(GANGWON, "평창군", 37.3708, 128.3903, 40), r(GANGWON, "정선군", 37.3807, 128.6609, 34),
    r(GANGWON, "철원군", 38.1467, 127.3133, 42), r(GANGWON, "화천군", 38.1063, 127.7082, 23),
    r(GANGWON, "양구군", 38.1100, 127.9899, 20), r(GANGWON, "인제군", 38.0697, 128.1706, 31),
    r(GANGWON, "고성군", 38.3806, 128.4678, 27), r(GANGWON, "양양군", 38.0754, 128.6190, 28),

    r(CHUNGBUK, "청주시 상당구", 36.6224, 127.5074, 190),
    r(CHUNGBUK, "청주시 서원구", 36.6206, 127.4607, 200),
    r(CHUNGBUK, "청주시 흥덕구", 36.6369, 127.4317, 280),
    r(CHUNGBUK, "청주시 청원구", 36.6516, 127.4869, 190),
    r(CHUNGBUK, "충주시", 36.9910, 127.9259, 208), r(CHUNGBUK, "제천시", 37.1326, 128.1910, 130),
    r(CHUNGBUK, "보은군", 36.4895, 127.7295, 31), r(CHUNGBUK, "옥천군", 36.3064, 127.5713, 49),
    r(CHUNGBUK, "영동군", 36.1750, 127.7764, 44), r(CHUNGBUK, "증평군", 36.7853, 127.5815, 37),
    r(CHUNGBUK, "진천군", 36.8554, 127.4355, 86), r(CHUNGBUK, "괴산군", 36.8154, 127.7867, 36),
    r(CHUNGBUK, "음성군", 36.9403, 127.6905, 92), r(CHUNGBUK, "단양군", 36.9846, 128.3655, 28),

    r(CHUNGNAM, "천안시 동남구", 36.8066, 127.1522, 270),
    r(CHUNGNAM, "천안시 서북구", 36.8780, 127.1436, 390),
    r(CHUNGNAM, "공주시", 36.4465, 127.1190, 101), r(CHUNGNAM, "보령시", 36.3334, 126.6127, 97),
    r(CHUNGNAM, "아산시", 36.7898, 127.0019, 340), r(CHUNGNAM, "서산시", 36.7848, 126.4503, 176),
    r(CHUNGNAM, "논산시", 36.1872, 127.0987, 111), r(CHUNGNAM, "계룡시", 36.2745, 127.2489, 44),
    r(CHUNGNAM, "당진시", 36.8896, 126.6459, 170), r(CHUNGNAM, "금산군", 36.1087, 127.4880, 50),
    r(CHUNGNAM, "부여군", 36.2757, 126.9098, 62), r(CHUNGNAM, "서천군", 36.0803, 126.6919, 50),
    r(CHUNGNAM, "청양군", 36.4592, 126.8022, 30), r(CHUNGNAM, "홍성군", 36.6013, 126.6608, 98),
    r(CHUNGNAM, "예산군", 36.6827, 126.8449, 77), r(CHUNGNAM, "태안군", 36.7456, 126.2979, 61),

    r(JEONBUK, "전주시 완산구", 35.8121, 127.1198, 340),
    r(JEONBUK, "전주시 덕진구", 35.8468, 127.1219, 300),
    r(JEONBUK, "군산시", 35.9676, 126.7366, 260), r(JEONBUK, "익산시", 35.9483, 126.9577, 272),
    r(JEONBUK, "정읍시", 35.5699, 126.8559, 104), r(JEONBUK, "남원시", 35.4164, 127.3905, 78),
    r(JEONBUK, "김제시", 35.8036, 126.8809, 81), r(JEONBUK, "완주군", 35.9046, 127.1622, 91),
    r(JEONBUK, "진안군", 35.7917, 127.4247, 25), r(JEONBUK, "무주군", 36.0068, 127.6608, 23),
    r(JEONBUK, "장수군", 35.6474, 127.5211, 21), r(JEONBUK, "임실군", 35.6178, 127.2890, 26),
    r(JEONBUK, "순창군", 35.3744, 127.1374, 26), r(JEONBUK, "고창군", 35.4358, 126.7019, 52),
    r(JEONBUK, "부안군", 35.7317, 126.7334, 50),

    r(JEONNAM, "목포시", 34.8118, 126.3922, 215), r(JEONNAM, "여수시", 34.7604, 127.6622, 275),
    r(JEONNAM, "순천시", 34.9506, 127.4873, 280), r(JEONNAM, "나주시", 35.0158, 126.7108, 117),
    r(JEONNAM, "광양시", 34.9407, 127.6959, 152), r(JEONNAM, "담양군", 35.3211, 126.9882, 45),
    r(JEONNAM, "곡성군", 35.2820, 127.2920, 27), r(JEONNAM, "구례군", 35.2025, 127.4627, 25),
    r(JEONNAM, "고흥군", 34.6111, 127.2850, 61), r(JEONNAM, "보성군", 34.7714, 127.0800, 38),
    r(JEONNAM, "화순군", 35.0645, 126.9866, 61), r(JEONNAM, "장흥군", 34.6816, 126.9070, 35),
    r(JEONNAM, "강진군", 34.6420, 126.7672, 33), r(JEONNAM, "해남군", 34.5733, 126.5990, 65),
    r(JEONNAM, "영암군", 34.8002, 126.6968, 53), r(JEONNAM, "무안군", 34.9904, 126.4816, 90),
    r(JEONNAM, "함평군", 35.0659, 126.5165, 31), r(JEONNAM, "영광군", 35.2772, 126.5120, 51),
    r(JEONNAM, "장성군", 35.3018, 126.7848, 43), r(JEONNAM, "완도군", 34.3110, 126.7550, 48),
    r(JEONNAM, "진도군", 34.4868, 126.2635, 30), r(JEONNAM, "신안군", 34.8335, 126.3517, 38),

    r(GYEONGBUK, "포항시 남구", 36.0089, 129.3593, 240),
    r(GYEONGBUK, "포항시 북구", 36.0418, 129.3650, 260),
    r(GYEONGBUK, "경주시", 35.8562, 129.2247, 250), r(GYEONGBUK, "김천시", 36.1398, 128.1136, 138),
    r(GYEONGBUK, "안동시", 36.5684, 128.7294, 155), r(GYEONGBUK, "구미시", 36.1195, 128.3446, 410),
    r(GYEONGBUK, "영주시", 36.8057, 128.6241, 100), r(GYEONGBUK, "영천시", 35.9733, 128.9386, 101),
    r(GYEONGBUK, "상주시", 36.4109, 128.1590, 94), r(GYEONGBUK, "문경시", 36.5865, 128.1867, 70),
    r(GYEONGBUK, "경산시", 35.8251, 128.7411, 268), r(GYEONGBUK, "의성군", 36.3527, 128.6970, 50),
    r(GYEONGBUK, "청송군", 36.4359, 129.0571, 24), r(GYEONGBUK, "영양군", 36.6667, 129.1124, 16),
    r(GYEONGBUK, "영덕군", 36.4150, 129.3650, 35), r(GYEONGBUK, "청도군", 35.6474, 128.7339, 42),
    r(GYEONGBUK, "고령군", 35.7284, 128.2630, 31), r(GYEONGBUK, "성주군", 35.9192, 128.2829, 43),
    r(GYEONGBUK, "칠곡군", 35.9955, 128.4017, 110), r(GYEONGBUK, "예천군", 36.6578, 128.4528, 55),
    r(GYEONGBUK, "봉화군", 36.8930, 128.7325, 30), r(GYEONGBUK, "울진군", 36.9930, 129.4004, 48),
    r(GYEONGBUK, "울릉군", 37.4844, 130.9057, 9),

    r(GYEONGNAM, "창원시 의창구", 35.2540, 128.6392, 230),
    r(GYEONGNAM, "창원시 성산구", 35.1986, 128.7025, 245),
    r(GYEONGNAM, "창원시 마산합포구", 35.1970, 128.5677, 175),
    r(GYEONGNAM, "창원시 마산회원구", 35.2209, 128.5797, 185),
    r(GYEONGNAM, "창원시 진해구", 35.1330, 128.7100, 190),
    r(GYEONGNAM, "진주시", 35.1800, 128.1076, 340), r(GYEONGNAM, "통영시", 34.8544, 128.4332, 122),
    r(GYEONGNAM, "사천시", 35.0037, 128.0640, 108), r(GYEONGNAM, "김해시", 35.2285, 128.8894, 530),
    r(GYEONGNAM, "밀양시", 35.5037, 128.7462, 102), r(GYEONGNAM, "거제시", 34.8806, 128.6211, 238),
    r(GYEONGNAM, "양산시", 35.3350, 129.0372, 355), r(GYEONGNAM, "의령군", 35.3222, 128.2617, 26),
    r(GYEONGNAM, "함안군", 35.2725, 128.4065, 61), r(GYEONGNAM, "창녕군", 35.5445, 128.4924, 58),
    r(GYEONGNAM, "고성군", 34.9730, 128.3222, 50), r(GYEONGNAM, "남해군", 34.8377, 127.8924, 41),
    r(GYEONGNAM, "하동군", 35.0674, 127.7514, 42), r(GYEONGNAM, "산청군", 35.4156, 127.8734, 34),
    r(GYEONGNAM, "함양군", 35.5205, 127.7252, 38), r(GYEONGNAM, "거창군", 35.6867, 127.9095, 60),
    r(GYEONGNAM, "합천군", 35.5666, 128.1658, 42),

    r(JEJU, "제주시", 33.4996, 126.5312, 490), r(JEJU, "서귀포시", 33.2541, 126.5600, 185),
];

/// The region with this 시도 and 시군구.
pub fn region(sido: &str, sigungu: &str) -> Option<&'static Region> {
    REGIONS
        .iter()
        .find(|r| r.sido == sido && r.sigungu == sigungu)
}

impl Region {
    /// The 시도 this region belongs to.
    pub fn sido_info(&self) -> &'static Sido {
        sido(self.sido).expect("every region's 시도 is in SIDOS")
    }

    /// Whether this is a 군 (county): rural, spread out, few hospitals.
    pub fn is_county(&self) -> bool {
        self.sigungu.ends_with('군')
    }

    /// How a road address begins: `서울특별시 종로구`. 세종 has no 시군구 level, so its
    /// addresses begin with the 시도 alone (`세종특별자치시 한누리대로 2130`).
    pub fn address_prefix(&self) -> String {
        if self.sido == SEJONG.name {
            self.sido.to_owned()
        } else {
            format!("{} {}", self.sido, self.sigungu)
        }
    }
}
