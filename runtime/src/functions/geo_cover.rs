//! Coverings of GeoJSON shapes by cells: `geo_polygon_to_s2cells` and
//! `geo_line_to_s2cells` (`geo-polygon-to-s2cells-function.md`,
//! `geo-line-to-s2cells-function.md`), and `geo_polygon_to_h3cells`
//! (`geo-polygon-to-h3cells-function.md`).
//!
//! S2: the cells of the requested level that share a point with the shape
//! (edges are geodesics; S2 cell edges are geodesics too), found level by
//! level from the six faces: a cell is kept when one of the shape's edges
//! meets one of its edges, when its centre is inside the polygon, or when
//! the shape's first vertex is inside it; the children of the kept cells
//! are tested at the next level. Every level keeps at least as many cells
//! as the one above, so the search stops as soon as a level passes the
//! pages' limit of 65,536 cells. With a radius, a line's covering is of
//! the cells within that many metres of it.
//!
//! H3: the page says the polygon is represented by the cells whose centres
//! lie inside it and that its edges are straight lines (in longitude and
//! latitude); cells are visited outwards from one of the polygon's, over
//! the cells whose centres lie in the polygon's bounding box widened by
//! two cells, and those whose centre is inside (the `geo` crate's planar
//! `Contains`) are kept. With a radius, a cell whose centre is within that
//! many metres (on the sphere) of the polygon is kept too.

use super::geo::EARTH_RADIUS_METERS;
use super::geo_cells::level;
use super::geo_shapes::{edges_meet, geometry, items, lines, polygons, position, unit, Polygon};
use super::real_arg;
use crate::value::Value;
use s2::cell::Cell;
use s2::cellid::CellID;
use s2::point::Point;

/// The most cells an S2 covering may have.
const MAX_S2_CELLS: usize = 65_536;

/// The most cells an H3 covering may have.
const MAX_H3_CELLS: usize = 61_680;

/// The most cells the H3 search visits before it gives up (null).
const MAX_H3_VISITS: usize = 4_000_000;

/// The radius argument at `index` in radians: 0 when absent, none when
/// null, negative or not finite.
fn radius_arg(args: &[Value], index: usize) -> Option<f64> {
    match args.get(index) {
        None => Some(0.0),
        Some(v) => real_arg(v)
            .filter(|r| *r >= 0.0 && r.is_finite())
            .map(|r| r / EARTH_RADIUS_METERS),
    }
}

/// The cells of `level` for which `keep` holds of the cell and, at every
/// coarser level, of its ancestors; none past `MAX_S2_CELLS`.
fn s2_descend(level: u64, keep: impl Fn(&Cell) -> bool) -> Option<Vec<CellID>> {
    let mut cells: Vec<CellID> = (0..6)
        .map(CellID::from_face)
        .filter(|id| keep(&Cell::from(*id)))
        .collect();
    for _ in 0..level {
        if cells.len() > MAX_S2_CELLS {
            return None;
        }
        cells = cells
            .iter()
            .flat_map(|id| id.children())
            .filter(|id| keep(&Cell::from(*id)))
            .collect();
    }
    (cells.len() <= MAX_S2_CELLS).then_some(cells)
}

fn s2_tokens(cells: Vec<CellID>) -> Value {
    Value::array(
        cells
            .into_iter()
            .map(|id| Value::string(id.to_token()))
            .collect(),
    )
}

/// The cell's edges, as pairs of corners.
fn cell_edges(cell: &Cell) -> [(Point, Point); 4] {
    let v = cell.vertices();
    [(v[0], v[1]), (v[1], v[2]), (v[2], v[3]), (v[3], v[0])]
}

/// Whether the edge `a`-`b` meets an edge of the cell.
fn edge_meets_cell(a: &Point, b: &Point, cell: &[(Point, Point); 4]) -> bool {
    cell.iter().any(|(c, d)| edges_meet(a, b, c, d))
}

/// Whether a polygon shares a point with a cell.
fn polygon_meets_cell(polygon: &Polygon, cell: &Cell) -> bool {
    let edges = cell_edges(cell);
    polygon
        .rings
        .iter()
        .any(|r| r.edges().any(|(a, b)| edge_meets_cell(a, b, &edges)))
        || polygon.contains(&cell.center())
        || polygon.rings[0]
            .vertices
            .first()
            .is_some_and(|v| cell.contains_point(v))
}

/// `geo_polygon_to_s2cells(polygon [, level])`: the tokens of the S2 cells
/// of `level` (0 to 30, default 11) that cover a Polygon or MultiPolygon,
/// in cell order. Null for an invalid polygon or level, and when more than
/// 65,536 cells are needed.
pub fn geo_polygon_to_s2cells(args: &[Value]) -> Value {
    let (Some(polygons), Some(level)) =
        (args.first().and_then(polygons), level(args, 1, 11, 0..=30))
    else {
        return Value::Null;
    };
    s2_descend(level as u64, |cell| {
        polygons.iter().any(|p| polygon_meets_cell(p, cell))
    })
    .map_or(Value::Null, s2_tokens)
}

/// The shortest distance in radians between the edge `a`-`b` and the
/// cell's boundary, 0 when they meet or `a` is inside the cell.
fn edge_to_cell(a: &Point, b: &Point, cell: &Cell, edges: &[(Point, Point); 4]) -> f64 {
    if edge_meets_cell(a, b, edges) || cell.contains_point(a) {
        return 0.0;
    }
    let d =
        |p: &Point, (c, e): (&Point, &Point)| s2::edgeutil::distance_from_segment(p, c, e).rad();
    edges
        .iter()
        .flat_map(|(c, e)| [d(a, (c, e)), d(b, (c, e)), d(c, (a, b)), d(e, (a, b))])
        .fold(f64::INFINITY, f64::min)
}

/// `geo_line_to_s2cells(line [, level [, radius]])`: the tokens of the S2
/// cells of `level` (0 to 30, default 11) that cover a LineString or
/// MultiLineString, or with a positive `radius` (metres, default 0) every
/// point within that distance of it, in cell order. Null for an invalid
/// line, level or radius, and when more than 65,536 cells are needed.
pub fn geo_line_to_s2cells(args: &[Value]) -> Value {
    let (Some(lines), Some(level), Some(radius)) = (
        args.first().and_then(lines),
        level(args, 1, 11, 0..=30),
        radius_arg(args, 2),
    ) else {
        return Value::Null;
    };
    s2_descend(level as u64, |cell| {
        let edges = cell_edges(cell);
        lines
            .iter()
            .flat_map(|l| l.windows(2))
            .any(|e| edge_to_cell(&e[0], &e[1], cell, &edges) <= radius)
    })
    .map_or(Value::Null, s2_tokens)
}

/// The planar polygons (longitude, latitude) of a valid Polygon or
/// MultiPolygon's coordinates.
fn planar_polygons(shape: &Value) -> Option<geo::MultiPolygon<f64>> {
    let (kind, coordinates) = geometry(shape, &["Polygon", "MultiPolygon"])?;
    let ring = |ring: &Value| -> Option<geo::LineString<f64>> {
        let points = items(ring)?
            .iter()
            .map(|p| position(p).map(|(x, y)| geo::Coord { x, y }))
            .collect::<Option<Vec<_>>>()?;
        Some(geo::LineString::new(points))
    };
    let polygon = |rings: &[Value]| -> Option<geo::Polygon<f64>> {
        let mut rings = rings.iter().map(ring).collect::<Option<Vec<_>>>()?;
        if rings.is_empty() {
            return None;
        }
        let shell = rings.remove(0);
        Some(geo::Polygon::new(shell, rings))
    };
    let polygons = if kind == "Polygon" {
        vec![polygon(coordinates)?]
    } else {
        coordinates
            .iter()
            .map(|p| polygon(items(p)?))
            .collect::<Option<Vec<_>>>()?
    };
    Some(geo::MultiPolygon::new(polygons))
}

/// `geo_polygon_to_h3cells(polygon [, resolution [, radius]])`: the tokens
/// of the H3 cells of `resolution` (0 to 15, default 6) whose centres lie
/// inside a Polygon or MultiPolygon (edges straight in longitude and
/// latitude), or with a positive `radius` (metres, default 0) within that
/// distance of it; sorted by cell index. Null for an invalid polygon,
/// resolution or radius, and when more than 61,680 cells are needed.
pub fn geo_polygon_to_h3cells(args: &[Value]) -> Value {
    use geo::{BoundingRect, Contains};
    let Some(shape) = args.first() else {
        return Value::Null;
    };
    let (Some(spherical), Some(planar), Some(resolution), Some(radius)) = (
        polygons(shape),
        planar_polygons(shape),
        level(args, 1, 6, 0..=15).and_then(|r| h3o::Resolution::try_from(r as u8).ok()),
        radius_arg(args, 2),
    ) else {
        return Value::Null;
    };
    let Some(bounds) = planar.bounding_rect() else {
        return Value::Null;
    };
    let keep = |cell: h3o::CellIndex| {
        let centre = h3o::LatLng::from(cell);
        let (lon, lat) = (centre.lng(), centre.lat());
        if planar.contains(&geo::Point::new(lon, lat)) {
            return true;
        }
        radius > 0.0
            && unit(lon, lat).is_some_and(|p| {
                spherical
                    .iter()
                    .map(|poly| poly.distance(&p))
                    .fold(f64::INFINITY, f64::min)
                    <= radius
            })
    };
    // Whether the search goes on through a cell: its centre lies in the
    // bounding box widened by twice the cell's own extent and the radius.
    let margin_lat = radius.to_degrees();
    let near = |cell: h3o::CellIndex| {
        let centre = h3o::LatLng::from(cell);
        let (lon, lat) = (centre.lng(), centre.lat());
        let (mut dx, mut dy) = (0.0f64, 0.0f64);
        for corner in cell.boundary().iter() {
            dx = dx.max(
                (corner.lng() - lon)
                    .abs()
                    .min(360.0 - (corner.lng() - lon).abs()),
            );
            dy = dy.max((corner.lat() - lat).abs());
        }
        let margin_lon = margin_lat / lat.to_radians().cos().max(1e-6);
        let (mx, my) = (2.0 * dx + margin_lon, 2.0 * dy + margin_lat);
        lon >= bounds.min().x - mx
            && lon <= bounds.max().x + mx
            && lat >= bounds.min().y - my
            && lat <= bounds.max().y + my
    };
    let seeds = planar.0.iter().filter_map(|p| {
        let first = p.exterior().0.first()?;
        Some(h3o::LatLng::new(first.y, first.x).ok()?.to_cell(resolution))
    });
    let mut seen: std::collections::HashSet<h3o::CellIndex> = std::collections::HashSet::new();
    let mut queue: std::collections::VecDeque<h3o::CellIndex> = std::collections::VecDeque::new();
    for seed in seeds {
        if seen.insert(seed) {
            queue.push_back(seed);
        }
    }
    let mut kept = Vec::new();
    while let Some(cell) = queue.pop_front() {
        if seen.len() > MAX_H3_VISITS {
            return Value::Null;
        }
        if keep(cell) {
            kept.push(cell);
            if kept.len() > MAX_H3_CELLS {
                return Value::Null;
            }
        }
        for next in cell.grid_disk::<Vec<_>>(1) {
            if near(next) && seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    kept.sort_unstable();
    Value::array(
        kept.into_iter()
            .map(|c| Value::string(c.to_string()))
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn dynamic(text: &str) -> Value {
        crate::functions::todynamic(&Value::string(text.to_string()))
    }

    #[test]
    fn a_big_triangle_at_level_five() {
        let triangle =
            dynamic(r#"{"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}"#);
        let Value::Array(cells) = geo_polygon_to_s2cells(&[triangle.clone(), Value::Long(5)])
        else {
            panic!()
        };
        assert_eq!(cells.len(), 286);
        assert_eq!(
            geo_polygon_to_s2cells(&[triangle, Value::Long(30)]),
            Value::Null
        );
    }

    #[test]
    fn a_point_of_the_line_is_in_its_covering() {
        let line = dynamic(
            r#"{"type":"LineString","coordinates":[[-0.087152,51.509596],[-0.088340,51.506110]]}"#,
        );
        let Value::Array(cells) = geo_line_to_s2cells(&[line, Value::Long(14)]) else {
            panic!()
        };
        let own = super::super::geo_point_to_s2cell(&[
            Value::Real(-0.087152),
            Value::Real(51.509596),
            Value::Long(14),
        ]);
        assert!(cells.contains(&own), "{cells:?} {own:?}");
    }

    #[test]
    fn a_polygon_in_spain_at_resolution_six() {
        let polygon = dynamic(
            r#"{"type":"Polygon","coordinates":[[[-3.659,40.553],[-3.913,40.409],[-3.729,40.273],[-3.524,40.440],[-3.659,40.553]]]}"#,
        );
        let Value::Array(cells) = geo_polygon_to_h3cells(&[polygon]) else {
            panic!()
        };
        let mut got: Vec<&str> = cells.iter().filter_map(Value::as_str).collect();
        got.sort_unstable();
        let mut want = vec![
            "86390cb57ffffff",
            "86390cb0fffffff",
            "86390ca27ffffff",
            "86390cb87ffffff",
            "86390cb07ffffff",
            "86390ca2fffffff",
            "86390ca37ffffff",
            "86390cb17ffffff",
            "86390cb1fffffff",
            "86390cb8fffffff",
            "86390cba7ffffff",
            "86390ca07ffffff",
            "86390cbafffffff",
        ];
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
