//! Where a generated hospital is: the place-name stem its name starts with, its road address,
//! telephone number and coordinates.

use crate::region::Region;
use crate::rng::Rng;

/// Place names a hospital in `region` may be named after: the 구/시/군 without its suffix
/// (`분당`, `수원`, `강릉`), and for 구 such as `중구` or `동구` the 시도 (`부산`).
pub(crate) fn stems(region: &Region) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(2);
    let mut parts = region.sigungu.split(' ');
    let first = parts.next().unwrap_or(region.sigungu);
    let last = parts.next_back();
    for part in [last, Some(first)].into_iter().flatten() {
        let stem = match part {
            "일산동구" | "일산서구" => "일산",
            "마산합포구" | "마산회원구" => "마산",
            _ => part.strip_suffix(['구', '시', '군']).unwrap_or(part),
        };
        let directional = matches!(stem, "동남" | "서북" | "남" | "북" | "동" | "서" | "중");
        if stem.chars().count() >= 2 && !directional && !out.contains(&stem) {
            out.push(stem);
        }
    }
    if out.is_empty() {
        out.push(region.sido_info().short);
    }
    out
}

/// A few real main roads per 시군구; elsewhere the generic ones below.
fn local_roads(region: &Region) -> &'static [&'static str] {
    match (region.sido_info().short, region.sigungu) {
        ("서울", "종로구") => &["종로", "대학로", "율곡로", "창경궁로", "자하문로"],
        ("서울", "중구") => &["을지로", "퇴계로", "세종대로", "다산로", "동호로"],
        ("서울", "용산구") => &["한강대로", "이태원로", "원효로", "효창원로"],
        ("서울", "성동구") => &["왕십리로", "고산자로", "뚝섬로", "마장로"],
        ("서울", "광진구") => &["능동로", "아차산로", "자양로", "광나루로"],
        ("서울", "동대문구") => &["왕산로", "경희대로", "망우로", "답십리로"],
        ("서울", "중랑구") => &["망우로", "동일로", "면목로", "사가정로"],
        ("서울", "성북구") => &["고려대로", "보문로", "동소문로", "정릉로", "화랑로"],
        ("서울", "강북구") => &["도봉로", "삼양로", "한천로", "솔매로"],
        ("서울", "도봉구") => &["도봉로", "방학로", "노해로", "시루봉로"],
        ("서울", "노원구") => &["동일로", "노해로", "상계로", "공릉로"],
        ("서울", "은평구") => &["통일로", "연서로", "은평로", "서오릉로"],
        ("서울", "서대문구") => &["연세로", "신촌로", "통일로", "증가로", "연희로"],
        ("서울", "마포구") => &["월드컵로", "양화로", "마포대로", "독막로", "신촌로"],
        ("서울", "양천구") => &["목동로", "오목로", "신월로", "목동동로"],
        ("서울", "강서구") => &["공항대로", "화곡로", "강서로", "양천로", "마곡중앙로"],
        ("서울", "구로구") => &["구로중앙로", "디지털로", "경인로", "오리로", "고척로"],
        ("서울", "금천구") => &["시흥대로", "독산로", "벚꽃로", "가산로"],
        ("서울", "영등포구") => &["영등포로", "여의대로", "국회대로", "당산로", "신길로"],
        ("서울", "동작구") => &["상도로", "노량진로", "동작대로", "사당로", "흑석로"],
        ("서울", "관악구") => &["관악로", "남부순환로", "봉천로", "신림로", "은천로"],
        ("서울", "서초구") => &["반포대로", "서초대로", "강남대로", "방배로", "사평대로"],
        ("서울", "강남구") => &[
            "테헤란로",
            "강남대로",
            "논현로",
            "도산대로",
            "압구정로",
            "언주로",
            "선릉로",
            "봉은사로",
        ],
        ("서울", "송파구") => &["올림픽로", "송파대로", "백제고분로", "오금로", "양재대로"],
        ("서울", "강동구") => &["천호대로", "성내로", "양재대로", "올림픽로", "구천면로"],
        ("부산", "부산진구") => &["중앙대로", "서면로", "가야대로", "전포대로"],
        ("부산", "해운대구") => &["해운대로", "센텀중앙로", "좌동순환로"],
        ("부산", "동래구") => &["충렬대로", "명륜로", "온천장로"],
        ("부산", "서구") => &["구덕로", "대신공원로", "까치고개로"],
        ("부산", "수영구") => &["수영로", "광안해변로"],
        ("부산", "연제구") => &["중앙대로", "월드컵대로", "연제로"],
        ("대구", "중구") => &["달구벌대로", "국채보상로", "동덕로"],
        ("대구", "수성구") => &["달구벌대로", "동대구로", "범어로"],
        ("대구", "달서구") => &["달구벌대로", "월배로", "조암로"],
        ("인천", "남동구") => &["남동대로", "인주대로", "구월로"],
        ("인천", "부평구") => &["부평대로", "경원대로", "장제로"],
        ("인천", "연수구") => &["컨벤시아대로", "먼우금로", "원인재로"],
        ("광주", "동구") => &["제봉로", "필문대로", "금남로"],
        ("광주", "서구") => &["상무대로", "죽봉대로", "상무중앙로"],
        ("대전", "서구") => &["둔산로", "대덕대로", "계룡로"],
        ("대전", "유성구") => &["대학로", "유성대로", "온천로"],
        ("대전", "중구") => &["문화로", "대종로", "계백로"],
        ("울산", "남구") => &["삼산로", "번영로", "중앙로"],
        ("세종", _) => &["한누리대로", "갈매로", "도움1로", "보듬3로"],
        ("경기", "수원시 영통구") => &["월드컵로", "봉영로", "영통로"],
        ("경기", "수원시 팔달구") => &["중부대로", "정조로", "경수대로"],
        ("경기", "성남시 분당구") => {
            &["구미로", "판교역로", "황새울로", "성남대로", "분당로"]
        }
        ("경기", "고양시 일산동구") => &["중앙로", "일산로", "정발산로"],
        ("경기", "고양시 일산서구") => &["중앙로", "일산로", "주엽로"],
        ("경기", "용인시 수지구") => &["수지로", "포은대로", "풍덕천로"],
        ("경기", "안양시 동안구") => &["평촌대로", "시민대로", "관악대로"],
        ("경기", "부천시") => &["길주로", "부천로", "소사로", "중동로"],
        ("제주", "제주시") => &["중앙로", "연북로", "노형로", "아란13길"],
        _ => &[],
    }
}

const GENERIC_ROADS: &[&str] = &["중앙로", "시청로", "문화로", "번영로", "역전로", "시장로"];

/// A road address such as `서울특별시 종로구 대학로 101` or, outside Seoul, with a
/// numbered side street (`경기도 성남시 분당구 구미로173번길 82`); small clinics often
/// add their floor (`, 3층`).
pub(crate) fn road_address(rng: &mut Rng, region: &Region, stem: &str, small: bool) -> String {
    let local = local_roads(region);
    let mut road = if !local.is_empty() && rng.percent(75) {
        (*rng.pick(local)).to_owned()
    } else {
        match rng.below(4) {
            0 => format!("{stem}로"),
            1 => format!("{stem}대로"),
            _ => (*rng.pick(GENERIC_ROADS)).to_owned(),
        }
    };
    let side_street = rng.percent(30) && !road.ends_with('길');
    if side_street {
        // Seoul numbers its side streets 길 (테헤란로5길); most of the country numbers them by
        // distance along the main road, 번길 (구미로173번길).
        if region.phone_prefix == "02" {
            road.push_str(&format!("{}길", rng.between(1, 60)));
        } else {
            road.push_str(&format!("{}번길", rng.between(1, 250)));
        }
    }
    // Building numbers count tens of metres along the road: small on side streets, up to
    // several hundred on long main roads.
    let number = if side_street || rng.percent(60) {
        rng.between(1, 60)
    } else {
        rng.between(61, 900)
    };
    let mut address = format!("{} {road} {number}", region.address_prefix());
    if rng.percent(10) {
        address.push_str(&format!("-{}", rng.between(1, 30)));
    }
    if small && rng.percent(50) {
        address.push_str(&format!(", {}층", rng.between(2, 7)));
    }
    address
}

/// A landline in the 시도's area code: `02-1234-5678`, `031-787-1234`.
pub(crate) fn phone(rng: &mut Rng, region: &Region) -> String {
    let exchange = if rng.percent(60) {
        rng.between(200, 999)
    } else {
        rng.between(2000, 9999)
    };
    format!(
        "{}-{exchange}-{:04}",
        region.phone_prefix,
        rng.between(0, 9999)
    )
}

const KM_PER_DEGREE_LAT: f64 = 111.0;
/// At Korea's latitudes (33–38.6°N) a degree of longitude is 87–93 km; one constant keeps the
/// arithmetic free of `cos`, whose last bits differ between platforms.
const KM_PER_DEGREE_LON: f64 = 89.0;

/// A point a few km from the region's centroid (a triangular distribution, so most hospitals
/// sit near the centre as they do in real towns), clamped to Korea's bounding box.
pub(crate) fn coordinates(rng: &mut Rng, region: &Region) -> (f64, f64) {
    let radius_km = if region.is_county() { 4.0 } else { 2.5 };
    let mut jitter = || (rng.unit() + rng.unit() - 1.0) * radius_km;
    let lat = region.lat + jitter() / KM_PER_DEGREE_LAT;
    let lon = region.lon + jitter() / KM_PER_DEGREE_LON;
    (lat.clamp(33.0, 38.7), lon.clamp(124.5, 131.9))
}
