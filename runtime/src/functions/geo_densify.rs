//! `geo_line_densify` and `geo_polygon_densify`
//! (`geo-line-densify-function.md`, `geo-polygon-densify-function.md`):
//! a GeoJSON shape whose edges are meant as straight lines in longitude
//! and latitude, turned into chains of geodesic edges that stay within a
//! tolerance of them.
//!
//! Each edge is halved at its planar midpoint while that midpoint lies
//! farther than the tolerance (on the sphere, radius 6,371,010 m) from the
//! geodesic between the edge's ends, each half in turn; an edge already
//! within the tolerance is kept, so short edges and meridians come back
//! unchanged. The points added lie on the planar edge. The distance is the
//! `s2` crate's point-to-geodesic distance.

use super::geo::EARTH_RADIUS_METERS;
use super::geo_shapes::{geometry, items, lines, polygons, position, unit};
use super::real_arg;
use crate::value::{Str, Value};

/// The most points a densified shape may have (the pages' limit).
const MAX_POINTS: usize = 10_485_760;

/// Halvings of one edge at most: 2^40 pieces is beyond `MAX_POINTS`
/// anyway, so the bound only stops a runaway recursion.
const MAX_DEPTH: u32 = 40;

/// The tolerance and antimeridian arguments after the shape: tolerance in
/// metres, 0.1 to 10,000 (default 10), and `preserve_crossing` (default
/// false); none when either is invalid or null.
fn options(args: &[Value]) -> Option<(f64, bool)> {
    let tolerance = match args.get(1) {
        None => 10.0,
        Some(v) => real_arg(v).filter(|t| (0.1..=10_000.0).contains(t))?,
    };
    let preserve = match args.get(2) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    Some((tolerance, preserve))
}

/// Densifies chains of positions.
struct Densifier {
    /// The tolerance in radians.
    tolerance: f64,
    preserve_crossing: bool,
    points: usize,
}

impl Densifier {
    /// The chain through the positions of `chain` (GeoJSON positions,
    /// already validated), the given vertices kept as they were written.
    fn chain(&mut self, chain: &[Value]) -> Option<Value> {
        let mut out = Vec::with_capacity(chain.len());
        for (i, vertex) in chain.iter().enumerate() {
            if i > 0 {
                let a = position(&chain[i - 1])?;
                let b = position(vertex)?;
                let b = self.unwrapped(a, b);
                self.edge(a, b, 0, &mut out)?;
            }
            out.push(vertex.clone());
            self.count(1)?;
        }
        Some(Value::array(out))
    }

    /// `b`, its longitude moved by 360 degrees when `preserve_crossing`
    /// asks for the edge that crosses the antimeridian.
    fn unwrapped(&self, a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        if !self.preserve_crossing || (b.0 - a.0).abs() <= 180.0 {
            b
        } else if b.0 > a.0 {
            (b.0 - 360.0, b.1)
        } else {
            (b.0 + 360.0, b.1)
        }
    }

    fn count(&mut self, n: usize) -> Option<()> {
        self.points += n;
        (self.points <= MAX_POINTS).then_some(())
    }

    /// Pushes the points strictly between `a` and `b` that the edge needs.
    fn edge(
        &mut self,
        a: (f64, f64),
        b: (f64, f64),
        depth: u32,
        out: &mut Vec<Value>,
    ) -> Option<()> {
        let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let (pa, pb, pm) = (unit_any(a)?, unit_any(b)?, unit_any(mid)?);
        let deviation = s2::edgeutil::distance_from_segment(&pm, &pa, &pb).rad();
        // Ends at most 180 degrees apart in longitude are joined by the
        // geodesic the page describes; farther apart the planar edge goes
        // the long way round and must be halved whatever the deviation.
        if deviation <= self.tolerance && (b.0 - a.0).abs() < 180.0 {
            return Some(());
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        self.edge(a, mid, depth + 1, out)?;
        out.push(super::geo::coordinates(wrap(mid.0), mid.1));
        self.count(1)?;
        self.edge(mid, b, depth + 1, out)
    }
}

/// A longitude brought back into -180..180.
fn wrap(longitude: f64) -> f64 {
    if longitude > 180.0 {
        longitude - 360.0
    } else if longitude < -180.0 {
        longitude + 360.0
    } else {
        longitude
    }
}

/// The unit vector of a position whose longitude may lie beyond ±180.
fn unit_any((lon, lat): (f64, f64)) -> Option<s2::point::Point> {
    unit(wrap(lon), lat)
}

/// A geometry bag with `coordinates` replaced.
fn with_coordinates(shape: &Value, coordinates: Value) -> Value {
    let Value::Bag(bag) = shape else {
        return Value::Null;
    };
    let kind = bag.get("type").cloned().unwrap_or(Value::Null);
    Value::bag(vec![
        (Str::Static("type"), kind),
        (Str::Static("coordinates"), coordinates),
    ])
}

/// `geo_line_densify(line [, tolerance [, preserve_crossing]])`: the
/// LineString or MultiLineString with points added along its planar edges
/// so that the geodesic chain stays within `tolerance` metres of them.
/// Null for an invalid line, tolerance or flag, and when the result would
/// pass 10,485,760 points.
pub fn geo_line_densify(args: &[Value]) -> Value {
    let Some(shape) = args.first() else {
        return Value::Null;
    };
    let (Some(_), Some((tolerance, preserve_crossing))) = (lines(shape), options(args)) else {
        return Value::Null;
    };
    let Some((kind, coordinates)) = geometry(shape, &["LineString", "MultiLineString"]) else {
        return Value::Null;
    };
    let mut densifier = Densifier {
        tolerance: tolerance / EARTH_RADIUS_METERS,
        preserve_crossing,
        points: 0,
    };
    let result = if kind == "LineString" {
        densifier.chain(coordinates)
    } else {
        coordinates
            .iter()
            .map(|l| densifier.chain(items(l)?))
            .collect::<Option<Vec<_>>>()
            .map(Value::array)
    };
    result.map_or(Value::Null, |c| with_coordinates(shape, c))
}

/// `geo_polygon_densify(polygon [, tolerance [, preserve_crossing]])`: the
/// Polygon or MultiPolygon with points added along the planar edges of its
/// rings, as `geo_line_densify` does. Null for an invalid polygon,
/// tolerance or flag, and when the result would pass 10,485,760 points.
pub fn geo_polygon_densify(args: &[Value]) -> Value {
    let Some(shape) = args.first() else {
        return Value::Null;
    };
    let (Some(_), Some((tolerance, preserve_crossing))) = (polygons(shape), options(args)) else {
        return Value::Null;
    };
    let Some((kind, coordinates)) = geometry(shape, &["Polygon", "MultiPolygon"]) else {
        return Value::Null;
    };
    let mut densifier = Densifier {
        tolerance: tolerance / EARTH_RADIUS_METERS,
        preserve_crossing,
        points: 0,
    };
    let mut polygon = |rings: &[Value]| -> Option<Value> {
        rings
            .iter()
            .map(|r| densifier.chain(items(r)?))
            .collect::<Option<Vec<_>>>()
            .map(Value::array)
    };
    let result = if kind == "Polygon" {
        polygon(coordinates)
    } else {
        coordinates
            .iter()
            .map(|p| polygon(items(p)?))
            .collect::<Option<Vec<_>>>()
            .map(Value::array)
    };
    result.map_or(Value::Null, |c| with_coordinates(shape, c))
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn dynamic(text: &str) -> Value {
        crate::functions::todynamic(&Value::string(text.to_string()))
    }

    #[test]
    fn a_long_diagonal_is_halved_three_times() {
        let line = dynamic(r#"{"type":"LineString","coordinates":[[50,50],[51,51]]}"#);
        let want = dynamic(
            r#"{"type":"LineString","coordinates":[[50,50],[50.125,50.125],[50.25,50.25],
            [50.375,50.375],[50.5,50.5],[50.625,50.625],[50.75,50.75],[50.875,50.875],[51,51]]}"#,
        );
        assert_eq!(geo_line_densify(std::slice::from_ref(&line)), want);
        assert_eq!(geo_line_densify(&[line, Value::Long(0)]), Value::Null);
    }

    #[test]
    fn a_crossing_edge_goes_the_short_way_only_when_asked() {
        let line = dynamic(r#"{"type":"LineString","coordinates":[[179,0],[-179,0]]}"#);
        let Value::Bag(short) =
            geo_line_densify(&[line.clone(), Value::Long(10000), Value::Bool(true)])
        else {
            panic!()
        };
        let Some(Value::Array(points)) = short.get("coordinates") else {
            panic!()
        };
        // The equator is a geodesic: nothing to add the short way.
        assert_eq!(points.len(), 2);
        let Value::Bag(long) = geo_line_densify(&[line, Value::Long(10000)]) else {
            panic!()
        };
        let Some(Value::Array(points)) = long.get("coordinates") else {
            panic!()
        };
        assert!(points.len() > 2);
        assert!(points
            .iter()
            .all(|p| position(p).is_some_and(|(lon, _)| lon.abs() <= 179.0)));
    }
}
