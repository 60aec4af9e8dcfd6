//! Points against GeoJSON lines and polygons on the sphere:
//! `geo_point_in_polygon`, `geo_distance_point_to_line` and
//! `geo_distance_point_to_polygon` (`geo-point-in-polygon-function.md`,
//! `geo-distance-point-to-line-function.md`,
//! `geo-distance-point-to-polygon-function.md`), and the measures
//! `geo_line_length`, `geo_polygon_perimeter` and `geo_polygon_area`
//! (`geo-line-length-function.md`, `geo-polygon-perimeter-function.md`,
//! `geo-polygon-area-function.md`).
//!
//! The pages measure on a sphere with geodesic edges. Points are the `s2`
//! crate's unit vectors, distances to an edge are its
//! `edgeutil::distance_from_segment`, and crossings are decided with its
//! exact orientation predicate (`predicates::robust_sign`). The crate has
//! no loop or polygon type, so containment is S2's own method: the parity
//! of the ring edges that a geodesic from the point to a point known to be
//! outside crosses, each crossing counted on one side only, so that a
//! vertex on the path counts once.
//!
//! A ring "encloses at most half of the sphere" and "the smaller of the two
//! regions" is its inside; kqlc takes the outside reference point on the
//! great circle 90 degrees from the centroid of the ring's vertices, and so
//! requires every vertex to lie strictly within that hemisphere (a ring
//! that does not is invalid input: null). Crossing rings are not detected.

use super::geo::{coordinates, geojson, EARTH_RADIUS_METERS};
use super::real_arg;
use crate::value::Value;
use s2::point::Point;
use s2::predicates::{robust_sign, Direction};
use s2::r3::vector::Vector;

/// A unit vector for a valid `[longitude, latitude]` pair.
pub(super) fn unit(longitude: f64, latitude: f64) -> Option<Point> {
    ((-180.0..=180.0).contains(&longitude) && (-90.0..=90.0).contains(&latitude))
        .then(|| Point::from(s2::latlng::LatLng::from_degrees(latitude, longitude)))
}

/// The point of a `(longitude, latitude)` argument pair.
fn point_arg(longitude: &Value, latitude: &Value) -> Option<Point> {
    unit(real_arg(longitude)?, real_arg(latitude)?)
}

/// A GeoJSON position: an array of two numbers (longitude first).
pub(super) fn position(value: &Value) -> Option<(f64, f64)> {
    let Value::Array(items) = value else {
        return None;
    };
    match items.as_slice() {
        [lon, lat] => Some((real_arg(lon)?, real_arg(lat)?)),
        _ => None,
    }
}

/// The members of a GeoJSON geometry of one of `kinds`: its type and its
/// `coordinates`.
pub(super) fn geometry<'v>(
    value: &'v Value,
    kinds: &[&'static str],
) -> Option<(&'static str, &'v [Value])> {
    let Value::Bag(bag) = value else {
        return None;
    };
    let kind = bag.get("type")?.as_str()?;
    let kind = kinds.iter().find(|k| **k == kind)?;
    match bag.get("coordinates")? {
        Value::Array(items) => Some((kind, items.as_slice())),
        _ => None,
    }
}

pub(super) fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items.as_slice()),
        _ => None,
    }
}

/// Two points a geodesic edge cannot join: the same point or antipodes.
fn antipodal(a: &Point, b: &Point) -> bool {
    a.0.dot(&b.0) <= -1.0 + 1e-15
}

/// The vertices of a valid line: at least two valid positions, no edge
/// between antipodes.
fn line(value: &Value) -> Option<Vec<Point>> {
    let vertices = items(value)?
        .iter()
        .map(|p| position(p).and_then(|(lon, lat)| unit(lon, lat)))
        .collect::<Option<Vec<_>>>()?;
    (vertices.len() >= 2 && !vertices.windows(2).any(|e| antipodal(&e[0], &e[1])))
        .then_some(vertices)
}

/// A ring: its distinct vertices, in order (the closing vertex dropped).
pub(super) struct Ring {
    pub(super) vertices: Vec<Point>,
}

impl Ring {
    /// A valid linear ring: at least four positions, the last equal to the
    /// first, at least three distinct vertices, no vertex twice, no edge
    /// between antipodes.
    fn parse(value: &Value) -> Option<Ring> {
        let positions = items(value)?
            .iter()
            .map(position)
            .collect::<Option<Vec<_>>>()?;
        if positions.len() < 4 || positions.first() != positions.last() {
            return None;
        }
        let open = &positions[..positions.len() - 1];
        let mut sorted: Vec<(f64, f64)> = open.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            return None;
        }
        let vertices = open
            .iter()
            .map(|(lon, lat)| unit(*lon, *lat))
            .collect::<Option<Vec<_>>>()?;
        let ring = Ring { vertices };
        let valid = !ring.edges().any(|(a, b)| antipodal(a, b));
        valid.then_some(ring)
    }

    pub(super) fn edges(&self) -> impl Iterator<Item = (&Point, &Point)> {
        let n = self.vertices.len();
        (0..n).map(move |i| (&self.vertices[i], &self.vertices[(i + 1) % n]))
    }

    /// The shortest distance, in radians, from `p` to the ring's edges.
    fn distance(&self, p: &Point) -> f64 {
        self.edges()
            .map(|(a, b)| s2::edgeutil::distance_from_segment(p, a, b).rad())
            .fold(f64::INFINITY, f64::min)
    }
}

/// A polygon: its shell, its holes and the hemisphere that holds them.
pub(super) struct Polygon {
    pub(super) rings: Vec<Ring>,
    /// The centroid of the shell's vertices: every vertex lies strictly in
    /// the open hemisphere around it.
    center: Point,
}

impl Polygon {
    fn parse(rings: &Value) -> Option<Polygon> {
        let rings = items(rings)?
            .iter()
            .map(Ring::parse)
            .collect::<Option<Vec<_>>>()?;
        let shell = rings.first()?;
        let sum = shell
            .vertices
            .iter()
            .fold(s2::r3::vector::Vector::new(0.0, 0.0, 0.0), |s, v| s + v.0);
        if sum.norm() < 1e-12 {
            return None;
        }
        let center = Point(sum.normalize());
        let inside = rings
            .iter()
            .flat_map(|r| &r.vertices)
            .all(|v| v.0.dot(&center.0) > 1e-9);
        inside.then_some(Polygon { rings, center })
    }

    /// Whether `p` is inside the shell and outside every hole.
    pub(super) fn contains(&self, p: &Point) -> bool {
        let along = p.0.dot(&self.center.0);
        if along <= 0.0 {
            return false;
        }
        // A point on the hemisphere's boundary circle, on the great circle
        // through the centre and `p`: outside every ring.
        let away = p.0 - self.center.0 * along;
        let out = if away.norm() < 1e-12 {
            Point(self.center.0.ortho())
        } else {
            Point(away.normalize())
        };
        let mut crossings = 0usize;
        for ring in &self.rings {
            for (a, b) in ring.edges() {
                if crosses(p, &out, a, b) {
                    crossings += 1;
                }
            }
        }
        crossings % 2 == 1
    }

    pub(super) fn distance(&self, p: &Point) -> f64 {
        if self.contains(p) {
            0.0
        } else {
            self.rings
                .iter()
                .map(|r| r.distance(p))
                .fold(f64::INFINITY, f64::min)
        }
    }
}

/// Whether the path `p`→`out` crosses the edge `a`→`b`. The edge's
/// endpoints are classed by the side of the path's great circle they lie
/// on, a vertex on the circle counted with the left side, so a path through
/// a vertex crosses exactly one of its two edges.
fn crosses(p: &Point, out: &Point, a: &Point, b: &Point) -> bool {
    let left = |v: &Point| robust_sign(p, out, v) != Direction::Clockwise;
    if left(a) == left(b) {
        return false;
    }
    // The path's endpoints on opposite sides of the edge's great circle
    // (all of it lies in one hemisphere, so no antipodal crossing).
    let side_p = robust_sign(a, b, p);
    let side_out = robust_sign(a, b, out);
    side_p != side_out && side_p != Direction::Indeterminate
}

/// The polygons of a GeoJSON Polygon or MultiPolygon.
pub(super) fn polygons(value: &Value) -> Option<Vec<Polygon>> {
    let (kind, coordinates) = geometry(value, &["Polygon", "MultiPolygon"])?;
    if kind == "Polygon" {
        Some(vec![Polygon::parse(value_of(value)?)?])
    } else if coordinates.is_empty() {
        None
    } else {
        coordinates.iter().map(Polygon::parse).collect()
    }
}

/// The `coordinates` member of a geometry bag.
fn value_of(value: &Value) -> Option<&Value> {
    match value {
        Value::Bag(bag) => bag.get("coordinates"),
        _ => None,
    }
}

/// The lines of a GeoJSON LineString or MultiLineString.
pub(super) fn lines(value: &Value) -> Option<Vec<Vec<Point>>> {
    let (kind, coordinates) = geometry(value, &["LineString", "MultiLineString"])?;
    if kind == "LineString" {
        Some(vec![line(value_of(value)?)?])
    } else if coordinates.is_empty() {
        None
    } else {
        coordinates.iter().map(line).collect()
    }
}

/// `geo_point_in_polygon(lon, lat, polygon)`: whether the point is inside
/// the Polygon or MultiPolygon (edges are geodesics on the sphere; a point
/// exactly on an edge may fall on either side). Null for an invalid point
/// or polygon.
pub fn geo_point_in_polygon(longitude: &Value, latitude: &Value, polygon: &Value) -> Value {
    match (point_arg(longitude, latitude), polygons(polygon)) {
        (Some(p), Some(polygons)) => Value::Bool(polygons.iter().any(|poly| poly.contains(&p))),
        _ => Value::Null,
    }
}

/// `geo_distance_point_to_line(lon, lat, line)`: the shortest distance in
/// metres on the sphere from the point to a LineString or MultiLineString.
/// Null for an invalid point or line.
pub fn geo_distance_point_to_line(longitude: &Value, latitude: &Value, line: &Value) -> Value {
    let (Some(p), Some(lines)) = (point_arg(longitude, latitude), lines(line)) else {
        return Value::Null;
    };
    let radians = lines
        .iter()
        .flat_map(|l| l.windows(2))
        .map(|e| s2::edgeutil::distance_from_segment(&p, &e[0], &e[1]).rad())
        .fold(f64::INFINITY, f64::min);
    Value::Real(radians * EARTH_RADIUS_METERS)
}

/// `geo_distance_point_to_polygon(lon, lat, polygon)`: the shortest
/// distance in metres on the sphere from the point to a Polygon or
/// MultiPolygon, 0 when the point is inside it. Null for an invalid point
/// or polygon.
pub fn geo_distance_point_to_polygon(
    longitude: &Value,
    latitude: &Value,
    polygon: &Value,
) -> Value {
    let (Some(p), Some(polygons)) = (point_arg(longitude, latitude), polygons(polygon)) else {
        return Value::Null;
    };
    let radians = polygons
        .iter()
        .map(|poly| poly.distance(&p))
        .fold(f64::INFINITY, f64::min);
    Value::Real(radians * EARTH_RADIUS_METERS)
}

/// The angle in radians between two unit vectors: the length of the
/// geodesic edge joining them.
fn angle(a: &Point, b: &Point) -> f64 {
    a.0.cross(&b.0).norm().atan2(a.0.dot(&b.0))
}

/// The summed edge lengths of a chain of vertices, in radians.
fn chain_length(vertices: &[Point]) -> f64 {
    vertices.windows(2).map(|e| angle(&e[0], &e[1])).sum()
}

impl Ring {
    /// The ring's length, closing edge included, in radians.
    fn length(&self) -> f64 {
        self.edges().map(|(a, b)| angle(a, b)).sum()
    }

    /// The area in steradians of the region the ring bounds within the
    /// hemisphere around `center`: the signed areas of the geodesic
    /// triangles fanned from `center`, whatever the ring's orientation.
    fn area(&self, center: &Point) -> f64 {
        let c = &center.0;
        self.edges()
            .map(|(a, b)| {
                let (a, b) = (&a.0, &b.0);
                2.0 * c
                    .dot(&a.cross(b))
                    .atan2(1.0 + c.dot(a) + a.dot(b) + b.dot(c))
            })
            .sum::<f64>()
            .abs()
    }
}

impl Polygon {
    /// The shell's area less its holes', in steradians.
    fn area(&self) -> f64 {
        let mut rings = self.rings.iter().map(|r| r.area(&self.center));
        let shell = rings.next().unwrap_or(0.0);
        (shell - rings.sum::<f64>()).max(0.0)
    }

    /// Whether two polygons share area or boundary: an edge of one crosses
    /// or touches an edge of the other, or a vertex of one lies inside the
    /// other.
    fn meets(&self, other: &Polygon) -> bool {
        let edges = |p: &Polygon| -> Vec<(Point, Point)> {
            p.rings
                .iter()
                .flat_map(|r| r.edges().map(|(a, b)| (*a, *b)))
                .collect()
        };
        let (mine, theirs) = (edges(self), edges(other));
        let touching = mine
            .iter()
            .any(|(a, b)| theirs.iter().any(|(c, d)| edges_meet(a, b, c, d)));
        touching
            || self.rings[0].vertices.iter().any(|v| other.contains(v))
            || other.rings[0].vertices.iter().any(|v| self.contains(v))
    }
}

/// The polygons of a Polygon or MultiPolygon whose polygons are pairwise
/// apart, so that the union's measures are the sums of theirs.
fn disjoint_polygons(value: &Value) -> Option<Vec<Polygon>> {
    let polygons = polygons(value)?;
    apart(&polygons).then_some(polygons)
}

/// Whether no two of the polygons share a point.
fn apart(polygons: &[Polygon]) -> bool {
    polygons
        .iter()
        .enumerate()
        .all(|(i, p)| polygons[i + 1..].iter().all(|q| !p.meets(q)))
}

/// `geo_line_length(line)`: the total length in metres on the sphere of a
/// LineString or MultiLineString (the lines' lengths summed). Null for an
/// invalid line.
pub fn geo_line_length(line: &Value) -> Value {
    lines(line).map_or(Value::Null, |lines| {
        Value::Real(lines.iter().map(|l| chain_length(l)).sum::<f64>() * EARTH_RADIUS_METERS)
    })
}

/// `geo_polygon_perimeter(polygon)`: the length in metres on the sphere of
/// the boundary of a Polygon or MultiPolygon, holes included. Null for an
/// invalid polygon, and for a MultiPolygon whose polygons touch or overlap
/// (kqlc does not compute their union).
pub fn geo_polygon_perimeter(polygon: &Value) -> Value {
    disjoint_polygons(polygon).map_or(Value::Null, |polygons| {
        let radians: f64 = polygons
            .iter()
            .flat_map(|p| &p.rings)
            .map(Ring::length)
            .sum();
        Value::Real(radians * EARTH_RADIUS_METERS)
    })
}

/// `geo_polygon_area(polygon)`: the area in square metres on the sphere of
/// a Polygon or MultiPolygon, holes excluded. Null for an invalid polygon,
/// and for a MultiPolygon whose polygons touch or overlap (kqlc does not
/// compute their union).
pub fn geo_polygon_area(polygon: &Value) -> Value {
    disjoint_polygons(polygon).map_or(Value::Null, |polygons| {
        let steradians: f64 = polygons.iter().map(Polygon::area).sum();
        Value::Real(steradians * EARTH_RADIUS_METERS * EARTH_RADIUS_METERS)
    })
}

/// Whether the geodesic edges `a`-`b` and `c`-`d` share a point: they
/// cross, or an endpoint of one lies on the other.
pub(super) fn edges_meet(a: &Point, b: &Point, c: &Point, d: &Point) -> bool {
    let on = |v: &Point, (e, f): (&Point, &Point)| {
        s2::edgeutil::distance_from_segment(v, e, f).rad() < 1e-15
    };
    s2::edgeutil::simple_crossing(a, b, c, d)
        || on(a, (c, d))
        || on(b, (c, d))
        || on(c, (a, b))
        || on(d, (a, b))
}

/// Whether a chain of vertices shares a point with a polygon: an edge meets
/// a ring's edge, or (all of it being inside or outside) its first vertex
/// is inside.
fn line_meets_polygon(line: &[Point], polygon: &Polygon) -> bool {
    let crossing = line.windows(2).any(|e| {
        polygon
            .rings
            .iter()
            .any(|r| r.edges().any(|(c, d)| edges_meet(&e[0], &e[1], c, d)))
    });
    crossing || line.first().is_some_and(|p| polygon.contains(p))
}

/// `geo_intersects_2lines(line1, line2)`: whether two LineStrings or
/// MultiLineStrings share a point (edges are geodesics on the sphere).
/// Null when either is invalid.
pub fn geo_intersects_2lines(line1: &Value, line2: &Value) -> Value {
    let (Some(first), Some(second)) = (lines(line1), lines(line2)) else {
        return Value::Null;
    };
    let meet = first.iter().flat_map(|l| l.windows(2)).any(|e| {
        second
            .iter()
            .flat_map(|l| l.windows(2))
            .any(|f| edges_meet(&e[0], &e[1], &f[0], &f[1]))
    });
    Value::Bool(meet)
}

/// `geo_intersects_2polygons(polygon1, polygon2)`: whether two Polygons or
/// MultiPolygons share a point, boundaries included. Null when either is
/// invalid.
pub fn geo_intersects_2polygons(polygon1: &Value, polygon2: &Value) -> Value {
    let (Some(first), Some(second)) = (polygons(polygon1), polygons(polygon2)) else {
        return Value::Null;
    };
    Value::Bool(first.iter().any(|p| second.iter().any(|q| p.meets(q))))
}

/// `geo_intersects_line_with_polygon(line, polygon)`: whether a LineString
/// or MultiLineString shares a point with a Polygon or MultiPolygon. Null
/// when either is invalid.
pub fn geo_intersects_line_with_polygon(line: &Value, polygon: &Value) -> Value {
    let (Some(lines), Some(polygons)) = (lines(line), polygons(polygon)) else {
        return Value::Null;
    };
    Value::Bool(
        lines
            .iter()
            .any(|l| polygons.iter().any(|p| line_meets_polygon(l, p))),
    )
}

/// A GeoJSON point at the direction of `v`; null for the zero vector.
fn point_at(v: Vector) -> Value {
    if v.norm2() == 0.0 || !v.norm2().is_finite() {
        return Value::Null;
    }
    let ll = s2::latlng::LatLng::from(Point(v.normalize()));
    geojson("Point", coordinates(ll.lng.deg(), ll.lat.deg()))
}

/// The integral of position along the geodesic edge `a`-`b` (S2's
/// `TrueCentroid` of an edge): a vector towards the edge's midpoint, of
/// length twice the sine of half the edge's angle.
fn edge_centroid(a: &Point, b: &Point) -> Vector {
    let (sum, diff) = (a.0 + b.0, a.0 - b.0);
    let cos2 = sum.norm2();
    if cos2 == 0.0 {
        return Vector::new(0.0, 0.0, 0.0);
    }
    sum * (diff.norm2() / cos2).sqrt()
}

/// `geo_line_centroid(line)`: the centroid of a LineString or
/// MultiLineString on the sphere (each geodesic edge weighted by its
/// length), as a GeoJSON point. Null for an invalid line, and for one of
/// length zero.
pub fn geo_line_centroid(line: &Value) -> Value {
    let Some(lines) = lines(line) else {
        return Value::Null;
    };
    let sum = lines
        .iter()
        .flat_map(|l| l.windows(2))
        .fold(Vector::new(0.0, 0.0, 0.0), |s, e| {
            s + edge_centroid(&e[0], &e[1])
        });
    point_at(sum)
}

impl Ring {
    /// The integral of position over the region the ring bounds within
    /// the hemisphere around `center`: S2's triangle centroids
    /// (`true_centroid`) fanned from the first vertex, turned towards
    /// `center` whatever the ring's orientation.
    fn centroid(&self, center: &Point) -> Vector {
        let v = &self.vertices;
        let sum = (1..v.len().saturating_sub(1)).fold(Vector::new(0.0, 0.0, 0.0), |s, i| {
            s + s2::point::true_centroid(&v[0], &v[i], &v[i + 1]).0
        });
        if sum.dot(&center.0) < 0.0 {
            sum * -1.0
        } else {
            sum
        }
    }
}

impl Polygon {
    /// The integral of position over the polygon: its shell's less its
    /// holes'.
    fn centroid(&self) -> Vector {
        let mut rings = self.rings.iter().map(|r| r.centroid(&self.center));
        let shell = rings.next().unwrap_or(Vector::new(0.0, 0.0, 0.0));
        rings.fold(shell, |s, hole| s - hole)
    }
}

/// `geo_polygon_centroid(polygon)`: the centroid of a Polygon or
/// MultiPolygon on the sphere (of the area, holes excluded; of the union
/// of a MultiPolygon's polygons), as a GeoJSON point. Null for an invalid
/// polygon, and for a MultiPolygon whose overlapping polygons do not fit
/// in one hemisphere (see `geo_overlay`).
pub fn geo_polygon_centroid(polygon: &Value) -> Value {
    let Some(mut parts) = polygons(polygon) else {
        return Value::Null;
    };
    if !apart(&parts) {
        match super::geo_overlay::union_of(&[polygon]).and_then(|u| polygons(&u)) {
            Some(union) => parts = union,
            None => return Value::Null,
        }
    }
    let sum = parts
        .iter()
        .fold(Vector::new(0.0, 0.0, 0.0), |s, p| s + p.centroid());
    point_at(sum)
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn dynamic(text: &str) -> Value {
        crate::functions::todynamic(&Value::string(text.to_string()))
    }

    fn r(x: f64) -> Value {
        Value::Real(x)
    }

    #[test]
    fn a_square_with_a_hole() {
        let square = dynamic(
            r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],
                [[4,4],[4,6],[6,6],[6,4],[4,4]]]}"#,
        );
        let inside = |lon, lat| geo_point_in_polygon(&r(lon), &r(lat), &square);
        assert_eq!(inside(2.0, 2.0), Value::Bool(true));
        assert_eq!(inside(5.0, 5.0), Value::Bool(false));
        assert_eq!(inside(11.0, 5.0), Value::Bool(false));
        assert_eq!(inside(-170.0, -5.0), Value::Bool(false));
        // On the path from the point outwards lies a vertex.
        assert_eq!(inside(5.0, 0.0000001), Value::Bool(true));
        assert_eq!(inside(200.0, 0.0), Value::Null);
    }

    #[test]
    fn distances_match_the_reference() {
        let park = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]]}"#,
        );
        let Value::Real(d) = geo_distance_point_to_polygon(&r(-73.9839), &r(40.7705), &park) else {
            panic!()
        };
        assert!((d - 259.940756070596).abs() < 1e-3, "{d}");
        let road = dynamic(
            r#"{"type":"LineString","coordinates":[[-115.115385,36.229195],[-115.136995,36.200366],[-115.140252,36.192470],[-115.143558,36.188523],[-115.144076,36.181954],[-115.154662,36.174483],[-115.166431,36.176388],[-115.183289,36.175007],[-115.192612,36.176736],[-115.202485,36.173439],[-115.225355,36.174365]]}"#,
        );
        let Value::Real(d) = geo_distance_point_to_line(&r(-115.199625), &r(36.210419), &road)
        else {
            panic!()
        };
        assert!((d - 3797.88887253334).abs() < 1e-3, "{d}");
    }

    fn lon_lat(point: &Value) -> (f64, f64) {
        let Value::Bag(bag) = point else {
            panic!("{point:?}")
        };
        let Some(Value::Array(c)) = bag.get("coordinates") else {
            panic!("{point:?}")
        };
        (real_arg(&c[0]).unwrap(), real_arg(&c[1]).unwrap())
    }

    #[test]
    fn centroids_match_the_reference() {
        let line = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.95796, 40.80042], [-73.97317, 40.764486]]}"#,
        );
        let (lon, lat) = lon_lat(&geo_line_centroid(&line));
        assert!((lon - -73.965567057230942).abs() < 1e-12, "{lon}");
        assert!((lat - 40.782453249627416).abs() < 1e-12, "{lat}");
        let park = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]]}"#,
        );
        let (lon, lat) = lon_lat(&geo_polygon_centroid(&park));
        assert!((lon - -73.965735689907618).abs() < 1e-12, "{lon}");
        assert!((lat - 40.782550538057812).abs() < 1e-12, "{lat}");
        let two = dynamic(
            r#"{"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]}"#,
        );
        let (lon, lat) = lon_lat(&geo_polygon_centroid(&two));
        assert!((lon - -73.968569587829577).abs() < 1e-9, "{lon}");
        assert!((lat - 40.776310752555119).abs() < 1e-9, "{lat}");
    }

    #[test]
    fn intersections_of_lines_and_polygons() {
        let a = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.978929,40.785155],[-73.980903,40.782621]]}"#,
        );
        let b = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.985195,40.788275],[-73.974552,40.779761]]}"#,
        );
        assert_eq!(geo_intersects_2lines(&a, &b), Value::Bool(true));
        let far = dynamic(r#"{"type":"LineString","coordinates":[[1,1],[2,2]]}"#);
        assert_eq!(geo_intersects_2lines(&a, &far), Value::Bool(false));
        let triangle = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.9712905883789,40.78580561168767],[-73.98004531860352,40.775276834803655],[-73.97000312805176,40.77852663535664],[-73.9712905883789,40.78580561168767]]]}"#,
        );
        assert_eq!(
            geo_intersects_line_with_polygon(&b, &triangle),
            Value::Bool(true)
        );
        assert_eq!(
            geo_intersects_line_with_polygon(&far, &triangle),
            Value::Bool(false)
        );
        let touching =
            dynamic(r#"{"type":"Polygon","coordinates":[[[3,44],[2,45],[2,43],[3,44]]]}"#);
        let other = dynamic(r#"{"type":"Polygon","coordinates":[[[2,45],[0,45],[1,44],[2,45]]]}"#);
        assert_eq!(
            geo_intersects_2polygons(&touching, &other),
            Value::Bool(true)
        );
        assert_eq!(
            geo_intersects_2polygons(&touching, &Value::Null),
            Value::Null
        );
    }
}
