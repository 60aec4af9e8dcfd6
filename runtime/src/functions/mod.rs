//! The KQL scalar function library, one module per family. Every function is
//! re-exported here under its KQL name (`kql_runtime::functions::tostring`).
//!
//! Conventions, shared by every family:
//!
//! - arguments are `&Value` and the result is a `Value`; nothing panics on any
//!   input;
//! - functions with a variable number of arguments (`strcat`, `coalesce`,
//!   `pack_array`, …) and those whose KQL form has optional arguments
//!   (`substring`, `indexof_range`) take `&[Value]`; a few optional forms
//!   have their own fixed-argument function (`split_at`,
//!   `startofday_offset`, `extract_all_groups`);
//! - functions that need the run's context (`now`, `ago`) take
//!   `&Context` first;
//! - each function's doc comment cites the KQL reference page it follows and
//!   says what it does with null and where it had to choose.
//!
//! The function table (name → arity → types → implementation) belongs to the
//! compiler; this crate only provides the implementations.

pub mod array;
pub mod bag;
pub mod conditional;
pub mod conversion;
pub mod data_size;
pub mod datetime;
pub mod decompose;
pub mod distributions;
pub mod dynamic;
pub mod encoding;
pub mod geo;
pub mod geo_buffer;
pub mod geo_cells;
pub mod geo_cover;
pub mod geo_densify;
pub mod geo_overlay;
pub mod geo_shapes;
pub mod hash;
pub mod ip;
pub mod math;
pub mod parsers;
pub mod periods;
pub mod regex;
pub mod series;
pub mod sketch;
pub mod string;
pub mod timezone;
pub mod two_lines;
pub mod units;
pub mod user_agent;
pub mod xml;

use std::borrow::Cow;

use crate::text::to_text;
use crate::value::{ticks, Value};

/// The largest string a function that can multiply its input (`strrep`,
/// `replace_regex`, `replace_strings`) builds, in bytes: 64 MiB. Kusto limits
/// a string value to far less; this only keeps one bad row from exhausting
/// memory.
pub const MAX_STRING_BYTES: usize = 64 << 20;

/// What the detector says when a built string passes [`MAX_STRING_BYTES`].
pub(crate) const STRING_CAP: &str = "the 64 MiB limit of a string a function builds";

/// A real that is already a whole number (truncated, floored or rounded by
/// the caller) as a long; `None` when it is NaN, infinite or outside the
/// long range. Every conversion from real to long goes through here, so
/// that an out-of-range value gives null rather than a saturated
/// `i64::MIN`/`i64::MAX` (what Rust's `as` would give).
pub(crate) fn checked_long(x: f64) -> Option<i64> {
    // -2^63 is exactly a long; 2^63 (`i64::MAX as f64`) is one past the end.
    (x.is_finite() && x >= i64::MIN as f64 && x < i64::MAX as f64).then_some(x as i64)
}

/// An integer argument: an int or a long (a `dynamic` holding one too);
/// `None` for null and anything else.
pub(crate) fn integer_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        _ => None,
    }
}

/// A numeric argument as a real: int, long, real or decimal (rounded to
/// the nearest real); `None` for null and anything else.
pub(crate) fn real_arg(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(f64::from(*n)),
        Value::Long(n) => Some(*n as f64),
        Value::Real(x) => Some(*x),
        Value::Decimal(d) => Some(d.to_f64()),
        _ => None,
    }
}

/// The text of a value when a function "forcibly converts" it to a string
/// (`reverse`, the `hash_*` functions): as `tostring`, except that a
/// datetime has all seven fraction digits (`2020-01-01T00:00:00.0000000Z`),
/// as the reference's examples show (`reverse-function.md`,
/// `hash-md5-function.md`: `hash_md5(datetime(2020-01-01))` is the MD5 of
/// that text).
pub(crate) fn forced_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::DateTime(d) => {
            let fraction = d.0.rem_euclid(ticks::PER_SECOND);
            let text =
                crate::text::format_datetime(crate::value::DateTime(d.0.wrapping_sub(fraction)));
            let stem = text.strip_suffix('Z').unwrap_or(&text);
            Cow::Owned(format!("{stem}.{fraction:07}Z"))
        }
        other => to_text(other),
    }
}

pub use self::array::{
    array_concat, array_iff, array_index_of, array_reverse, array_rotate_left, array_rotate_right,
    array_shift_left, array_shift_right, array_slice, array_sort_asc, array_sort_desc, array_split,
    array_strcat, array_sum, jaccard_index, range, repeat, set_difference, set_has_element,
    set_intersect, set_union, zip,
};
pub use self::bag::{bag_has_key, bag_merge, bag_remove_keys, bag_set_key, bag_zip, extract_json};
pub use self::conditional::{
    case, coalesce, iff, iif, isempty, isnotempty, isnotnull, isnull, max_of, min_of,
};
pub use self::conversion::{
    format_bytes, parse_json, parse_version, tobool, toboolean, todatetime, todecimal, todouble,
    todynamic, toguid, tohex, toint, tolong, toreal, tostring, tostring_str, totimespan,
};
pub use self::data_size::estimate_data_size;
pub use self::datetime::{
    ago, bin, bin_at, datetime_add, datetime_diff, datetime_part, dayofmonth, dayofweek, dayofyear,
    endofday, endofmonth, endofweek, endofyear, floor, format_datetime, format_timespan, getmonth,
    getyear, hourofday, ingestion_time, make_datetime, make_timespan, now, startofday,
    startofday_args, startofday_offset, startofmonth, startofweek, startofyear,
    unixtime_microseconds_todatetime, unixtime_milliseconds_todatetime,
    unixtime_nanoseconds_todatetime, unixtime_seconds_todatetime, week_of_year,
};
pub use self::decompose::{
    series_decompose_anomalies_dynamic, series_decompose_dynamic, series_decompose_forecast_dynamic,
};
pub use self::distributions::{beta_cdf, beta_inv, beta_pdf, welch_test};
pub use self::dynamic::{
    array_length, bag_keys, bag_pack, dynamic_to_json, gettype, pack, pack_array, treepath,
};
pub use self::encoding::{
    base64_decode_toarray, base64_decode_toguid, base64_decode_tostring, base64_encode_fromarray,
    base64_encode_fromguid, base64_encode_tostring, gzip_compress_to_base64_string,
    gzip_decompress_from_base64_string, punycode_from_string, punycode_to_string,
    zlib_compress_to_base64_string, zlib_decompress_from_base64_string,
};
pub use self::geo::{
    geo_distance_2points, geo_geohash_neighbors, geo_geohash_to_central_point,
    geo_geohash_to_polygon, geo_point_in_circle, geo_point_to_geohash,
};
pub use self::geo_buffer::{geo_line_buffer, geo_point_buffer, geo_polygon_buffer};
pub use self::geo_cells::{
    geo_h3cell_children, geo_h3cell_level, geo_h3cell_neighbors, geo_h3cell_parent,
    geo_h3cell_rings, geo_h3cell_to_central_point, geo_h3cell_to_polygon, geo_point_to_h3cell,
    geo_point_to_s2cell, geo_s2cell_neighbors, geo_s2cell_to_central_point, geo_s2cell_to_polygon,
};
pub use self::geo_cover::{geo_line_to_s2cells, geo_polygon_to_h3cells, geo_polygon_to_s2cells};
pub use self::geo_densify::{geo_line_densify, geo_polygon_densify};
pub use self::geo_overlay::{
    geo_intersection_2lines, geo_intersection_2polygons, geo_intersection_line_with_polygon,
    geo_line_simplify, geo_polygon_simplify, geo_simplify_polygons_array, geo_union_lines_array,
    geo_union_polygons_array,
};
pub use self::geo_shapes::{
    geo_distance_point_to_line, geo_distance_point_to_polygon, geo_intersects_2lines,
    geo_intersects_2polygons, geo_intersects_line_with_polygon, geo_line_centroid, geo_line_length,
    geo_point_in_polygon, geo_polygon_area, geo_polygon_centroid, geo_polygon_perimeter,
};
pub use self::hash::{hash, hash_md5, hash_sha1, hash_sha256};
pub use self::ip::{
    format_ipv4, format_ipv4_mask, has_any_ipv4, has_any_ipv4_prefix, has_ipv4, has_ipv4_prefix,
    ipv4_compare, ipv4_is_in_any_range, ipv4_is_in_range, ipv4_is_match, ipv4_is_private,
    ipv4_netmask_suffix, ipv4_range_to_cidr_list, ipv6_compare, ipv6_is_in_any_range,
    ipv6_is_in_range, ipv6_is_match, parse_ipv4, parse_ipv4_mask, parse_ipv6, parse_ipv6_mask,
};
pub use self::math::{
    abs, acos, around, asin, atan, atan2, binary_and, binary_not, binary_or, binary_shift_left,
    binary_shift_right, binary_xor, bitset_count_ones, ceiling, cos, cot, degrees, erf, erfc, exp,
    exp10, exp2, gamma, isfinite, isinf, isnan, log, log10, log2, loggamma, new_guid, pi, pow,
    radians, rand, round, sign, sin, sqrt, tan,
};
pub use self::parsers::{
    parse_command_line, parse_csv, parse_kv, parse_path, parse_url, parse_urlquery,
};
pub use self::periods::{
    series_periods_detect_dynamic, series_periods_validate_dynamic, series_seasonal,
};
pub use self::regex::{
    extract, extract_all, extract_all_args, extract_all_groups, extract_all_with, extract_with,
    indexof_regex, replace, replace_regex, replace_regex_with, trim, trim_end, trim_start,
    ConstRegex,
};
pub use self::series::{
    series_abs, series_add, series_divide, series_equals, series_fill_backward, series_fill_const,
    series_fill_forward, series_fill_linear, series_fir, series_fit_line_dynamic, series_greater,
    series_greater_equals, series_iir, series_less, series_less_equals, series_multiply,
    series_not_equals, series_outliers, series_pearson_correlation, series_stats_dynamic,
    series_subtract, series_sum,
};
pub use self::sketch::{
    dcount_hll, hll_merge, percentile_array_tdigest, percentile_tdigest, percentrank_tdigest,
    rank_tdigest,
};
pub use self::string::{
    countof, has_any_index, indexof, indexof_range, isascii, regex_quote, replace_string,
    replace_strings, reverse, split, split_args, split_at, strcat, strcat_array, strcat_delim,
    strcmp, string_size, strlen, strrep, substring, tolower, toupper, translate,
    unicode_codepoints_from_string, unicode_codepoints_to_string, url_decode, url_encode,
    url_encode_component,
};
pub use self::timezone::{datetime_list_timezones, datetime_local_to_utc, datetime_utc_to_local};
pub use self::two_lines::series_fit_2lines_dynamic;
pub use self::units::{
    convert_angle, convert_energy, convert_force, convert_length, convert_mass, convert_speed,
    convert_temperature, convert_volume,
};
pub use self::user_agent::parse_user_agent;
pub use self::xml::parse_xml;
/// `not(expr)` (`not-function.md`) is the logical operator's function form.
pub use crate::ops::not;

#[cfg(test)]
mod tests {
    //! Every operator and function on every pair of awkward values: nothing
    //! panics, whatever the input.

    use super::*;
    use crate::context::Context;
    use crate::expand::expand_values;
    use crate::json::parse_json_text;
    use crate::ops;
    use crate::text::{to_string, DATETIME_MAX, DATETIME_MIN};
    use crate::value::{DateTime, TimeSpan, Value};

    fn awkward_values() -> Vec<Value> {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i32::MIN),
            Value::Int(i32::MAX),
            Value::Long(0),
            Value::Long(1),
            Value::Long(-1),
            Value::Long(i64::MIN),
            Value::Long(i64::MAX),
            Value::Real(0.0),
            Value::Real(-0.0),
            Value::Real(2.5),
            Value::Real(f64::NAN),
            Value::Real(f64::INFINITY),
            Value::Real(f64::NEG_INFINITY),
            Value::Real(f64::MAX),
            Value::Real(f64::MIN_POSITIVE),
            Value::from_static(""),
            Value::from_static(" "),
            Value::from_static("abc"),
            Value::from_static("ÀÉ-ß ǅ İ \u{0}"),
            Value::from_static("(("),
            Value::from_static("%"),
            Value::from_static("%zz%e9"),
            Value::from_static("-5"),
            Value::from_static("1e400"),
            Value::from_static("2024-05-28T10:00:00Z"),
            Value::from_static("01:00:00"),
            Value::DateTime(DateTime(0)),
            Value::DateTime(DATETIME_MIN),
            Value::DateTime(DATETIME_MAX),
            Value::DateTime(DateTime(i64::MIN)),
            Value::DateTime(DateTime(i64::MAX)),
            Value::TimeSpan(TimeSpan(0)),
            Value::TimeSpan(TimeSpan(-1)),
            Value::TimeSpan(TimeSpan(i64::MIN)),
            Value::TimeSpan(TimeSpan(i64::MAX)),
            Value::Guid("01234567-89ab-cdef-0123-456789abcdef".into()),
        ];
        for text in [
            "[]",
            "{}",
            "[1,\"a\",null,[2]]",
            r#"{"a":{"b":[1]},"":null}"#,
            "[-1]",
        ] {
            values.push(parse_json_text(text).unwrap_or_default());
        }
        values
    }

    /// Every function added beyond the first families, on every value, pair
    /// of values and (for slice functions) short argument lists: nothing
    /// panics.
    #[test]
    fn library_functions_never_panic() {
        let mut values = awkward_values();
        for text in [
            r#"["b","a",null,1,2.5]"#,
            r#"{"k":[1,{"x":2}],"$":1}"#,
            "[true,0,-1]",
            r#"["192.168.1.1","10.0.0.0/8"]"#,
        ] {
            values.push(parse_json_text(text).unwrap_or_default());
        }
        for text in [
            "$.a.b",
            "$['k'][1]",
            "$[",
            "192.168.1.1/24",
            "fe80::1/64",
            "::1.2.3.4",
            "year",
            "Nanosecond",
            "week",
            "S3VzdG8=",
            "yyyy-MM-dd HH:mm:ss.FFFFFFF tt",
            "ddddddddd.hh:mm:ss.fffffffff",
            r"\\?\C:\a\b.c:d",
            "a://u:p@h:1/p?q=1#f",
            r#""a b" c\"d"#,
            "normal",
            "regex",
            "windows",
            "Europe/Paris",
            "Tilt",
            "KiloPond",
            "u4pruyd",
            "acadmie-franaise-npb1a",
        ] {
            values.push(Value::from_static(text));
        }
        for n in [2, 7, 24, 32, 64, 120, 129, 1024, 5000] {
            values.push(Value::Long(n));
        }
        let unary: &[fn(&Value) -> Value] = &[
            abs,
            ceiling,
            sign,
            sqrt,
            exp,
            exp2,
            exp10,
            log,
            log2,
            log10,
            isnan,
            isinf,
            isfinite,
            sin,
            cos,
            tan,
            cot,
            asin,
            acos,
            atan,
            degrees,
            radians,
            binary_not,
            bitset_count_ones,
            reverse,
            string_size,
            unicode_codepoints_from_string,
            unicode_codepoints_to_string,
            array_reverse,
            array_sum,
            dayofweek,
            dayofmonth,
            dayofyear,
            hourofday,
            getmonth,
            getyear,
            week_of_year,
            unixtime_seconds_todatetime,
            unixtime_milliseconds_todatetime,
            unixtime_microseconds_todatetime,
            unixtime_nanoseconds_todatetime,
            parse_ipv4,
            ipv4_is_private,
            ipv4_netmask_suffix,
            parse_ipv6,
            hash_md5,
            hash_sha1,
            hash_sha256,
            base64_encode_tostring,
            base64_decode_tostring,
            base64_decode_toarray,
            base64_encode_fromarray,
            base64_encode_fromguid,
            base64_decode_toguid,
            parse_url,
            parse_urlquery,
            parse_path,
            parse_csv,
            gamma,
            loggamma,
            regex_quote,
            isascii,
            dynamic_to_json,
            zlib_compress_to_base64_string,
            zlib_decompress_from_base64_string,
            gzip_compress_to_base64_string,
            gzip_decompress_from_base64_string,
            series_sum,
            parse_xml,
            punycode_from_string,
            punycode_to_string,
            erf,
            erfc,
            geo_geohash_to_central_point,
            geo_geohash_to_polygon,
            geo_s2cell_to_central_point,
            geo_s2cell_to_polygon,
            geo_s2cell_neighbors,
            geo_h3cell_to_central_point,
            geo_h3cell_to_polygon,
            geo_h3cell_level,
            geo_line_length,
            geo_polygon_perimeter,
            geo_polygon_area,
            geo_geohash_neighbors,
            geo_h3cell_neighbors,
        ];
        let binary: &[fn(&Value, &Value) -> Value] = &[
            pow,
            atan2,
            binary_and,
            binary_or,
            binary_xor,
            binary_shift_left,
            binary_shift_right,
            strcmp,
            has_any_index,
            array_rotate_left,
            array_rotate_right,
            array_split,
            set_has_element,
            jaccard_index,
            repeat,
            array_strcat,
            bag_has_key,
            bag_remove_keys,
            bag_zip,
            extract_json,
            datetime_part,
            format_datetime,
            format_timespan,
            parse_ipv4_mask,
            ipv4_is_in_range,
            has_ipv4,
            has_ipv4_prefix,
            parse_ipv6_mask,
            ipv6_is_in_range,
            trim,
            trim_start,
            trim_end,
            parse_command_line,
            datetime_utc_to_local,
            datetime_local_to_utc,
            ipv4_range_to_cidr_list,
            series_greater_equals,
            series_less_equals,
            series_not_equals,
            geo_h3cell_rings,
        ];
        let ternary: &[fn(&Value, &Value, &Value) -> Value] = &[
            translate,
            replace_strings,
            replace_regex,
            replace,
            array_slice,
            array_iff,
            bag_set_key,
            datetime_add,
            datetime_diff,
            bin_at,
            convert_angle,
            convert_energy,
            convert_length,
            convert_temperature,
            series_iir,
            geo_point_in_polygon,
            geo_distance_point_to_line,
            geo_distance_point_to_polygon,
        ];
        let slices: &[fn(&[Value]) -> Value] = &[
            round,
            format_bytes,
            rand,
            case,
            max_of,
            min_of,
            split_args,
            strrep,
            countof,
            indexof_regex,
            extract_all_args,
            parse_kv,
            array_concat,
            array_index_of,
            array_shift_left,
            array_shift_right,
            array_sort_asc,
            array_sort_desc,
            set_union,
            set_intersect,
            set_difference,
            zip,
            range,
            bag_merge,
            startofday_args,
            startofweek,
            startofmonth,
            startofyear,
            endofday,
            endofweek,
            endofmonth,
            endofyear,
            make_datetime,
            make_timespan,
            tohex,
            hash,
            ipv4_compare,
            ipv4_is_match,
            ipv4_is_in_any_range,
            format_ipv4,
            format_ipv4_mask,
            has_any_ipv4,
            has_any_ipv4_prefix,
            ipv6_compare,
            ipv6_is_match,
            ipv6_is_in_any_range,
            series_fir,
            geo_point_in_circle,
            geo_point_to_geohash,
            geo_distance_2points,
            geo_point_to_s2cell,
            geo_point_to_h3cell,
            geo_h3cell_parent,
            geo_h3cell_children,
        ];
        let small: Vec<Value> = values.iter().step_by(3).cloned().collect();
        for a in &values {
            for f in unary {
                let _ = f(a);
            }
            for f in slices {
                let _ = f(std::slice::from_ref(a));
            }
            for b in &values {
                for f in binary {
                    let _ = f(a, b);
                }
                for f in slices {
                    let _ = f(&[a.clone(), b.clone()]);
                }
            }
        }
        for a in &small {
            for b in &small {
                for c in &small {
                    for f in ternary {
                        let _ = f(a, b, c);
                    }
                    for f in slices {
                        let _ = f(&[a.clone(), b.clone(), c.clone()]);
                        let _ = f(&[a.clone(), b.clone(), c.clone(), c.clone(), b.clone()]);
                    }
                }
            }
        }
    }

    #[test]
    fn nothing_panics_on_awkward_values() {
        let values = awkward_values();
        let ctx = Context {
            now: DateTime(1_700_000_000 * 10_000_000),
        };
        let binary: &[fn(&Value, &Value) -> Value] = &[
            ops::eq,
            ops::ne,
            ops::lt,
            ops::le,
            ops::gt,
            ops::ge,
            ops::eq_ci,
            ops::ne_ci,
            ops::and,
            ops::or,
            ops::add,
            ops::sub,
            ops::mul,
            ops::div,
            ops::rem,
            ops::index,
            ops::matches_regex,
            bin,
            extract_all,
            split,
            strcat_array,
            indexof,
            startofday_offset,
        ];
        let flagged: &[fn(&Value, &Value, bool) -> Value] = &[
            ops::contains,
            ops::has,
            ops::hasprefix,
            ops::hassuffix,
            ops::startswith,
            ops::endswith,
        ];
        let unary: &[fn(&Value) -> Value] = &[
            ops::not,
            ops::neg,
            tostring,
            toint,
            tolong,
            toreal,
            tobool,
            todatetime,
            totimespan,
            parse_json,
            toguid,
            isnull,
            isempty,
            strlen,
            tolower,
            toupper,
            url_decode,
            url_encode,
            url_encode_component,
            startofday,
            array_length,
            bag_keys,
            treepath,
            gettype,
        ];
        for a in &values {
            let _ = to_string(a);
            let _ = expand_values(a);
            let _ = ago(&ctx, a);
            let _ = ops::member(a, "a");
            for f in unary {
                let _ = f(a);
            }
            for b in &values {
                for f in binary {
                    let _ = f(a, b);
                }
                for f in flagged {
                    let _ = f(a, b, true);
                    let _ = f(a, b, false);
                }
                let pair = [a.clone(), b.clone()];
                let _ = ops::in_list(a, &pair, false);
                let _ = ops::has_any(a, &pair);
                let _ = ops::has_all(a, &pair);
                let _ = ops::between(a, b, a);
                let _ = substring(&pair);
                let _ = strcat(&pair);
                let _ = strcat_delim(&pair);
                let _ = coalesce(&pair);
                let _ = bag_pack(&pair);
                let _ = extract(b, a, a);
                let _ = extract_all_groups(b, a, a);
                let _ = replace_string(a, b, a);
                let _ = split_at(a, b, a);
                let _ = iff(a, a, b);
                for c in [
                    &Value::Long(1),
                    &Value::Long(-1),
                    &Value::Long(i64::MAX),
                    &Value::Null,
                ] {
                    let _ = substring(&[a.clone(), b.clone(), c.clone()]);
                    let _ = indexof_range(&[a.clone(), b.clone(), c.clone(), c.clone(), c.clone()]);
                }
            }
        }
    }
}
