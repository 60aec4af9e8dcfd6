//! Geospatial functions on the sphere and on geohashes:
//! `geo_distance_2points`, `geo_point_in_circle`, `geo_point_to_geohash`,
//! `geo_geohash_to_central_point`, `geo_geohash_to_polygon`,
//! `geo_geohash_neighbors`
//! (`geo-*-function.md`).
//!
//! Coordinates are WGS-84 degrees, longitude first; a longitude outside
//! -180..180, a latitude outside -90..90, a NaN or a non-number is invalid.
//! Distances are great-circle distances on Kusto's sphere of radius
//! 6,371,010 m (the radius that gives the reference's Seattle–Los Angeles
//! distance, 1546754.35 m). With `use_spheroid` set, `geo_distance_2points`
//! measures the geodesic on the WGS-84 ellipsoid (Karney's algorithm, from
//! the `geographiclib-rs` crate).

use super::real_arg;
use crate::value::{Str, Value};

/// The sphere's radius in metres.
pub const EARTH_RADIUS_METERS: f64 = 6_371_010.0;

/// A valid (longitude, latitude) pair.
pub(super) fn point(longitude: &Value, latitude: &Value) -> Option<(f64, f64)> {
    let (lon, lat) = (real_arg(longitude)?, real_arg(latitude)?);
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}

/// The great-circle distance in metres between two valid points
/// (the haversine formula).
fn sphere_distance((lon1, lat1): (f64, f64), (lon2, lat2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_METERS * h.sqrt().min(1.0).asin()
}

/// `geo_distance_2points(lon1, lat1, lon2, lat2 [, use_spheroid])`: the
/// shortest distance in metres, on the sphere or (`use_spheroid` true) on
/// the WGS-84 spheroid; null when a coordinate is invalid or
/// `use_spheroid` is null.
pub fn geo_distance_2points(args: &[Value]) -> Value {
    let [lon1, lat1, lon2, lat2, rest @ ..] = args else {
        return Value::Null;
    };
    let spheroid = match rest.first() {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Value::Null,
    };
    match (point(lon1, lat1), point(lon2, lat2)) {
        (Some(a), Some(b)) if spheroid => Value::Real(spheroid_distance(a, b)),
        (Some(a), Some(b)) => Value::Real(sphere_distance(a, b)),
        _ => Value::Null,
    }
}

/// The geodesic distance in metres on the WGS-84 ellipsoid.
fn spheroid_distance((lon1, lat1): (f64, f64), (lon2, lat2): (f64, f64)) -> f64 {
    use geographiclib_rs::{Geodesic, InverseGeodesic};
    InverseGeodesic::<f64>::inverse(&Geodesic::wgs84(), lat1, lon1, lat2, lon2)
}

/// `geo_point_in_circle(lon, lat, center_lon, center_lat, radius)`: whether
/// the point is within `radius` metres (along the sphere) of the centre,
/// the circle's edge included. Null when a coordinate is invalid or the
/// radius is not a positive number.
pub fn geo_point_in_circle(args: &[Value]) -> Value {
    let [lon, lat, center_lon, center_lat, radius] = args else {
        return Value::Null;
    };
    let (Some(p), Some(c), Some(r)) = (
        point(lon, lat),
        point(center_lon, center_lat),
        real_arg(radius).filter(|r| *r > 0.0),
    ) else {
        return Value::Null;
    };
    Value::Bool(sphere_distance(p, c) <= r)
}

const GEOHASH_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// `geo_point_to_geohash(lon, lat [, accuracy])`: the geohash of the point,
/// `accuracy` characters long (1 to 18, default 5). An invalid point or
/// accuracy (null included) gives `""`, as the reference's examples show.
pub fn geo_point_to_geohash(args: &[Value]) -> Value {
    let (Some(lon), Some(lat)) = (args.first(), args.get(1)) else {
        return Value::from_static("");
    };
    let accuracy = match args.get(2) {
        None => Some(5),
        Some(v) => super::integer_arg(v).filter(|n| (1..=18).contains(n)),
    };
    let (Some((lon, lat)), Some(accuracy)) = (point(lon, lat), accuracy) else {
        return Value::from_static("");
    };
    let (mut lon_range, mut lat_range) = ((-180.0, 180.0), (-90.0, 90.0));
    let mut hash = String::with_capacity(18);
    let mut even = true;
    for _ in 0..accuracy {
        let mut index = 0usize;
        for _ in 0..5 {
            let (range, value): (&mut (f64, f64), f64) = if even {
                (&mut lon_range, lon)
            } else {
                (&mut lat_range, lat)
            };
            let mid = (range.0 + range.1) / 2.0;
            index <<= 1;
            if value >= mid {
                index |= 1;
                range.0 = mid;
            } else {
                range.1 = mid;
            }
            even = !even;
        }
        hash.push(char::from(GEOHASH_ALPHABET[index]));
    }
    Value::string(hash)
}

/// The cell of a geohash: (west, south, east, north); none when the text
/// is not 1 to 18 characters of the geohash alphabet (lower case).
fn geohash_cell(hash: &Value) -> Option<(f64, f64, f64, f64)> {
    let text = hash.as_str()?;
    if !(1..=18).contains(&text.len()) {
        return None;
    }
    let (mut lon, mut lat) = ((-180.0f64, 180.0f64), (-90.0f64, 90.0f64));
    let mut even = true;
    for byte in text.bytes() {
        let index = GEOHASH_ALPHABET.iter().position(|b| *b == byte)?;
        for bit in (0..5).rev() {
            let range = if even { &mut lon } else { &mut lat };
            let mid = (range.0 + range.1) / 2.0;
            if index >> bit & 1 == 1 {
                range.0 = mid;
            } else {
                range.1 = mid;
            }
            even = !even;
        }
    }
    Some((lon.0, lat.0, lon.1, lat.1))
}

pub(super) fn coordinates(lon: f64, lat: f64) -> Value {
    Value::array(vec![Value::Real(lon), Value::Real(lat)])
}

pub(super) fn geojson(kind: &'static str, coordinates: Value) -> Value {
    Value::bag(vec![
        (Str::Static("type"), Value::from_static(kind)),
        (Str::Static("coordinates"), coordinates),
    ])
}

/// `geo_geohash_to_central_point(geohash)`: the centre of the cell as a
/// GeoJSON point (`{"type":"Point","coordinates":[lon,lat]}`); null for an
/// invalid geohash.
pub fn geo_geohash_to_central_point(hash: &Value) -> Value {
    geohash_cell(hash).map_or(Value::Null, |(w, s, e, n)| {
        geojson("Point", coordinates((w + e) / 2.0, (s + n) / 2.0))
    })
}

/// `geo_geohash_to_polygon(geohash)`: the cell as a GeoJSON polygon, its
/// ring counter-clockwise from the south-west corner and closed; null for
/// an invalid geohash.
pub fn geo_geohash_to_polygon(hash: &Value) -> Value {
    geohash_cell(hash).map_or(Value::Null, |(w, s, e, n)| {
        let ring = vec![
            coordinates(w, s),
            coordinates(e, s),
            coordinates(e, n),
            coordinates(w, n),
            coordinates(w, s),
        ];
        geojson("Polygon", Value::array(vec![Value::array(ring)]))
    })
}

/// `geo_geohash_neighbors(geohash)`: the eight cells of the same length
/// around the cell, in the order of the reference's example (south-west,
/// north-west, south-east, north, west, north-east, east, south). A
/// neighbour across the antimeridian wraps around; one beyond a pole does
/// not exist and is left out. Null for an invalid geohash.
pub fn geo_geohash_neighbors(hash: &Value) -> Value {
    let Some((w, s, e, n)) = geohash_cell(hash) else {
        return Value::Null;
    };
    let accuracy = Value::Long(hash.as_str().map_or(0, str::len) as i64);
    let (width, height) = (e - w, n - s);
    let (lon, lat) = ((w + e) / 2.0, (s + n) / 2.0);
    let steps = [
        (-1.0, -1.0),
        (-1.0, 1.0),
        (1.0, -1.0),
        (0.0, 1.0),
        (-1.0, 0.0),
        (1.0, 1.0),
        (1.0, 0.0),
        (0.0, -1.0),
    ];
    let neighbours = steps
        .iter()
        .filter_map(|(dx, dy)| {
            let y = lat + dy * height;
            if !(-90.0..=90.0).contains(&y) {
                return None;
            }
            let mut x = lon + dx * width;
            if x > 180.0 {
                x -= 360.0;
            } else if x < -180.0 {
                x += 360.0;
            }
            Some(geo_point_to_geohash(&[
                Value::Real(x),
                Value::Real(y),
                accuracy.clone(),
            ]))
        })
        .collect();
    Value::array(neighbours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: f64) -> Value {
        Value::Real(x)
    }

    #[test]
    fn geohash_round_trips_through_its_cell() {
        let hash = geo_point_to_geohash(&[r(139.806115), r(35.554128), Value::Long(12)]);
        assert_eq!(hash, Value::from_static("xn76m27ty9g4"));
        assert_eq!(
            geo_point_to_geohash(&[r(-80.195829), r(25.802215), Value::Long(8)]),
            Value::from_static("dhwfz15h")
        );
        assert_eq!(
            geo_geohash_to_central_point(&Value::from_static("sunny")),
            geojson("Point", coordinates(42.47314453125, 23.70849609375))
        );
        assert_eq!(
            geo_geohash_to_central_point(&Value::from_static("a")),
            Value::Null
        );
    }

    #[test]
    fn distance_uses_kusto_sphere() {
        let d = geo_distance_2points(&[r(-122.407628), r(47.578557), r(-118.275287), r(34.019056)]);
        let Value::Real(d) = d else { panic!("{d:?}") };
        assert!((d - 1546754.35197381).abs() < 1e-6, "{d}");
        assert_eq!(
            geo_distance_2points(&[r(300.0), r(1.0), r(1.0), r(1.0)]),
            Value::Null
        );
        // One degree of longitude on the equator: a / 180 * pi on WGS-84.
        let Value::Real(d) =
            geo_distance_2points(&[r(0.0), r(0.0), r(1.0), r(0.0), Value::Bool(true)])
        else {
            panic!()
        };
        assert!(
            (d - 6_378_137.0 * std::f64::consts::PI / 180.0).abs() < 1e-6,
            "{d}"
        );
    }
}
