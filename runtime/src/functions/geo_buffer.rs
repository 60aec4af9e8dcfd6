//! `geo_point_buffer`, `geo_line_buffer`, `geo_polygon_buffer`
//! (`geo-point-buffer-function.md`, `geo-line-buffer-function.md`,
//! `geo-polygon-buffer-function.md`): a polygon that holds every point
//! within a radius of a shape, on the sphere.
//!
//! A line's buffer is the union (`geo_overlay`) of a point buffer around
//! each vertex and a band along each edge, bounded by points offset
//! perpendicularly from the edge; a polygon's adds the polygon itself.
//!
//! The polygon is a regular polygon around the point (the `s2` crate's
//! `regular_points`) whose edges, geodesics, pass exactly at the radius at
//! their midpoints, so the circle is inside it; its vertices lie farther
//! out, by at most the tolerance: the fewest vertices (at least 3) that
//! keep within it.

use super::geo::{coordinates, geojson, point, EARTH_RADIUS_METERS};
use super::geo_overlay::union_of;
use super::geo_shapes::{lines, polygons};
use super::real_arg;
use crate::value::Value;
use s2::point::Point;

/// The most vertices a buffer may have; a tolerance that needs more gives
/// null.
const MAX_VERTICES: usize = 1 << 20;

/// The radius and tolerance arguments (metres; tolerance default 10) in
/// radians: none when the radius is not positive or reaches a quarter of
/// the circumference, or the tolerance is below a millionth of the radius
/// or null; a tolerance above the radius is lowered to just below it.
fn radius_and_tolerance(radius: &Value, tolerance: Option<&Value>) -> Option<(f64, f64)> {
    let radius = real_arg(radius)?;
    let tolerance = match tolerance {
        None => 10.0,
        Some(v) => real_arg(v)?,
    };
    let quarter = std::f64::consts::FRAC_PI_2 * EARTH_RADIUS_METERS;
    let valid = radius > 0.0 && radius < quarter && tolerance >= radius * 1e-6;
    if !valid {
        return None;
    }
    let tolerance = tolerance.min(radius * (1.0 - 1e-9));
    Some((
        radius / EARTH_RADIUS_METERS,
        tolerance / EARTH_RADIUS_METERS,
    ))
}

fn degrees(v: &Point) -> (f64, f64) {
    let ll = s2::latlng::LatLng::from(*v);
    (ll.lng.deg(), ll.lat.deg())
}

/// The vertices of a regular polygon around `centre` whose edges touch
/// the circle of angle `inner` and whose vertices lie within `tolerance`
/// of it (angles in radians), counter-clockwise seen from outside.
fn disk(centre: &Point, inner: f64, tolerance: f64) -> Option<Vec<Point>> {
    // A regular n-gon whose edges touch the circle of angle `inner` has its
    // vertices at angle `atan(tan(inner) / cos(pi / n))`.
    let outer = |n: usize| (inner.tan() / (std::f64::consts::PI / n as f64).cos()).atan();
    let n = (3..=MAX_VERTICES).find(|n| outer(*n) <= inner + tolerance)?;
    Some(s2::point::regular_points(
        centre,
        s2::s1::Angle::from(s2::s1::Rad(outer(n))),
        n,
    ))
}

/// A GeoJSON polygon of one ring through `vertices`, closed.
fn ring_polygon(vertices: &[Point]) -> Value {
    let mut ring: Vec<Value> = vertices
        .iter()
        .map(|v| {
            let (lon, lat) = degrees(v);
            coordinates(lon, lat)
        })
        .collect();
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    geojson("Polygon", Value::array(vec![Value::array(ring)]))
}

/// `geo_point_buffer(lon, lat, radius [, tolerance])`: a GeoJSON polygon,
/// counter-clockwise, holding every point within `radius` metres of the
/// point and no point farther than `radius + tolerance` (default 10
/// metres; no lower than a millionth of the radius; above the radius it is
/// lowered to just below it). Null for an invalid point, a radius that is
/// not positive or reaches a quarter of the sphere's circumference, or an
/// invalid tolerance.
pub fn geo_point_buffer(args: &[Value]) -> Value {
    let [lon, lat, radius, rest @ ..] = args else {
        return Value::Null;
    };
    let (Some((lon, lat)), Some((inner, tolerance))) =
        (point(lon, lat), radius_and_tolerance(radius, rest.first()))
    else {
        return Value::Null;
    };
    let centre = Point::from(s2::latlng::LatLng::from_degrees(lat, lon));
    disk(&centre, inner, tolerance).map_or(Value::Null, |v| ring_polygon(&v))
}

/// The band along the geodesic edge `a`-`b`: every point within `inner`
/// of the edge whose nearest point on it is not an end, bounded by points
/// offset perpendicularly by `inner + tolerance / 2`, enough of them that
/// the geodesic chords between them stay outside `inner`.
fn band(a: &Point, b: &Point, inner: f64, tolerance: f64) -> Option<Vec<Point>> {
    let normal = a.0.cross(&b.0);
    if normal.norm() < 1e-15 {
        return Some(Vec::new());
    }
    let normal = normal.normalize();
    let out = inner + tolerance / 2.0;
    let offset =
        |p: &Point, side: f64| Point((p.0 * out.cos() + normal * (side * out.sin())).normalize());
    let mut pieces = 1usize;
    loop {
        let first = offset(a, 1.0);
        let second = offset(&s2::edgeutil::interpolate(1.0 / pieces as f64, a, b), 1.0);
        let mid = (first.0 + second.0).normalize();
        if mid.dot(&normal).asin() >= inner {
            break;
        }
        pieces *= 2;
        if pieces > MAX_VERTICES {
            return None;
        }
    }
    let along: Vec<Point> = (0..=pieces)
        .map(|i| s2::edgeutil::interpolate(i as f64 / pieces as f64, a, b))
        .collect();
    let mut ring: Vec<Point> = along.iter().map(|p| offset(p, 1.0)).collect();
    ring.extend(along.iter().rev().map(|p| offset(p, -1.0)));
    Some(ring)
}

/// The disks around the vertices and the bands along the edges of chains
/// of vertices, as GeoJSON polygons.
fn chain_parts(chains: &[Vec<Point>], inner: f64, tolerance: f64) -> Option<Vec<Value>> {
    let mut parts = Vec::new();
    for chain in chains {
        for v in chain {
            parts.push(ring_polygon(&disk(v, inner, tolerance)?));
        }
        for e in chain.windows(2) {
            let band = band(&e[0], &e[1], inner, tolerance)?;
            if !band.is_empty() {
                parts.push(ring_polygon(&band));
            }
        }
    }
    Some(parts)
}

/// `geo_line_buffer(line, radius [, tolerance])`: a Polygon or
/// MultiPolygon holding every point within `radius` metres of a LineString
/// or MultiLineString (round ends, both sides), within `tolerance` of that
/// distance as `geo_point_buffer` is. Null for an invalid line, radius or
/// tolerance, and when the buffer does not fit in one hemisphere.
pub fn geo_line_buffer(args: &[Value]) -> Value {
    let [shape, radius, rest @ ..] = args else {
        return Value::Null;
    };
    let (Some(chains), Some((inner, tolerance))) =
        (lines(shape), radius_and_tolerance(radius, rest.first()))
    else {
        return Value::Null;
    };
    let Some(parts) = chain_parts(&chains, inner, tolerance) else {
        return Value::Null;
    };
    let refs: Vec<&Value> = parts.iter().collect();
    union_of(&refs).unwrap_or(Value::Null)
}

/// `geo_polygon_buffer(polygon, radius [, tolerance])`: a Polygon or
/// MultiPolygon holding the Polygon or MultiPolygon and every point within
/// `radius` metres of it, within `tolerance` as `geo_point_buffer` is.
/// Null for an invalid polygon, radius or tolerance, and when the buffer
/// does not fit in one hemisphere.
pub fn geo_polygon_buffer(args: &[Value]) -> Value {
    let [shape, radius, rest @ ..] = args else {
        return Value::Null;
    };
    let (Some(polygons), Some((inner, tolerance))) =
        (polygons(shape), radius_and_tolerance(radius, rest.first()))
    else {
        return Value::Null;
    };
    let chains: Vec<Vec<Point>> = polygons
        .iter()
        .flat_map(|p| &p.rings)
        .map(|r| {
            let mut closed = r.vertices.clone();
            closed.extend(r.vertices.first().copied());
            closed
        })
        .collect();
    let Some(mut parts) = chain_parts(&chains, inner, tolerance) else {
        return Value::Null;
    };
    parts.push(shape.clone());
    let refs: Vec<&Value> = parts.iter().collect();
    union_of(&refs).unwrap_or(Value::Null)
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn r(x: f64) -> Value {
        Value::Real(x)
    }

    #[test]
    fn the_buffer_holds_the_circle_within_the_tolerance() {
        let buffer = geo_point_buffer(&[r(-115.1745008278), r(36.1497251277), r(20000.0)]);
        let Value::Bag(bag) = &buffer else {
            panic!("{buffer:?}")
        };
        let Some(Value::Array(rings)) = bag.get("coordinates") else {
            panic!()
        };
        let Value::Array(ring) = &rings[0] else {
            panic!()
        };
        assert!(ring.len() > 10);
        for v in ring.iter() {
            let Value::Array(c) = v else { panic!() };
            let d = crate::functions::geo_distance_2points(&[
                c[0].clone(),
                c[1].clone(),
                r(-115.1745008278),
                r(36.1497251277),
            ]);
            let Value::Real(d) = d else { panic!() };
            assert!((20000.0..=20010.0 + 1e-6).contains(&d), "{d}");
        }
        // Every point of the circle is inside: the page's own predicate.
        for k in 0..36 {
            let bearing = f64::from(k) * 10f64.to_radians();
            let (dlat, dlon) = (
                bearing.cos() * 0.17,
                bearing.sin() * 0.17 / 36.15f64.to_radians().cos(),
            );
            let inside = crate::functions::geo_point_in_polygon(
                &r(-115.1745008278 + dlon),
                &r(36.1497251277 + dlat),
                &buffer,
            );
            assert_eq!(inside, Value::Bool(true));
        }
        assert_eq!(geo_point_buffer(&[r(200.0), r(1.0), r(0.1)]), Value::Null);
        assert_eq!(geo_point_buffer(&[r(10.0), r(10.0), r(-1.0)]), Value::Null);
    }

    fn dynamic(text: &str) -> Value {
        crate::functions::todynamic(&Value::string(text.to_string()))
    }

    #[test]
    fn a_line_buffer_holds_the_points_near_the_line() {
        let line =
            dynamic(r#"{"type":"LineString","coordinates":[[10,50],[10.1,50.05],[10.2,50]]}"#);
        let buffer = geo_line_buffer(&[line.clone(), r(1000.0)]);
        let Value::Bag(bag) = &buffer else {
            panic!("{buffer:?}")
        };
        assert_eq!(bag.get("type").and_then(Value::as_str), Some("Polygon"));
        // Points around the line at 990 m are inside, at 1020 m outside.
        for (lon, lat) in [
            (10.1, 50.05 + 0.0089),
            (10.1, 50.05 + 0.0093),
            (10.0 - 0.0138, 50.0),
            (10.2, 50.0 - 0.0089),
        ] {
            let d = crate::functions::geo_distance_point_to_line(&r(lon), &r(lat), &line);
            let Value::Real(d) = d else { panic!() };
            let inside = crate::functions::geo_point_in_polygon(&r(lon), &r(lat), &buffer);
            assert_eq!(inside, Value::Bool(d <= 1000.0), "{lon} {lat} {d}");
        }
        assert_eq!(geo_line_buffer(&[line, r(0.0)]), Value::Null);
        let polygon = dynamic(
            r#"{"type":"Polygon","coordinates":[[[10,10],[10.1,10],[10.1,10.1],[10,10.1],[10,10]]]}"#,
        );
        let grown = geo_polygon_buffer(&[polygon, r(500.0)]);
        let inside = |lon, lat| crate::functions::geo_point_in_polygon(&r(lon), &r(lat), &grown);
        assert_eq!(inside(10.05, 10.05), Value::Bool(true));
        assert_eq!(inside(10.104, 10.05), Value::Bool(true));
        assert_eq!(inside(10.106, 10.05), Value::Bool(false));
    }
}
