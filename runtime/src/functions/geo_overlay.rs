//! Unions and intersections of GeoJSON shapes on the sphere:
//! `geo_union_polygons_array`, `geo_union_lines_array`,
//! `geo_intersection_2lines`, `geo_intersection_2polygons`,
//! `geo_intersection_line_with_polygon` (the `geo-union-*` and
//! `geo-intersection-*` pages), the simplifications (`geo_line_simplify`,
//! `geo_polygon_simplify`, `geo_simplify_polygons_array`), the union of a MultiPolygon's polygons that
//! `geo_polygon_centroid` measures, and the unions behind the buffers.
//!
//! The shapes' edges are geodesics. The gnomonic projection maps every
//! great circle to a straight line, so a shape whose vertices all lie in
//! one open hemisphere is projected onto the plane tangent at its centre,
//! combined there by the `geo` crate (`BooleanOps` on the `i_overlay` crate
//! for areas and clipping, `line_intersection` for edges against edges),
//! and projected back: the crossing points it computes
//! are the crossings of the geodesics. Shapes that do not fit in one
//! hemisphere are refused (null). The overlay rounds coordinates to a grid
//! fitted to the shapes' extent; an output vertex within 1e-9 degrees of
//! an input vertex is given the input's coordinates.

use super::geo::{coordinates, geojson};
use super::geo_shapes::{geometry, items, lines, polygons, position, unit};
use crate::value::Value;
use geo::{BooleanOps, Orient};
use s2::point::Point;
use s2::r3::vector::Vector;

/// The plane tangent to the sphere at `center`, with the axes of a
/// right-handed frame (so counter-clockwise stays counter-clockwise).
struct Gnomonic {
    center: Vector,
    east: Vector,
    north: Vector,
    /// The input vertices, to give an output vertex the input's exact
    /// coordinates.
    vertices: Vec<(f64, f64)>,
}

impl Gnomonic {
    /// The projection centred on the mean of `positions`; none when a
    /// position lies outside the open hemisphere around it.
    fn new(positions: Vec<(f64, f64)>) -> Option<Gnomonic> {
        let units: Vec<Point> = positions
            .iter()
            .map(|(lon, lat)| unit(*lon, *lat))
            .collect::<Option<_>>()?;
        let sum = units
            .iter()
            .fold(Vector::new(0.0, 0.0, 0.0), |s, p| s + p.0);
        if sum.norm() < 1e-12 {
            return None;
        }
        let center = sum.normalize();
        if units.iter().any(|p| p.0.dot(&center) <= 1e-6) {
            return None;
        }
        let east = center.ortho().normalize();
        let north = center.cross(&east).normalize();
        Some(Gnomonic {
            center,
            east,
            north,
            vertices: positions,
        })
    }

    fn forward(&self, (lon, lat): (f64, f64)) -> geo::Coord<f64> {
        let p = unit(lon, lat).map_or(self.center, |p| p.0);
        let along = p.dot(&self.center);
        geo::Coord {
            x: p.dot(&self.east) / along,
            y: p.dot(&self.north) / along,
        }
    }

    fn back(&self, c: geo::Coord<f64>) -> (f64, f64) {
        let v = (self.center + self.east * c.x + self.north * c.y).normalize();
        let ll = s2::latlng::LatLng::from(Point(v));
        let (lon, lat) = (ll.lng.deg(), ll.lat.deg());
        self.vertices
            .iter()
            .find(|(x, y)| (x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9)
            .copied()
            .unwrap_or((lon, lat))
    }

    fn ring(&self, ring: &Value) -> Option<geo::LineString<f64>> {
        Some(geo::LineString::new(
            items(ring)?
                .iter()
                .map(|p| position(p).map(|p| self.forward(p)))
                .collect::<Option<_>>()?,
        ))
    }

    fn polygon(&self, rings: &[Value]) -> Option<geo::Polygon<f64>> {
        let mut rings = rings
            .iter()
            .map(|r| self.ring(r))
            .collect::<Option<Vec<_>>>()?;
        if rings.is_empty() {
            return None;
        }
        let shell = rings.remove(0);
        Some(geo::Polygon::new(shell, rings).orient(geo::orient::Direction::Default))
    }

    /// The polygons of a valid Polygon or MultiPolygon.
    fn polygons(&self, shape: &Value) -> Option<Vec<geo::Polygon<f64>>> {
        let (kind, coordinates) = geometry(shape, &["Polygon", "MultiPolygon"])?;
        if kind == "Polygon" {
            Some(vec![self.polygon(coordinates)?])
        } else {
            coordinates
                .iter()
                .map(|p| self.polygon(items(p)?))
                .collect()
        }
    }

    /// The lines of a valid LineString or MultiLineString.
    fn lines(&self, shape: &Value) -> Option<geo::MultiLineString<f64>> {
        let (kind, coordinates) = geometry(shape, &["LineString", "MultiLineString"])?;
        let line = |positions: &[Value]| -> Option<geo::LineString<f64>> {
            Some(geo::LineString::new(
                positions
                    .iter()
                    .map(|p| position(p).map(|p| self.forward(p)))
                    .collect::<Option<_>>()?,
            ))
        };
        let lines = if kind == "LineString" {
            vec![line(coordinates)?]
        } else {
            coordinates
                .iter()
                .map(|l| line(items(l)?))
                .collect::<Option<_>>()?
        };
        Some(geo::MultiLineString::new(lines))
    }

    fn chain(&self, line: &geo::LineString<f64>) -> Value {
        Value::array(
            line.coords()
                .map(|c| {
                    let (lon, lat) = self.back(*c);
                    coordinates(lon, lat)
                })
                .collect(),
        )
    }

    /// A planar MultiPolygon as GeoJSON: a Polygon for one, a MultiPolygon
    /// for more, an empty GeometryCollection for none.
    fn polygons_value(&self, result: &geo::MultiPolygon<f64>) -> Value {
        let polygon = |p: &geo::Polygon<f64>| {
            let p = p.orient(geo::orient::Direction::Default);
            let mut rings = vec![self.chain(p.exterior())];
            rings.extend(p.interiors().iter().map(|r| self.chain(r)));
            Value::array(rings)
        };
        match result.0.as_slice() {
            [] => empty_collection(),
            [one] => geojson("Polygon", polygon(one)),
            many => geojson(
                "MultiPolygon",
                Value::array(many.iter().map(polygon).collect()),
            ),
        }
    }
}

fn empty_collection() -> Value {
    Value::bag(vec![
        (
            crate::value::Str::Static("type"),
            Value::from_static("GeometryCollection"),
        ),
        (
            crate::value::Str::Static("geometries"),
            Value::array(vec![]),
        ),
    ])
}

/// Every position of a GeoJSON geometry's coordinates, at any depth.
fn all_positions(value: &Value, out: &mut Vec<(f64, f64)>) {
    if let Some(p) = position(value) {
        out.push(p);
    } else if let Some(items) = items(value) {
        for item in items {
            all_positions(item, out);
        }
    }
}

fn shape_positions<'v>(shapes: impl IntoIterator<Item = &'v Value>) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for shape in shapes {
        if let Value::Bag(bag) = shape {
            if let Some(c) = bag.get("coordinates") {
                all_positions(c, &mut out);
            }
        }
    }
    out
}

/// The union of valid polygons, each a Polygon or MultiPolygon, as GeoJSON;
/// none when they do not fit in one hemisphere.
pub(super) fn union_of(shapes: &[&Value]) -> Option<Value> {
    let projection = Gnomonic::new(shape_positions(shapes.iter().copied()))?;
    let mut parts = Vec::new();
    for shape in shapes {
        parts.extend(projection.polygons(shape)?);
    }
    let union = geo::unary_union(parts.iter());
    Some(projection.polygons_value(&union))
}

/// `geo_union_polygons_array(polygons)`: the union of an array of Polygons
/// and MultiPolygons, as a Polygon or MultiPolygon (an empty
/// GeometryCollection for an empty array). Null when the argument is not
/// an array, when any element is invalid, and when the polygons do not fit
/// in one hemisphere.
pub fn geo_union_polygons_array(array: &Value) -> Value {
    let Value::Array(shapes) = array else {
        return Value::Null;
    };
    if shapes.iter().any(|s| polygons(s).is_none()) {
        return Value::Null;
    }
    if shapes.is_empty() {
        return empty_collection();
    }
    let shapes: Vec<&Value> = shapes.iter().collect();
    union_of(&shapes).unwrap_or(Value::Null)
}

/// `geo_intersection_line_with_polygon(line, polygon)`: the parts of a
/// LineString or MultiLineString inside a Polygon or MultiPolygon
/// (boundary included): a LineString for one part, a MultiLineString for
/// more, an empty GeometryCollection for none. Null when either is
/// invalid or they do not fit in one hemisphere.
pub fn geo_intersection_line_with_polygon(line: &Value, polygon: &Value) -> Value {
    if lines(line).is_none() || polygons(polygon).is_none() {
        return Value::Null;
    }
    let Some(projection) = Gnomonic::new(shape_positions([line, polygon])) else {
        return Value::Null;
    };
    let (Some(planar_lines), Some(planar_polygons)) =
        (projection.lines(line), projection.polygons(polygon))
    else {
        return Value::Null;
    };
    let area = geo::unary_union(planar_polygons.iter());
    let clipped = area.clip(&planar_lines, false);
    let parts: Vec<Value> = clipped
        .0
        .iter()
        .filter(|l| l.0.len() >= 2)
        .map(|l| projection.chain(l))
        .collect();
    match parts.len() {
        0 => empty_collection(),
        1 => geojson(
            "LineString",
            parts.into_iter().next().unwrap_or(Value::Null),
        ),
        _ => geojson("MultiLineString", Value::array(parts)),
    }
}

/// How close two planar points (in the tangent plane, radians at the
/// centre) must be to be one point.
const SAME: f64 = 1e-12;

/// Where two sets of edges meet: the points where they cross or touch and
/// the pieces where they run along each other (the `geo` crate's
/// `line_intersection`), the points on those pieces dropped.
fn contacts(
    first: &[geo::Line<f64>],
    second: &[geo::Line<f64>],
) -> (Vec<geo::Coord<f64>>, Vec<geo::Line<f64>>) {
    use geo::line_intersection::{line_intersection, LineIntersection};
    let (mut points, mut pieces): (Vec<geo::Coord<f64>>, Vec<geo::Line<f64>>) =
        (Vec::new(), Vec::new());
    for a in first {
        for b in second {
            match line_intersection(*a, *b) {
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    points.push(intersection)
                }
                Some(LineIntersection::Collinear { intersection }) => {
                    if near(intersection.start, intersection.end) {
                        points.push(intersection.start);
                    } else if !pieces.iter().any(|p| same_piece(p, &intersection)) {
                        pieces.push(intersection);
                    }
                }
                None => {}
            }
        }
    }
    let mut unique: Vec<geo::Coord<f64>> = Vec::new();
    for p in points {
        let on_piece = pieces.iter().any(|l| on_line(p, l));
        if !on_piece && !unique.iter().any(|q| near(*q, p)) {
            unique.push(p);
        }
    }
    (unique, pieces)
}

fn near(a: geo::Coord<f64>, b: geo::Coord<f64>) -> bool {
    (a.x - b.x).abs() <= SAME && (a.y - b.y).abs() <= SAME
}

fn same_piece(a: &geo::Line<f64>, b: &geo::Line<f64>) -> bool {
    (near(a.start, b.start) && near(a.end, b.end)) || (near(a.start, b.end) && near(a.end, b.start))
}

fn on_line(p: geo::Coord<f64>, line: &geo::Line<f64>) -> bool {
    use geo::{Distance, Euclidean};
    Euclidean.distance(&geo::Point(p), line) <= SAME
}

/// Pieces joined end to end into chains, in the order they were found.
fn chains(pieces: Vec<geo::Line<f64>>) -> Vec<Vec<geo::Coord<f64>>> {
    let mut chains: Vec<std::collections::VecDeque<geo::Coord<f64>>> = Vec::new();
    for piece in pieces {
        let (s, e) = (piece.start, piece.end);
        let joined = chains.iter_mut().any(|c| {
            let (first, last) = (c[0], c[c.len() - 1]);
            if near(last, s) {
                c.push_back(e);
            } else if near(last, e) {
                c.push_back(s);
            } else if near(first, e) {
                c.push_front(s);
            } else if near(first, s) {
                c.push_front(e);
            } else {
                return false;
            }
            true
        });
        if !joined {
            chains.push([s, e].into_iter().collect());
        }
    }
    // Chains that a later piece made meet are joined too.
    let mut merged: Vec<Vec<geo::Coord<f64>>> = Vec::new();
    for chain in chains {
        let mut chain: Vec<geo::Coord<f64>> = chain.into_iter().collect();
        while let Some(i) = merged.iter().position(|m| {
            near(m[m.len() - 1], chain[0])
                || near(m[m.len() - 1], chain[chain.len() - 1])
                || near(m[0], chain[0])
                || near(m[0], chain[chain.len() - 1])
        }) {
            let mut m = merged.remove(i);
            if near(m[m.len() - 1], chain[0]) {
                m.extend(chain.drain(1..));
            } else if near(m[m.len() - 1], chain[chain.len() - 1]) {
                chain.reverse();
                m.extend(chain.drain(1..));
            } else if near(m[0], chain[chain.len() - 1]) {
                chain.extend(m.drain(1..));
                m = std::mem::take(&mut chain);
            } else {
                chain.reverse();
                chain.extend(m.drain(1..));
                m = std::mem::take(&mut chain);
            }
            chain = m;
        }
        merged.push(chain);
    }
    merged
}

impl Gnomonic {
    fn point_value(&self, c: geo::Coord<f64>) -> Value {
        let (lon, lat) = self.back(c);
        coordinates(lon, lat)
    }

    /// Points, chains and polygons as one GeoJSON geometry: one of a kind
    /// is that kind (Point, LineString, Polygon), several the Multi kind,
    /// several kinds a GeometryCollection (points, then lines, then
    /// polygons), nothing an empty GeometryCollection.
    fn collection(
        &self,
        points: &[geo::Coord<f64>],
        chains: &[Vec<geo::Coord<f64>>],
        area: &geo::MultiPolygon<f64>,
    ) -> Value {
        let chain = |c: &Vec<geo::Coord<f64>>| {
            Value::array(c.iter().map(|p| self.point_value(*p)).collect())
        };
        let mut parts = Vec::new();
        match points {
            [] => {}
            [one] => parts.push(geojson("Point", self.point_value(*one))),
            many => parts.push(geojson(
                "MultiPoint",
                Value::array(many.iter().map(|p| self.point_value(*p)).collect()),
            )),
        }
        match chains {
            [] => {}
            [one] => parts.push(geojson("LineString", chain(one))),
            many => parts.push(geojson(
                "MultiLineString",
                Value::array(many.iter().map(chain).collect()),
            )),
        }
        if !area.0.is_empty() {
            parts.push(self.polygons_value(area));
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or(Value::Null)
        } else {
            Value::bag(vec![
                (
                    crate::value::Str::Static("type"),
                    Value::from_static("GeometryCollection"),
                ),
                (crate::value::Str::Static("geometries"), Value::array(parts)),
            ])
        }
    }
}

fn edges_of_lines(lines: &geo::MultiLineString<f64>) -> Vec<geo::Line<f64>> {
    lines.0.iter().flat_map(|l| l.lines()).collect()
}

fn edges_of_polygons(polygons: &[geo::Polygon<f64>]) -> Vec<geo::Line<f64>> {
    polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .collect()
}

/// `geo_intersection_2lines(line1, line2)`: the points and pieces two
/// LineStrings or MultiLineStrings share (edges geodesics on the sphere):
/// a Point, a LineString, their Multi kinds, a GeometryCollection of
/// several kinds, or an empty GeometryCollection. Null when either is
/// invalid or they do not fit in one hemisphere.
pub fn geo_intersection_2lines(line1: &Value, line2: &Value) -> Value {
    if lines(line1).is_none() || lines(line2).is_none() {
        return Value::Null;
    }
    let Some(projection) = Gnomonic::new(shape_positions([line1, line2])) else {
        return Value::Null;
    };
    let (Some(a), Some(b)) = (projection.lines(line1), projection.lines(line2)) else {
        return Value::Null;
    };
    let (points, pieces) = contacts(&edges_of_lines(&a), &edges_of_lines(&b));
    projection.collection(&points, &chains(pieces), &geo::MultiPolygon::new(vec![]))
}

/// `geo_intersection_2polygons(polygon1, polygon2)`: what two Polygons or
/// MultiPolygons share: the area common to both, and where only their
/// boundaries meet, the points and pieces of boundary; as one geometry the
/// way `geo_intersection_2lines` assembles it. Null when either is invalid
/// or they do not fit in one hemisphere.
pub fn geo_intersection_2polygons(polygon1: &Value, polygon2: &Value) -> Value {
    use geo::Intersects;
    if polygons(polygon1).is_none() || polygons(polygon2).is_none() {
        return Value::Null;
    }
    let Some(projection) = Gnomonic::new(shape_positions([polygon1, polygon2])) else {
        return Value::Null;
    };
    let (Some(a), Some(b)) = (projection.polygons(polygon1), projection.polygons(polygon2)) else {
        return Value::Null;
    };
    let area = geo::unary_union(a.iter()).intersection(&geo::unary_union(b.iter()));
    let (points, pieces) = contacts(&edges_of_polygons(&a), &edges_of_polygons(&b));
    // The overlay rounds its vertices to a grid, so a contact point on the
    // common area's boundary may lie a rounding off it.
    let touches = |p: geo::Coord<f64>| {
        use geo::{Distance, Euclidean};
        !area.0.is_empty()
            && (area.intersects(&geo::Point(p))
                || Euclidean.distance(&geo::Point(p), &area) <= 1e-10)
    };
    let points: Vec<_> = points.into_iter().filter(|p| !touches(*p)).collect();
    let pieces: Vec<_> = pieces
        .into_iter()
        .filter(|l| {
            let mid = geo::Coord {
                x: (l.start.x + l.end.x) / 2.0,
                y: (l.start.y + l.end.y) / 2.0,
            };
            !touches(mid)
        })
        .collect();
    projection.collection(&points, &chains(pieces), &area)
}

/// `geo_union_lines_array(lines)`: the union of an array of LineStrings
/// and MultiLineStrings: every edge cut where another meets it, pieces
/// that run along each other kept once, and the pieces joined end to end
/// into a LineString or a MultiLineString (an empty GeometryCollection for
/// an empty array). Null when the argument is not an array, when any
/// element is invalid, and when the lines do not fit in one hemisphere.
pub fn geo_union_lines_array(array: &Value) -> Value {
    use geo::line_intersection::{line_intersection, LineIntersection};
    let Value::Array(shapes) = array else {
        return Value::Null;
    };
    if shapes.iter().any(|s| lines(s).is_none()) {
        return Value::Null;
    }
    if shapes.is_empty() {
        return empty_collection();
    }
    let Some(projection) = Gnomonic::new(shape_positions(shapes.iter())) else {
        return Value::Null;
    };
    let Some(all) = shapes
        .iter()
        .map(|s| projection.lines(s))
        .collect::<Option<Vec<_>>>()
    else {
        return Value::Null;
    };
    let edges: Vec<geo::Line<f64>> = all
        .iter()
        .flat_map(edges_of_lines)
        .filter(|e| !near(e.start, e.end))
        .collect();
    let mut pieces: Vec<geo::Line<f64>> = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        let along = |p: geo::Coord<f64>| {
            let (dx, dy) = (e.end.x - e.start.x, e.end.y - e.start.y);
            ((p.x - e.start.x) * dx + (p.y - e.start.y) * dy) / (dx * dx + dy * dy)
        };
        let mut cuts = vec![(0.0, e.start), (1.0, e.end)];
        for (j, f) in edges.iter().enumerate() {
            if i == j {
                continue;
            }
            match line_intersection(*e, *f) {
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    cuts.push((along(intersection), intersection));
                }
                Some(LineIntersection::Collinear { intersection }) => {
                    cuts.push((along(intersection.start), intersection.start));
                    cuts.push((along(intersection.end), intersection.end));
                }
                None => {}
            }
        }
        cuts.sort_by(|a, b| a.0.total_cmp(&b.0));
        cuts.dedup_by(|a, b| near(a.1, b.1));
        for pair in cuts.windows(2) {
            let piece = geo::Line::new(pair[0].1, pair[1].1);
            if !pieces.iter().any(|p| same_piece(p, &piece)) {
                pieces.push(piece);
            }
        }
    }
    let chains = chains(pieces);
    let chain = |c: &Vec<geo::Coord<f64>>| {
        Value::array(c.iter().map(|p| projection.point_value(*p)).collect())
    };
    match chains.as_slice() {
        [] => empty_collection(),
        [one] => geojson("LineString", chain(one)),
        many => geojson(
            "MultiLineString",
            Value::array(many.iter().map(chain).collect()),
        ),
    }
}

/// Whether every vertex of a chain lies within `epsilon` of its first: a
/// shape that simplification at that tolerance makes vanish.
fn vanishes(chain: &geo::LineString<f64>, epsilon: f64) -> bool {
    let Some(first) = chain.0.first() else {
        return true;
    };
    chain
        .0
        .iter()
        .all(|c| (c.x - first.x).hypot(c.y - first.y) < epsilon)
}

/// The tolerance argument in radians: `default` metres when absent, none
/// when null or outside `range`.
fn tolerance_arg(args: &[Value], range: std::ops::Range<f64>, inclusive_end: bool) -> Option<f64> {
    let t = match args.get(1) {
        None => 10.0,
        Some(v) => super::real_arg(v)?,
    };
    let inside = range.contains(&t) || (inclusive_end && t == range.end);
    inside.then_some(t / super::geo::EARTH_RADIUS_METERS)
}

/// `geo_line_simplify(line [, tolerance])`: the LineString or
/// MultiLineString with nearly straight chains of edges replaced by single
/// edges: the Douglas-Peucker simplification (the `geo` crate's
/// `Simplify`) in the gnomonic projection, `tolerance` metres (0 to
/// 7,800,000, default 10) apart at most; a line whose vertices all lie
/// within the tolerance of its first vanishes. Null for an invalid line or
/// tolerance, and when every line vanishes.
pub fn geo_line_simplify(args: &[Value]) -> Value {
    use geo::Simplify;
    let Some(shape) = args.first() else {
        return Value::Null;
    };
    let (Some(_), Some(epsilon)) = (lines(shape), tolerance_arg(args, 0.0..7_800_000.0, false))
    else {
        return Value::Null;
    };
    let Some(projection) = Gnomonic::new(shape_positions([shape])) else {
        return Value::Null;
    };
    let Some(planar) = projection.lines(shape) else {
        return Value::Null;
    };
    let kept: Vec<Value> = planar
        .0
        .iter()
        .filter(|l| epsilon == 0.0 || !vanishes(l, epsilon))
        .map(|l| projection.chain(&l.simplify(epsilon)))
        .collect();
    match (geometry(shape, &["LineString"]).is_some(), kept.len()) {
        (_, 0) => Value::Null,
        (true, _) => geojson("LineString", kept.into_iter().next().unwrap_or(Value::Null)),
        (false, _) => geojson("MultiLineString", Value::array(kept)),
    }
}

/// `geo_polygon_simplify(polygon [, tolerance])`: the Polygon or
/// MultiPolygon with its rings simplified as `geo_line_simplify` does
/// (tolerance 0.1 to 10,000 metres, default 10; a ring keeps at least
/// three vertices); a polygon whose shell vanishes is dropped, and so is a
/// hole that vanishes. Null for an invalid polygon or tolerance, and when
/// every polygon vanishes.
pub fn geo_polygon_simplify(args: &[Value]) -> Value {
    let Some(shape) = args.first() else {
        return Value::Null;
    };
    let (Some(_), Some(epsilon)) = (polygons(shape), tolerance_arg(args, 0.1..10_000.0, true))
    else {
        return Value::Null;
    };
    let Some(projection) = Gnomonic::new(shape_positions([shape])) else {
        return Value::Null;
    };
    let Some(planar) = projection.polygons(shape) else {
        return Value::Null;
    };
    let kept = simplified(&planar, epsilon);
    if kept.is_empty() {
        return Value::Null;
    }
    let ring_value = |p: &geo::Polygon<f64>| {
        let mut rings = vec![projection.chain(p.exterior())];
        rings.extend(p.interiors().iter().map(|r| projection.chain(r)));
        Value::array(rings)
    };
    if geometry(shape, &["Polygon"]).is_some() {
        geojson("Polygon", ring_value(&kept[0]))
    } else {
        geojson(
            "MultiPolygon",
            Value::array(kept.iter().map(ring_value).collect()),
        )
    }
}

/// Planar polygons with their rings simplified (Douglas-Peucker within
/// `epsilon`, the `geo` crate's `Simplify`); a polygon whose shell
/// vanishes at that tolerance is dropped, and so is a hole that vanishes.
fn simplified(planar: &[geo::Polygon<f64>], epsilon: f64) -> Vec<geo::Polygon<f64>> {
    use geo::Simplify;
    planar
        .iter()
        .filter(|p| !vanishes(p.exterior(), epsilon))
        .map(|p| {
            let holes = p
                .interiors()
                .iter()
                .filter(|h| !vanishes(h, epsilon))
                .cloned()
                .collect();
            geo::Polygon::new(p.exterior().clone(), holes).simplify(epsilon)
        })
        .collect()
}

/// `geo_simplify_polygons_array(polygons [, tolerance])`
/// (geo-simplify-polygons-array-function.md): the union of an array of
/// Polygons and MultiPolygons (as `geo_union_polygons_array` computes it),
/// with its rings simplified as `geo_polygon_simplify` does, `tolerance`
/// metres (0 to 7,800,000, default 10): a Polygon for one polygon left, a
/// MultiPolygon for more. A polygon whose shell vanishes at the tolerance
/// is dropped (the page: "high tolerance may cause small polygon to
/// disappear"), and so is a hole. Null when the argument is not an array,
/// when any element is invalid, for a null or out-of-range tolerance, when
/// the polygons do not fit in one hemisphere, when every polygon vanishes,
/// and for an empty array (**unsettled**: the page does not say).
pub fn geo_simplify_polygons_array(args: &[Value]) -> Value {
    let Some(Value::Array(shapes)) = args.first() else {
        return Value::Null;
    };
    let Some(epsilon) = tolerance_arg(args, 0.0..7_800_000.0, false) else {
        return Value::Null;
    };
    if shapes.is_empty() || shapes.iter().any(|s| polygons(s).is_none()) {
        return Value::Null;
    }
    let Some(projection) = Gnomonic::new(shape_positions(shapes.iter())) else {
        return Value::Null;
    };
    let mut parts = Vec::new();
    for shape in shapes.iter() {
        match projection.polygons(shape) {
            Some(planar) => parts.extend(planar),
            None => return Value::Null,
        }
    }
    let union = geo::unary_union(parts.iter());
    let kept = simplified(&union.0, epsilon);
    if kept.is_empty() {
        return Value::Null;
    }
    projection.polygons_value(&geo::MultiPolygon::new(kept))
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn dynamic(text: &str) -> Value {
        crate::functions::todynamic(&Value::string(text.to_string()))
    }

    fn kind(v: &Value) -> String {
        let Value::Bag(bag) = v else { panic!("{v:?}") };
        bag.get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    fn coords(v: &Value) -> Value {
        let Value::Bag(bag) = v else { panic!("{v:?}") };
        bag.get("coordinates").cloned().unwrap_or(Value::Null)
    }

    fn close(v: &Value, lon: f64, lat: f64) -> bool {
        let Some((x, y)) = position(v) else {
            return false;
        };
        (x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9
    }

    #[test]
    fn lines_cross_at_a_point_and_share_themselves() {
        let a = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.978929,40.785155],[-73.980903,40.782621]]}"#,
        );
        let b = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.985195,40.788275],[-73.974552,40.779761]]}"#,
        );
        let point = geo_intersection_2lines(&a, &b);
        assert_eq!(kind(&point), "Point");
        assert!(
            close(&coords(&point), -73.979837116670978, 40.783989289772165),
            "{point:?}"
        );
        let same = geo_intersection_2lines(&a, &a);
        assert_eq!(kind(&same), "LineString");
        let Value::Array(vs) = coords(&same) else {
            panic!()
        };
        assert_eq!(vs.len(), 2);
        let far = dynamic(r#"{"type":"LineString","coordinates":[[3,3],[4,4]]}"#);
        let near = dynamic(r#"{"type":"LineString","coordinates":[[1,1],[2,2]]}"#);
        assert_eq!(
            kind(&geo_intersection_2lines(&near, &far)),
            "GeometryCollection"
        );
    }

    #[test]
    fn overlapping_lines_unite_into_one() {
        let lines = dynamic(
            r#"[{"type":"LineString","coordinates":[[-73.95683884620665,40.80502891480884],[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]},
                {"type":"LineString","coordinates":[[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311],[-73.95537436008453,40.804413741624515]]},
                {"type":"LineString","coordinates":[[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]}]"#,
        );
        let union = geo_union_lines_array(&lines);
        assert_eq!(kind(&union), "LineString", "{union:?}");
        let Value::Array(vs) = coords(&union) else {
            panic!()
        };
        let want = [
            (-73.956838846206651, 40.805028914808844),
            (-73.95633727312088, 40.8057171711177),
            (-73.954891562461853, 40.80510200431312),
            (-73.955374360084534, 40.804413741624522),
        ];
        assert_eq!(vs.len(), 4, "{vs:?}");
        for (v, (lon, lat)) in vs.iter().zip(want) {
            assert!(close(v, lon, lat), "{v:?} {lon} {lat}");
        }
    }

    #[test]
    fn polygons_share_an_area_a_point_or_both() {
        let block = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.9630937576294,40.77498840732385],[-73.963565826416,40.774383111780914],[-73.96205306053162,40.773745311181585],[-73.96160781383514,40.7743912365898],[-73.9630937576294,40.77498840732385]]]}"#,
        );
        let wedge = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.96213352680206,40.775045280447145],[-73.9631313085556,40.774578106920345],[-73.96207988262177,40.77416780398293],[-73.96213352680206,40.775045280447145]]]}"#,
        );
        let area = geo_intersection_2polygons(&block, &wedge);
        assert_eq!(kind(&area), "Polygon", "{area:?}");
        let Value::Array(rings) = coords(&area) else {
            panic!()
        };
        let Value::Array(ring) = &rings[0] else {
            panic!()
        };
        assert_eq!(ring.len(), 5);
        for (lon, lat) in [
            (-73.962105776437156, 40.774591360999679),
            (-73.962642403166868, 40.774807020251778),
            (-73.9631313085556, 40.774578106920352),
            (-73.962079882621765, 40.774167803982927),
        ] {
            assert!(
                ring.iter().any(|v| close(v, lon, lat)),
                "{lon} {lat} {ring:?}"
            );
        }
        let west = dynamic(r#"{"type":"Polygon","coordinates":[[[2,45],[0,45],[1,44],[2,45]]]}"#);
        let east = dynamic(r#"{"type":"Polygon","coordinates":[[[3,44],[2,45],[2,43],[3,44]]]}"#);
        let point = geo_intersection_2polygons(&west, &east);
        assert_eq!(kind(&point), "Point", "{point:?}");
        assert!(close(&coords(&point), 2.0, 45.0));
        let both = dynamic(
            r#"{"type":"MultiPolygon","coordinates":[[[[3,44],[2,45],[2,43],[3,44]]],[[[1.192,45.265],[1.005,44.943],[1.356,44.937],[1.192,45.265]]]]}"#,
        );
        let mixed = geo_intersection_2polygons(&west, &both);
        assert_eq!(kind(&mixed), "GeometryCollection", "{mixed:?}");
        let apart = dynamic(r#"{"type":"Polygon","coordinates":[[[3,44],[3,45],[2,43],[3,44]]]}"#);
        assert_eq!(
            kind(&geo_intersection_2polygons(&west, &apart)),
            "GeometryCollection"
        );
    }

    #[test]
    fn simplification_keeps_the_corners() {
        let line = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.97033169865608,40.789063020152824],[-73.97039607167244,40.78897975920816],[-73.9704617857933,40.78888837512432],[-73.97052884101868,40.7887949601531],[-73.9706052839756,40.788698498903564],[-73.97065222263336,40.78862640672032],[-73.97072866559029,40.78852791445617],[-73.97079303860664,40.788434498977836]]}"#,
        );
        let simple = geo_line_simplify(&[line, Value::Long(10)]);
        let want = dynamic(
            r#"{"type":"LineString","coordinates":[[-73.97033169865608,40.789063020152824],[-73.97079303860664,40.788434498977836]]}"#,
        );
        assert_eq!(simple, want);
        let small = dynamic(r#"{"type":"LineString","coordinates":[[1.1,1.1],[1.2,1.2]]}"#);
        assert_eq!(
            geo_line_simplify(&[small, Value::Long(100_000)]),
            Value::Null
        );
        let polygon = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.94885122776031,40.79673476355657],[-73.94885927438736,40.79692258628347],[-73.94887939095497,40.79692055577034],[-73.9488673210144,40.79693476936093],[-73.94888743758202,40.79693476936093],[-73.9488834142685,40.796959135509105],[-73.94890084862709,40.79695304397289],[-73.94906312227248,40.79710736271788],[-73.94923612475395,40.7968708081794],[-73.94885122776031,40.79673476355657]]]}"#,
        );
        let want = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-73.94885122776031,40.79673476355657],[-73.94906312227248,40.79710736271788],[-73.94923612475395,40.7968708081794],[-73.94885122776031,40.79673476355657]]]}"#,
        );
        assert_eq!(geo_polygon_simplify(&[polygon]), want);
    }
}
