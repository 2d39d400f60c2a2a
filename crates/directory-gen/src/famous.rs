//! Real, well-known hospitals that every data set starts with, so that demos and search tests
//! always find `서울대학교병원`, `분당서울대학교병원`, `samsung` or `seoul st mary`. Names,
//! 시군구, road addresses and coordinates are the real ones (coordinates within a few hundred
//! metres); phones, hours and doctors are generated like everyone else's.

pub(crate) struct Famous {
    pub name: &'static str,
    pub latin_name: &'static str,
    pub sido: &'static str,
    pub sigungu: &'static str,
    /// Road and building number, after the 시도 and 시군구.
    pub road: &'static str,
    pub lat: f64,
    pub lon: f64,
}

const fn f(
    name: &'static str,
    latin_name: &'static str,
    sido: &'static str,
    sigungu: &'static str,
    road: &'static str,
    lat: f64,
    lon: f64,
) -> Famous {
    Famous {
        name,
        latin_name,
        sido,
        sigungu,
        road,
        lat,
        lon,
    }
}

#[rustfmt::skip]
pub(crate) const FAMOUS: &[Famous] = &[
    f("서울대학교병원", "Seoul National University Hospital", "서울특별시", "종로구", "대학로 101", 37.5796, 126.9990),
    f("분당서울대학교병원", "Seoul National University Bundang Hospital", "경기도", "성남시 분당구", "구미로173번길 82", 37.3520, 127.1237),
    f("서울아산병원", "Asan Medical Center", "서울특별시", "송파구", "올림픽로43길 88", 37.5265, 127.1083),
    f("삼성서울병원", "Samsung Medical Center", "서울특별시", "강남구", "일원로 81", 37.4881, 127.0855),
    f("세브란스병원", "Severance Hospital", "서울특별시", "서대문구", "연세로 50-1", 37.5622, 126.9410),
    f("강남세브란스병원", "Gangnam Severance Hospital", "서울특별시", "강남구", "언주로 211", 37.4925, 127.0463),
    f("서울성모병원", "Seoul St. Mary's Hospital", "서울특별시", "서초구", "반포대로 222", 37.5017, 127.0047),
    f("고려대학교 안암병원", "Korea University Anam Hospital", "서울특별시", "성북구", "고려대로 73", 37.5871, 127.0265),
    f("경희대학교병원", "Kyung Hee University Hospital", "서울특별시", "동대문구", "경희대로 23", 37.5939, 127.0526),
    f("한양대학교병원", "Hanyang University Hospital", "서울특별시", "성동구", "왕십리로 222-1", 37.5595, 127.0446),
    f("부산대학교병원", "Pusan National University Hospital", "부산광역시", "서구", "구덕로 179", 35.1007, 129.0176),
    f("경북대학교병원", "Kyungpook National University Hospital", "대구광역시", "중구", "동덕로 130", 35.8663, 128.6046),
    f("전남대학교병원", "Chonnam National University Hospital", "광주광역시", "동구", "제봉로 42", 35.1422, 126.9213),
    f("충남대학교병원", "Chungnam National University Hospital", "대전광역시", "중구", "문화로 282", 36.3171, 127.4152),
    f("아주대학교병원", "Ajou University Hospital", "경기도", "수원시 영통구", "월드컵로 164", 37.2795, 127.0473),
    f("인하대학교병원", "Inha University Hospital", "인천광역시", "중구", "인항로 27", 37.4573, 126.6331),
    f("가천대 길병원", "Gachon University Gil Medical Center", "인천광역시", "남동구", "남동대로774번길 21", 37.4526, 126.7086),
    f("전북대학교병원", "Jeonbuk National University Hospital", "전북특별자치도", "전주시 덕진구", "건지로 20", 35.8473, 127.1413),
    f("충북대학교병원", "Chungbuk National University Hospital", "충청북도", "청주시 서원구", "1순환로 776", 36.6234, 127.4611),
    f("강원대학교병원", "Kangwon National University Hospital", "강원특별자치도", "춘천시", "백령로 156", 37.8682, 127.7436),
    f("울산대학교병원", "Ulsan University Hospital", "울산광역시", "동구", "대학병원로 25", 35.5227, 129.4285),
    f("경상국립대학교병원", "Gyeongsang National University Hospital", "경상남도", "진주시", "강남로 79", 35.1762, 128.0957),
    f("제주대학교병원", "Jeju National University Hospital", "제주특별자치도", "제주시", "아란13길 15", 33.4671, 126.5454),
];
