//! Full recall and no false positives on a few hundred generated hospitals: every query's result
//! set equals a brute-force `contains` over the folded searched fields.

use docde_search::{HospitalDoc, HospitalQuery, MAX_LIMIT, SearchIndex};
use uuid::Uuid;

use crate::fixture::*;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const PLACES: &[&str] = &[
    "서울",
    "부산",
    "대구",
    "인천",
    "광주",
    "대전",
    "울산",
    "수원",
    "성남",
    "분당",
    "강남",
    "종로",
    "해운대",
    "일산",
    "노원",
    "마포",
    "서초",
    "송파",
    "관악",
    "청주",
    "전주",
    "창원",
];
const MIDDLES: &[&str] = &[
    "",
    "",
    "",
    "대학교",
    "성모",
    "연세",
    "고려",
    "아산",
    "삼성",
    "중앙",
    "제일",
    "행복",
    "사랑",
    "우리",
    "튼튼",
    "365",
    "바른",
    "참",
    "밝은",
];
const SUFFIXES: &[&str] = &[
    "병원",
    "의원",
    "내과의원",
    "소아청소년과의원",
    "치과의원",
    "한의원",
    "정형외과",
    "이비인후과",
    "요양병원",
    "안과의원",
    "피부과의원",
    "산부인과",
    "재활의학과의원",
];
const DEPARTMENTS: &[&str] = &[
    "내과",
    "외과",
    "소아청소년과",
    "정형외과",
    "신경과",
    "안과",
    "이비인후과",
    "피부과",
    "산부인과",
    "치과",
    "한방내과",
    "재활의학과",
    "가정의학과",
    "영상의학과",
];
const SURNAMES: &[&str] = &[
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "쌍",
];
const GIVEN: &[&str] = &[
    "민", "준", "서", "연", "지", "훈", "우", "하", "은", "도", "윤", "현", "수", "빈", "예", "아",
];
const ROADS: &[&str] = &[
    "대학로",
    "종로",
    "테헤란로",
    "중앙대로",
    "해운대로",
    "올림픽로",
    "세종대로",
];

pub fn generate(n: usize) -> Vec<HospitalDoc> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let template = hospitals().remove(0);
    (0..n)
        .map(|i| {
            let sep = if rng.chance(20) { " " } else { "" };
            let name = format!(
                "{}{}{sep}{}",
                rng.pick(PLACES),
                rng.pick(MIDDLES),
                rng.pick(SUFFIXES)
            );
            let departments = (0..1 + rng.next() % 3)
                .map(|_| rng.pick(DEPARTMENTS).to_owned())
                .collect();
            let doctor_names = (0..rng.next() % 4)
                .map(|_| {
                    format!(
                        "{}{}{}",
                        rng.pick(SURNAMES),
                        rng.pick(GIVEN),
                        rng.pick(GIVEN)
                    )
                })
                .collect();
            let address = format!(
                "{}시 {}구 {} {}",
                rng.pick(PLACES),
                rng.pick(PLACES),
                rng.pick(ROADS),
                rng.next() % 300
            );
            HospitalDoc {
                id: Uuid::from_u128(1000 + i as u128),
                name,
                address,
                departments,
                doctor_names,
                latin_name: None,
                ..template.clone()
            }
        })
        .collect()
}

fn found(index: &SearchIndex, q: &str) -> Vec<u128> {
    sorted(all_pages(
        index,
        &HospitalQuery {
            limit: MAX_LIMIT,
            ..text(q)
        },
    ))
}

pub fn searched_values(h: &HospitalDoc) -> impl Iterator<Item = &String> {
    std::iter::once(&h.name)
        .chain([&h.address])
        .chain(&h.departments)
        .chain(&h.doctor_names)
}

#[test]
fn generated_names_have_full_recall_and_no_false_positives() {
    let hs = generate(400);
    let index = SearchIndex::build(hs.clone(), Vec::new()).unwrap();
    let mut rng = Rng(42);
    let mut queries: Vec<String> = Vec::new();
    let mut syllables: Vec<char> = Vec::new();
    for h in &hs {
        for v in searched_values(h) {
            let chars: Vec<char> = fold(v).chars().collect();
            syllables.extend(&chars);
            // every 1- and 2-character substring
            queries.extend(chars.iter().map(char::to_string));
            queries.extend(chars.windows(2).map(|w| w.iter().collect()));
            // some longer substrings, and characters that are near but not adjacent
            if chars.len() >= 4 {
                let start = (rng.next() % (chars.len() as u64 - 3)) as usize;
                queries.push(chars[start..start + 3].iter().collect());
                queries.push(chars[start..start + 4].iter().collect());
                queries.push([chars[start], chars[start + 2]].iter().collect());
                queries.push(
                    [chars[start], chars[start + 1], chars[start + 3]]
                        .iter()
                        .collect(),
                );
            }
        }
    }
    // across the boundary of two values of one field (adjacent departments or doctors)
    for h in &hs {
        for values in [&h.departments, &h.doctor_names] {
            for pair in values.windows(2) {
                let (a, b): (Vec<char>, Vec<char>) = (
                    fold(&pair[0]).chars().collect(),
                    fold(&pair[1]).chars().collect(),
                );
                if a.len() >= 2 && b.len() >= 3 {
                    let tail = &a[a.len() - 2..];
                    queries.push(tail.iter().chain(&b[..2]).collect());
                    queries.push(tail.iter().chain(&b[..3]).collect());
                }
            }
        }
    }
    syllables.sort_unstable();
    syllables.dedup();
    // random two-syllable combinations, most of which occur nowhere
    for _ in 0..300 {
        let a = syllables[(rng.next() % syllables.len() as u64) as usize];
        let b = syllables[(rng.next() % syllables.len() as u64) as usize];
        queries.push([a, b].iter().collect());
    }
    queries.sort();
    queries.dedup();
    assert!(queries.len() > 1000, "{}", queries.len());
    let folded: Vec<(u128, Vec<String>)> = hs
        .iter()
        .map(|h| {
            (
                h.id.as_u128(),
                searched_values(h).map(|v| fold(v)).collect(),
            )
        })
        .collect();
    let mut nonempty = 0;
    for q in &queries {
        let expect: Vec<u128> = folded
            .iter()
            .filter(|(_, values)| values.iter().any(|v| v.contains(q.as_str())))
            .map(|(id, _)| *id)
            .collect();
        nonempty += usize::from(!expect.is_empty());
        assert_eq!(found(&index, q), expect, "query {q:?}");
    }
    assert!(nonempty > 500);
}

#[test]
fn generated_names_have_exact_chosung_matches() {
    let hs = generate(300);
    let index = SearchIndex::build(hs.clone(), Vec::new()).unwrap();
    let mut queries: Vec<String> = Vec::new();
    for h in &hs {
        let cho: Vec<char> = chosung(&h.name).chars().collect();
        for len in 1..=3 {
            queries.extend(
                cho.windows(len)
                    .map(|w| w.iter().collect::<String>())
                    .filter(|w| w.chars().all(|c| ('ㄱ'..='ㅎ').contains(&c))),
            );
        }
    }
    queries.sort();
    queries.dedup();
    assert!(queries.len() > 100);
    for q in &queries {
        let expect: Vec<u128> = sorted(
            hs.iter()
                .filter(|h| chosung(&h.name).contains(q.as_str()))
                .map(|h| h.id.as_u128())
                .collect(),
        );
        assert_eq!(found(&index, q), expect, "query {q:?}");
    }
}
