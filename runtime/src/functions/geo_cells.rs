//! S2 and H3 cells: `geo_point_to_s2cell`, `geo_s2cell_to_central_point`,
//! `geo_s2cell_to_polygon`, `geo_s2cell_neighbors`
//! (`geo-point-to-s2cell-function.md` and the `geo-s2cell-*` pages), and
//! `geo_point_to_h3cell`, `geo_h3cell_to_central_point`,
//! `geo_h3cell_to_polygon`, `geo_h3cell_parent`, `geo_h3cell_children`,
//! `geo_h3cell_level`, `geo_h3cell_neighbors`, `geo_h3cell_rings`
//! (`geo-point-to-h3cell-function.md` and the `geo-h3cell-*` pages).
//!
//! The cells come from the `s2` crate (a port of Google's S2 library) and
//! the `h3o` crate (a port of Uber's H3); tokens are theirs: S2's hex
//! token without trailing zeros, H3's 15-digit hex index.

use super::geo::{coordinates, geojson, point};
use super::integer_arg;
use crate::value::Value;
use h3o::{CellIndex, Resolution};
use s2::cellid::CellID;

/// A closed GeoJSON polygon through `vertices` (longitude, latitude).
fn polygon(vertices: impl IntoIterator<Item = (f64, f64)>) -> Value {
    let mut ring: Vec<Value> = vertices
        .into_iter()
        .map(|(lon, lat)| coordinates(lon, lat))
        .collect();
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    geojson("Polygon", Value::array(vec![Value::array(ring)]))
}

/// The level argument at `index`: `default` when absent, none when null
/// or outside `range`.
pub(super) fn level(
    args: &[Value],
    index: usize,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    match args.get(index) {
        None => Some(default),
        Some(v) => integer_arg(v).filter(|n| range.contains(n)),
    }
}

/// `geo_point_to_s2cell(lon, lat [, level])`: the token of the S2 cell of
/// the point at `level` (0 to 30, default 11); `""` for an invalid point
/// or level.
pub fn geo_point_to_s2cell(args: &[Value]) -> Value {
    let (Some(lon), Some(lat)) = (args.first(), args.get(1)) else {
        return Value::from_static("");
    };
    let (Some((lon, lat)), Some(level)) = (point(lon, lat), level(args, 2, 11, 0..=30)) else {
        return Value::from_static("");
    };
    let leaf = CellID::from(s2::latlng::LatLng::from_degrees(lat, lon));
    Value::string(leaf.parent(level as u64).to_token())
}

/// The cell of an S2 token: 1 to 16 hex digits naming a valid cell.
fn s2_cell(token: &Value) -> Option<CellID> {
    let text = token.as_str()?;
    if !(1..=16).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let cell = CellID::from_token(text);
    cell.is_valid().then_some(cell)
}

fn s2_degrees(point: s2::point::Point) -> (f64, f64) {
    let ll = s2::latlng::LatLng::from(point);
    (ll.lng.deg(), ll.lat.deg())
}

/// `geo_s2cell_to_central_point(token)`: the centre of the S2 cell as a
/// GeoJSON point; null for an invalid token.
pub fn geo_s2cell_to_central_point(token: &Value) -> Value {
    s2_cell(token).map_or(Value::Null, |cell| {
        let (lon, lat) = s2_degrees(s2::point::Point::from(cell));
        geojson("Point", coordinates(lon, lat))
    })
}

/// `geo_s2cell_to_polygon(token)`: the S2 cell's four corners as a closed
/// GeoJSON polygon (its edges are geodesics); null for an invalid token.
pub fn geo_s2cell_to_polygon(token: &Value) -> Value {
    s2_cell(token).map_or(Value::Null, |cell| {
        let cell = s2::cell::Cell::from(cell);
        polygon(cell.vertices().into_iter().map(s2_degrees))
    })
}

/// `geo_s2cell_neighbors(token)`: the tokens of the cells of the same
/// level that share an edge or a corner with the cell; null for an invalid
/// token.
pub fn geo_s2cell_neighbors(token: &Value) -> Value {
    s2_cell(token).map_or(Value::Null, |cell| {
        let neighbors = cell
            .all_neighbors(cell.level())
            .into_iter()
            .map(|n| Value::string(n.to_token()))
            .collect();
        Value::array(neighbors)
    })
}

fn resolution(n: i64) -> Option<Resolution> {
    Resolution::try_from(u8::try_from(n).ok()?).ok()
}

/// `geo_point_to_h3cell(lon, lat [, resolution])`: the H3 cell of the point
/// at `resolution` (0 to 15, default 6); `""` for an invalid point or
/// resolution.
pub fn geo_point_to_h3cell(args: &[Value]) -> Value {
    let (Some(lon), Some(lat)) = (args.first(), args.get(1)) else {
        return Value::from_static("");
    };
    let cell = point(lon, lat)
        .zip(level(args, 2, 6, 0..=15))
        .and_then(|((lon, lat), res)| {
            Some(h3o::LatLng::new(lat, lon).ok()?.to_cell(resolution(res)?))
        });
    cell.map_or(Value::from_static(""), |c| Value::string(c.to_string()))
}

/// The cell of an H3 token (hex digits, a valid cell index).
fn h3_cell(token: &Value) -> Option<CellIndex> {
    let text = token.as_str()?;
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.parse().ok()
}

fn h3_tokens(cells: impl IntoIterator<Item = CellIndex>) -> Value {
    Value::array(
        cells
            .into_iter()
            .map(|c| Value::string(c.to_string()))
            .collect(),
    )
}

/// `geo_h3cell_to_central_point(token)`: the centre of the H3 cell as a
/// GeoJSON point; null for an invalid token.
pub fn geo_h3cell_to_central_point(token: &Value) -> Value {
    h3_cell(token).map_or(Value::Null, |cell| {
        let centre = h3o::LatLng::from(cell);
        geojson("Point", coordinates(centre.lng(), centre.lat()))
    })
}

/// `geo_h3cell_to_polygon(token)`: the H3 cell's boundary as a closed
/// GeoJSON polygon (edges are straight lines, the page says); null for an
/// invalid token.
pub fn geo_h3cell_to_polygon(token: &Value) -> Value {
    h3_cell(token).map_or(Value::Null, |cell| {
        polygon(cell.boundary().iter().map(|ll| (ll.lng(), ll.lat())))
    })
}

/// `geo_h3cell_level(token)`: the resolution of the H3 cell (0 to 15);
/// null for an invalid token.
pub fn geo_h3cell_level(token: &Value) -> Value {
    h3_cell(token).map_or(Value::Null, |cell| {
        Value::Int(i32::from(u8::from(cell.resolution())))
    })
}

/// `geo_h3cell_parent(token [, resolution])`: the parent cell at
/// `resolution` (0 to 14; default one level up); `""` for an invalid cell,
/// an invalid resolution or one finer than the cell's.
pub fn geo_h3cell_parent(args: &[Value]) -> Value {
    let parent = args.first().and_then(h3_cell).and_then(|cell| {
        let own = i64::from(u8::from(cell.resolution()));
        let target = level(args, 1, own - 1, 0..=14)?;
        cell.parent(resolution(target)?)
    });
    parent.map_or(Value::from_static(""), |c| Value::string(c.to_string()))
}

/// `geo_h3cell_children(token [, resolution])`: the children at
/// `resolution` (1 to 15; default one level down), at most 5 levels below
/// the cell; null for an invalid cell or resolution.
pub fn geo_h3cell_children(args: &[Value]) -> Value {
    let children = args.first().and_then(h3_cell).and_then(|cell| {
        let own = i64::from(u8::from(cell.resolution()));
        let target = level(args, 1, own + 1, 1..=15)?;
        (target > own && target - own <= 5).then_some(())?;
        Some(h3_tokens(cell.children(resolution(target)?)))
    });
    children.unwrap_or(Value::Null)
}

/// `geo_h3cell_neighbors(token)`: the cells that share an edge with the
/// cell (six, five around a pentagon); null for an invalid token.
pub fn geo_h3cell_neighbors(token: &Value) -> Value {
    h3_cell(token).map_or(Value::Null, |cell| {
        h3_tokens(
            cell.grid_disk::<Vec<_>>(1)
                .into_iter()
                .filter(|c| *c != cell),
        )
    })
}

/// `geo_h3cell_rings(token, distance)`: the rings of cells around the cell
/// up to `distance` (0 to 142), ring 0 holding the cell itself; null for
/// an invalid cell or distance. A cell lost to pentagon distortion is
/// absent, as the page says.
pub fn geo_h3cell_rings(token: &Value, distance: &Value) -> Value {
    let (Some(cell), Some(k)) = (
        h3_cell(token),
        integer_arg(distance).filter(|k| (0..=142).contains(k)),
    ) else {
        return Value::Null;
    };
    let k = k as u32;
    let mut rings: Vec<Vec<Value>> = vec![Vec::new(); k as usize + 1];
    for (c, d) in cell.grid_disk_distances::<Vec<_>>(k) {
        rings[d as usize].push(Value::string(c.to_string()));
    }
    Value::array(rings.into_iter().map(Value::array).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn s2_tokens_match_the_reference() {
        let token = geo_point_to_s2cell(&[
            Value::Real(-80.195829),
            Value::Real(25.802215),
            Value::Long(8),
        ]);
        assert_eq!(token, s("88d9b"));
        let neighbors = geo_s2cell_neighbors(&s("89c259"));
        let expected = [
            "89c25d", "89c2f9", "89c251", "89c257", "89c25f", "89c25b", "89c2f7", "89c2f5",
        ];
        let Value::Array(items) = &neighbors else {
            panic!("{neighbors:?}")
        };
        let mut got: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        let mut want = expected.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(geo_s2cell_to_central_point(&s("a")), Value::Null);
    }

    #[test]
    fn h3_cells_match_the_reference() {
        let cell = geo_point_to_h3cell(&[
            Value::Real(-74.04450446039874),
            Value::Real(40.689250859314974),
            Value::Long(6),
        ]);
        assert_eq!(cell, s("862a1072fffffff"));
        assert_eq!(
            geo_h3cell_parent(&[s("862a1072fffffff")]),
            s("852a1073fffffff")
        );
        assert_eq!(
            geo_h3cell_parent(&[s("862a1072fffffff"), Value::Long(1)]),
            s("812a3ffffffffff")
        );
        assert_eq!(geo_h3cell_level(&s("862a1072fffffff")), Value::Int(6));
        assert_eq!(geo_h3cell_level(&s("abc")), Value::Null);
    }
}
