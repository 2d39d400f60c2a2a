//! Great-circle distance without trigonometry at query time.
//!
//! Each document stores its position as a unit vector on the sphere (three f64 fast fields). The
//! squared chord length between two unit vectors grows monotonically with the great-circle
//! distance, so sorting by it is sorting by haversine distance, at the price of three
//! subtractions and multiplications per document. The distance in metres is derived only for
//! the hits of a page: `d = 2R·asin(chord / 2)`, which is exactly the haversine distance.

/// Mean Earth radius (IUGG), the radius the haversine formula is usually quoted with.
pub(crate) const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The unit vector of a valid position, `None` for non-finite or out-of-range coordinates.
pub(crate) fn unit_vector(lat: f64, lon: f64) -> Option<[f64; 3]> {
    // `contains` is false for NaN, and infinities are outside both ranges.
    if !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
        return None;
    }
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    Some([
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ])
}

/// Squared chord length between two unit vectors (0 ..= 4).
#[inline]
pub(crate) fn chord2(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    dx * dx + dy * dy + dz * dz
}

/// Great-circle distance in metres for a squared chord length.
pub(crate) fn metres(chord2: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord2.sqrt() / 2.0).min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
        let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
        let dp = p2 - p1;
        let dl = (lon2 - lon1).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    #[test]
    fn chord_distance_equals_haversine() {
        let pairs = [
            ((37.5796, 126.9990), (37.3520, 127.1237)), // 서울대병원 → 분당서울대병원
            ((37.5665, 126.9780), (35.1796, 129.0756)), // 서울 → 부산
            ((37.5, 127.0), (37.5, 127.0)),
        ];
        for ((a, b), (c, d)) in pairs {
            let chord = chord2(unit_vector(a, b).unwrap(), unit_vector(c, d).unwrap());
            let expect = haversine(a, b, c, d);
            assert!((metres(chord) - expect).abs() < 1e-3, "{a},{b} → {c},{d}");
        }
    }

    #[test]
    fn invalid_coordinates_have_no_unit_vector() {
        assert!(unit_vector(f64::NAN, 127.0).is_none());
        assert!(unit_vector(91.0, 127.0).is_none());
        assert!(unit_vector(37.0, 181.0).is_none());
    }
}
