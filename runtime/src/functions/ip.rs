//! IP-address functions: `parse_ipv4`, `parse_ipv4_mask`, `ipv4_compare`,
//! `ipv4_is_match`, `ipv4_is_in_range`, `ipv4_is_in_any_range`,
//! `ipv4_is_private`, `ipv4_netmask_suffix`, `format_ipv4`,
//! `format_ipv4_mask`, `has_ipv4`, `has_ipv4_prefix`, `has_any_ipv4`,
//! `has_any_ipv4_prefix`, `parse_ipv6`, `parse_ipv6_mask`, `ipv6_compare`,
//! `ipv6_is_match`, `ipv6_is_in_range`, `ipv6_is_in_any_range`,
//! `ipv4_range_to_cidr_list`.
//!
//! Addresses may carry a prefix in IP-prefix (CIDR) notation
//! (`192.168.1.1/24`); functions that take two addresses use the shorter of
//! the two prefixes and of the optional prefix argument ("the combined
//! IP-prefix mask", `ipv4-compare-function.md`). An IPv4 address is four
//! decimal numbers 0–255 separated by dots; surrounding whitespace is
//! ignored. For the IPv6 functions an IPv4 address is the IPv4-mapped
//! address `::ffff:a.b.c.d`, its prefix counted from bit 96.

use std::net::Ipv6Addr;

use super::integer_arg;
use crate::text::to_text;
use crate::value::Value;

/// An IPv4 address and its prefix length (32 without a prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ipv4 {
    address: u32,
    prefix: u32,
}

/// Parses `a.b.c.d`: four decimal numbers 0–255 of 1 to 3 digits.
fn parse_dotted(s: &str) -> Option<u32> {
    let mut address = 0u32;
    let mut count = 0;
    for part in s.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        address = (address << 8) | octet;
        count += 1;
    }
    (count == 4).then_some(address)
}

/// Parses `a.b.c.d[/prefix]` (prefix 0–32).
fn parse_v4(s: &str) -> Option<Ipv4> {
    let s = s.trim();
    let (address, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            let p = p.trim();
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 2 {
                return None;
            }
            let p: u32 = p.parse().ok()?;
            (a.trim(), (p <= 32).then_some(p)?)
        }
        None => (s, 32),
    };
    Some(Ipv4 {
        address: parse_dotted(address)?,
        prefix,
    })
}

fn v4_arg(v: &Value) -> Option<Ipv4> {
    match v {
        Value::String(s) => parse_v4(s),
        _ => None,
    }
}

/// An IPv4 address or range as `ipv4_lookup` keys it: the address masked
/// by its prefix, and the prefix (32 without one). Not an IPv4 string →
/// `None`.
pub fn ipv4_network(v: &Value) -> Option<(u32, u32)> {
    let ip = v4_arg(v)?;
    Some((ip.address & mask_v4(ip.prefix), ip.prefix))
}

/// `address` masked to `prefix` bits.
pub fn ipv4_mask(address: u32, prefix: u32) -> u32 {
    address & mask_v4(prefix)
}

/// The netmask of a prefix length (0–32).
fn mask_v4(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

/// An optional prefix argument (`None` when absent), checked against
/// `0..=max`; `Err` for a bad one.
fn prefix_arg(v: Option<&Value>, max: i64) -> Result<Option<u32>, ()> {
    match v {
        None => Ok(None),
        Some(v) => match integer_arg(v) {
            Some(p) if (0..=max).contains(&p) => Ok(Some(p as u32)),
            _ => Err(()),
        },
    }
}

/// The two addresses masked with their combined prefix.
fn combined_v4(a: Ipv4, b: Ipv4, extra: Option<u32>) -> (u32, u32) {
    let prefix = a.prefix.min(b.prefix).min(extra.unwrap_or(32));
    let mask = mask_v4(prefix);
    (a.address & mask, b.address & mask)
}

/// `parse_ipv4(ip)` (`parse-ipv4-function.md`): the address as a long in
/// big-endian order, masked by its prefix (`'192.168.1.1/24'` is
/// 3232235776). Not an IPv4 address → null.
pub fn parse_ipv4(v: &Value) -> Value {
    v4_arg(v).map_or(Value::Null, |ip| {
        Value::Long(i64::from(ip.address & mask_v4(ip.prefix)))
    })
}

/// `parse_ipv4_mask(ip, prefix)` (`parse-ipv4-mask-function.md`): as
/// [`parse_ipv4`] masked also by `prefix` (0–32): `parse_ipv4_mask("127.0.0.1",
/// 24)` is 2130706432. A bad address or prefix → null.
pub fn parse_ipv4_mask(v: &Value, prefix: &Value) -> Value {
    match (v4_arg(v), prefix_arg(Some(prefix), 32)) {
        (Some(ip), Ok(Some(p))) => Value::Long(i64::from(ip.address & mask_v4(ip.prefix.min(p)))),
        _ => Value::Null,
    }
}

/// `ipv4_compare(ip1, ip2 [, prefix])` (`ipv4-compare-function.md`), as a
/// slice: -1, 0 or 1 (a long) comparing the two addresses under their
/// combined prefix (`ipv4_compare('192.168.1.1/24', '192.168.1.255')` is
/// 0). A bad address or prefix → null.
pub fn ipv4_compare(args: &[Value]) -> Value {
    let (Some(a), Some(b)) = (args.first().and_then(v4_arg), args.get(1).and_then(v4_arg)) else {
        return Value::Null;
    };
    let Ok(extra) = prefix_arg(args.get(2), 32) else {
        return Value::Null;
    };
    let (x, y) = combined_v4(a, b, extra);
    Value::Long(x.cmp(&y) as i64)
}

/// `ipv4_is_match(ip1, ip2 [, prefix])` (`ipv4-is-match-function.md`), as a
/// slice: whether the two addresses are equal under their combined prefix
/// (`ipv4_is_match('192.168.1.1/24', '192.168.1.255')` is `true`). A bad
/// address or prefix → null.
pub fn ipv4_is_match(args: &[Value]) -> Value {
    match ipv4_compare(args) {
        Value::Long(o) => Value::Bool(o == 0),
        other => other,
    }
}

/// `ipv4_is_in_range(ip, range)` (`ipv4-is-in-range-function.md`): whether
/// `ip` lies in the network `range` (IP-prefix notation):
/// `ipv4_is_in_range('192.168.1.1', '192.168.1.255/24')` is `true`. Both
/// are masked with the shorter prefix, as in [`ipv4_is_match`]. A bad
/// address → null.
pub fn ipv4_is_in_range(ip: &Value, range: &Value) -> Value {
    match (v4_arg(ip), v4_arg(range)) {
        (Some(a), Some(b)) => {
            let (x, y) = combined_v4(a, b, None);
            Value::Bool(x == y)
        }
        _ => Value::Null,
    }
}

/// The ranges of an `*_any_*` function: each argument a string, or an array
/// of strings.
fn range_texts(args: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    for arg in args {
        match arg {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        }
    }
    out
}

/// `ipv4_is_in_any_range(ip, range, ...)` or `ipv4_is_in_any_range(ip,
/// ranges)` (`ipv4-is-in-any-range-function.md`), as a slice: whether `ip`
/// lies in any of the ranges, given as strings or as a dynamic array of
/// strings. A bad `ip` → null; ranges that are not IPv4 ranges are skipped
/// (the reference is silent).
pub fn ipv4_is_in_any_range(args: &[Value]) -> Value {
    let Some((ip, ranges)) = args.split_first() else {
        return Value::Null;
    };
    let Some(ip) = v4_arg(ip) else {
        return Value::Null;
    };
    let found = range_texts(ranges).into_iter().filter_map(v4_arg).any(|r| {
        let (x, y) = combined_v4(ip, r, None);
        x == y
    });
    Value::Bool(found)
}

/// `ipv4_is_private(ip)` (`ipv4-is-private-function.md`): whether the
/// address (masked by its prefix) lies in 10.0.0.0/8, 172.16.0.0/12 or
/// 192.168.0.0/16 (`'192.168.1.1/24'` is `true`, `'127.0.0.1'` is `false`).
/// Not an IPv4 address → null.
pub fn ipv4_is_private(v: &Value) -> Value {
    let Some(ip) = v4_arg(v) else {
        return Value::Null;
    };
    let address = ip.address & mask_v4(ip.prefix);
    let private = [(0x0a00_0000u32, 8), (0xac10_0000, 12), (0xc0a8_0000, 16)]
        .iter()
        .any(|&(net, prefix)| address & mask_v4(prefix) == net);
    Value::Bool(private)
}

/// `ipv4_netmask_suffix(ip)` (`ipv4-netmask-suffix-function.md`): the prefix
/// length of the address, 32 when it has none, as an int. Not an IPv4
/// address → null.
pub fn ipv4_netmask_suffix(v: &Value) -> Value {
    v4_arg(v).map_or(Value::Null, |ip| Value::Int(ip.prefix as i32))
}

/// The address of `format_ipv4`'s first argument: a string in IP-prefix
/// notation or a number in big-endian order (0 to 2³²−1).
fn v4_or_number(v: &Value) -> Option<Ipv4> {
    match v {
        Value::String(s) => parse_v4(s),
        other => {
            let n = integer_arg(other)?;
            Some(Ipv4 {
                address: u32::try_from(n).ok()?,
                prefix: 32,
            })
        }
    }
}

fn dotted(address: u32) -> String {
    let [a, b, c, d] = address.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// `ipv4_range_to_cidr_list(start, end)` (`ipv4-range-to-cidr-list-function.md`):
/// the fewest CIDR blocks that cover exactly the addresses from `start` to
/// `end` (both included), lowest first, as a dynamic array of strings
/// (`"1.1.128.0/21"`). Each block is the largest one aligned on its first
/// address that does not pass `end`.
///
/// Null when either argument is not a plain IPv4 address (a `/prefix` is
/// not a range end) or `start` is after `end`: the reference defines only a
/// range from a start to an end, and kqlc gives no list rather than guess.
pub fn ipv4_range_to_cidr_list(start: &Value, end: &Value) -> Value {
    let plain = |v: &Value| {
        v4_arg(v)
            .filter(|ip| ip.prefix == 32 && !v.as_str().is_some_and(|s| s.contains('/')))
            .map(|ip| ip.address)
    };
    let (Some(start), Some(end)) = (plain(start), plain(end)) else {
        return Value::Null;
    };
    if start > end {
        return Value::Null;
    }
    let mut blocks = Vec::new();
    let (mut next, end) = (u64::from(start), u64::from(end));
    while next <= end {
        // The largest block aligned on `next` (2^32 when `next` is 0)…
        let mut size = if next == 0 {
            1u64 << 32
        } else {
            1u64 << next.trailing_zeros()
        };
        // …shrunk until it ends within the range.
        while next + size - 1 > end {
            size >>= 1;
        }
        let prefix = 32 - size.trailing_zeros();
        blocks.push(Value::string(format!(
            "{}/{prefix}",
            dotted(u32::try_from(next).unwrap_or(u32::MAX))
        )));
        next += size;
    }
    Value::array(blocks)
}

/// The address and combined prefix of `format_ipv4[_mask]`'s arguments.
fn format_args(args: &[Value]) -> Option<(u32, u32)> {
    let ip = v4_or_number(args.first()?)?;
    let extra = prefix_arg(args.get(1), 32).ok()?;
    let prefix = ip.prefix.min(extra.unwrap_or(32));
    Some((ip.address & mask_v4(prefix), prefix))
}

/// `format_ipv4(ip [, prefix])` (`format-ipv4-function.md`), as a slice:
/// the dotted form of the address masked by its prefix and `prefix`
/// (`format_ipv4('192.168.1.1', 24)` is `192.168.1.0`). `ip` may be a long
/// in big-endian order. A bad address or prefix (`-1` included) → `""`.
pub fn format_ipv4(args: &[Value]) -> Value {
    format_args(args).map_or(Value::from_static(""), |(a, _)| Value::string(dotted(a)))
}

/// `format_ipv4_mask(ip [, prefix])` (`format-ipv4-mask-function.md`): as
/// [`format_ipv4`] with the combined prefix appended
/// (`format_ipv4_mask('192.168.1.1/24', 32)` is `192.168.1.0/24`).
pub fn format_ipv4_mask(args: &[Value]) -> Value {
    format_args(args).map_or(Value::from_static(""), |(a, p)| {
        Value::string(format!("{}/{p}", dotted(a)))
    })
}

/// The IPv4 addresses written in `text`: runs of digits and dots delimited
/// by characters that are not ASCII letters or digits (a dot counts as a
/// delimiter only where it does not continue the run), each with its
/// octets, or `None` when the run is not a valid address.
fn addresses_in(text: &str) -> Vec<Option<[u32; 4]>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_digit()
                || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
        {
            i += 1;
        }
        let run = &text[start..i];
        let delimited = !bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
        // A run preceded by "digit." continues an earlier run.
        let continues = start >= 1
            && bytes[start - 1] == b'.'
            && start >= 2
            && bytes[start - 2].is_ascii_digit();
        if delimited && !continues && run.bytes().filter(|&b| b == b'.').count() == 3 {
            found.push(
                parse_dotted(run)
                    .map(u32::to_be_bytes)
                    .map(|o| o.map(u32::from)),
            );
        }
    }
    found
}

/// `has_ipv4(source, ip_address)` (`has-ipv4-function.md`): whether the
/// valid IPv4 address `ip_address` appears in `source` delimited by
/// non-alphanumeric characters (`has_ipv4('05:04:54 127.0.0.1 GET', '127.0.0.1')`
/// is `true`; `'05:04:54127.0.0.1'` does not count; `127.0.0.256` is not an
/// address). Addresses are compared by value, so `127.000.0.1` matches.
pub fn has_ipv4(source: &Value, ip: &Value) -> Value {
    has_any_ipv4(&[source.clone(), ip.clone()])
}

/// `has_any_ipv4(source, ip, ...)` or `has_any_ipv4(source, ips)`
/// (`has-any-ipv4-function.md`), as a slice: [`has_ipv4`] for any of the
/// addresses, given as strings or a dynamic array. Never null.
pub fn has_any_ipv4(args: &[Value]) -> Value {
    let Some((source, ips)) = args.split_first() else {
        return Value::Bool(false);
    };
    let wanted: Vec<u32> = range_texts(ips)
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => parse_dotted(s.trim()),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Value::Bool(false);
    }
    let text = to_text(source);
    let found = addresses_in(&text).into_iter().flatten().any(|octets| {
        let address = octets.iter().fold(0u32, |a, &o| (a << 8) | o);
        wanted.contains(&address)
    });
    Value::Bool(found)
}

/// The octets of an IPv4 prefix: a full address, or 1 to 3 octets each
/// followed by a dot (`192.`, `192.168.`, `192.168.1.`).
fn parse_v4_prefix(s: &str) -> Option<Vec<u32>> {
    let s = s.trim();
    if let Some(address) = parse_dotted(s) {
        return Some(
            address
                .to_be_bytes()
                .iter()
                .map(|&b| u32::from(b))
                .collect(),
        );
    }
    let body = s.strip_suffix('.')?;
    let octets: Option<Vec<u32>> = body
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u32>().ok().filter(|&o| o <= 255))
                .flatten()
        })
        .collect();
    octets.filter(|o| (1..=3).contains(&o.len()))
}

/// `has_ipv4_prefix(source, ip_address_prefix)` (`has-ipv4-prefix-function.md`):
/// whether a valid IPv4 address starting with the prefix (a full address or
/// 1 to 3 octets ending with a dot, like `127.0.`) appears in `source`,
/// delimited as in [`has_ipv4`]. `'127.0'` is not a valid prefix → `false`.
pub fn has_ipv4_prefix(source: &Value, prefix: &Value) -> Value {
    has_any_ipv4_prefix(&[source.clone(), prefix.clone()])
}

/// `has_any_ipv4_prefix(source, prefix, ...)` or with a dynamic array
/// (`has-any-ipv4-prefix-function.md`), as a slice: [`has_ipv4_prefix`] for
/// any of the prefixes.
pub fn has_any_ipv4_prefix(args: &[Value]) -> Value {
    let Some((source, prefixes)) = args.split_first() else {
        return Value::Bool(false);
    };
    let wanted: Vec<Vec<u32>> = range_texts(prefixes)
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => parse_v4_prefix(s),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Value::Bool(false);
    }
    let text = to_text(source);
    let found = addresses_in(&text)
        .into_iter()
        .flatten()
        .any(|octets| wanted.iter().any(|p| octets.starts_with(p)));
    Value::Bool(found)
}

/// An IPv6 address (IPv4 mapped to `::ffff:a.b.c.d`) and its prefix length.
/// IPv6 text that is `::` followed by a dotted IPv4 address is read as that
/// IPv4 address, its prefix counted within it, as the reference's examples
/// of `parse_ipv6_mask` show (`'::192.168.255.255/24'` keeps 120 bits).
fn parse_v6(s: &str) -> Option<(u128, u32)> {
    let s = s.trim();
    if let Some(ip) = parse_v4(s).or_else(|| s.strip_prefix("::").and_then(parse_v4)) {
        return Some((0xffff_0000_0000 | u128::from(ip.address), 96 + ip.prefix));
    }
    let (address, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            let p = p.trim();
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let p: u32 = p.parse().ok()?;
            (a.trim(), (p <= 128).then_some(p)?)
        }
        None => (s, 128),
    };
    let address: Ipv6Addr = address.parse().ok()?;
    Some((u128::from(address), prefix))
}

fn v6_arg(v: &Value) -> Option<(u128, u32)> {
    match v {
        Value::String(s) => parse_v6(s),
        _ => None,
    }
}

fn mask_v6(prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix.min(128))
    }
}

/// The canonical text `parse_ipv6` gives: eight groups of four lowercase
/// hex digits.
fn canonical_v6(address: u128) -> String {
    let groups: Vec<String> = (0..8)
        .rev()
        .map(|i| format!("{:04x}", (address >> (i * 16)) & 0xffff))
        .collect();
    groups.join(":")
}

/// `parse_ipv6(ip)` (`parse-ipv6-function.md`): the canonical form of an
/// IPv6 or IPv4 address, masked by its prefix
/// (`'192.168.255.255/24'` is `0000:0000:0000:0000:0000:ffff:c0a8:ff00`).
/// Not an address → `""`.
pub fn parse_ipv6(v: &Value) -> Value {
    v6_arg(v).map_or(Value::from_static(""), |(a, p)| {
        Value::string(canonical_v6(a & mask_v6(p)))
    })
}

/// `parse_ipv6_mask(ip, prefix)` (`parse-ipv6-mask-function.md`): as
/// [`parse_ipv6`], masked also by `prefix` (0–128 bits of the IPv6 form,
/// for IPv4 addresses too: `parse_ipv6_mask('192.168.255.255', 120)` is
/// `0000:0000:0000:0000:0000:ffff:c0a8:ff00`). A bad address or prefix →
/// `""`.
pub fn parse_ipv6_mask(v: &Value, prefix: &Value) -> Value {
    let Some((address, own)) = v6_arg(v) else {
        return Value::from_static("");
    };
    match prefix_arg(Some(prefix), 128) {
        Ok(Some(p)) => Value::string(canonical_v6(address & mask_v6(own.min(p)))),
        _ => Value::from_static(""),
    }
}

/// `ipv6_compare(ip1, ip2 [, prefix])` (`ipv6-compare-function.md`), as a
/// slice: -1, 0 or 1 (a long) comparing two IPv6 or IPv4 addresses under
/// their combined prefix and `prefix` (0–128). A bad address or prefix →
/// null.
pub fn ipv6_compare(args: &[Value]) -> Value {
    let (Some((a, pa)), Some((b, pb))) =
        (args.first().and_then(v6_arg), args.get(1).and_then(v6_arg))
    else {
        return Value::Null;
    };
    let Ok(extra) = prefix_arg(args.get(2), 128) else {
        return Value::Null;
    };
    let mask = mask_v6(pa.min(pb).min(extra.unwrap_or(128)));
    Value::Long((a & mask).cmp(&(b & mask)) as i64)
}

/// `ipv6_is_match(ip1, ip2 [, prefix])` (`ipv6-is-match-function.md`), as a
/// slice: whether [`ipv6_compare`] gives 0.
pub fn ipv6_is_match(args: &[Value]) -> Value {
    match ipv6_compare(args) {
        Value::Long(o) => Value::Bool(o == 0),
        other => other,
    }
}

/// `ipv6_is_in_range(ip, range)` (`ipv6-is-in-range-function.md`): whether
/// `ip` lies in the IPv6 (or IPv4) network `range`. A bad address → null.
pub fn ipv6_is_in_range(ip: &Value, range: &Value) -> Value {
    ipv6_is_match(&[ip.clone(), range.clone()])
}

/// `ipv6_is_in_any_range(ip, range, ...)` or with a dynamic array
/// (`ipv6-is-in-any-range-function.md`), as a slice: whether `ip` lies in
/// any of the ranges; ranges that are not addresses are skipped; a bad `ip`
/// → null.
pub fn ipv6_is_in_any_range(args: &[Value]) -> Value {
    let Some((ip, ranges)) = args.split_first() else {
        return Value::Null;
    };
    let Some((a, pa)) = v6_arg(ip) else {
        return Value::Null;
    };
    let found = range_texts(ranges)
        .into_iter()
        .filter_map(v6_arg)
        .any(|(b, pb)| {
            let mask = mask_v6(pa.min(pb));
            a & mask == b & mask
        });
    Value::Bool(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    fn l(n: i64) -> Value {
        Value::Long(n)
    }

    #[test]
    fn range_to_cidr_list_covers_the_range_with_aligned_blocks() {
        let blocks = |a, b| to_text(&ipv4_range_to_cidr_list(&s(a), &s(b))).into_owned();
        assert_eq!(
            blocks("10.0.0.1", "10.0.0.6"),
            r#"["10.0.0.1/32","10.0.0.2/31","10.0.0.4/31","10.0.0.6/32"]"#
        );
        assert_eq!(blocks("0.0.0.0", "255.255.255.255"), r#"["0.0.0.0/0"]"#);
        assert_eq!(
            blocks("255.255.255.255", "255.255.255.255"),
            r#"["255.255.255.255/32"]"#
        );
        assert_eq!(
            ipv4_range_to_cidr_list(&s("10.0.0.2"), &s("10.0.0.1")),
            Value::Null
        );
        assert_eq!(
            ipv4_range_to_cidr_list(&s("10.0.0.0/8"), &s("10.0.0.1")),
            Value::Null
        );
    }

    #[test]
    fn parse_ipv4_follows_reference_examples() {
        assert_eq!(parse_ipv4(&s("192.168.1.1")), l(3232235777));
        assert_eq!(parse_ipv4(&s("192.168.1.1/24")), l(3232235776));
        assert_eq!(parse_ipv4(&s("255.255.255.255/31")), l(4294967294));
        assert_eq!(parse_ipv4_mask(&s("127.0.0.1"), &l(24)), l(2130706432));
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.4/33",
            "a.b.c.d",
            "1..2.3",
            "1.2.3.4/",
        ] {
            assert_eq!(parse_ipv4(&s(bad)), Value::Null, "{bad}");
        }
        assert_eq!(parse_ipv4(&Value::Null), Value::Null);
        assert_eq!(parse_ipv4_mask(&s("1.2.3.4"), &l(33)), Value::Null);
    }

    #[test]
    fn compare_and_match() {
        let c = |a: &'static str, b: &'static str| ipv4_compare(&[s(a), s(b)]);
        assert_eq!(c("192.168.1.0", "192.168.1.0"), l(0));
        assert_eq!(c("192.168.1.1/24", "192.168.1.255"), l(0));
        assert_eq!(c("192.168.1.1", "192.168.1.255/24"), l(0));
        assert_eq!(c("192.168.1.1/30", "192.168.1.255/24"), l(0));
        assert_eq!(c("192.168.1.1", "192.168.1.2"), l(-1));
        assert_eq!(c("10.0.0.1", "9.255.255.255"), l(1));
        assert_eq!(
            ipv4_compare(&[s("192.168.1.1"), s("192.168.1.0"), l(31)]),
            l(0)
        );
        assert_eq!(ipv4_compare(&[s("192.168.1.1"), s("x")]), Value::Null);
        assert_eq!(
            ipv4_compare(&[s("1.1.1.1"), s("1.1.1.1"), l(40)]),
            Value::Null
        );
        assert_eq!(
            ipv4_is_match(&[s("192.168.1.1/24"), s("192.168.1.255")]),
            Value::Bool(true)
        );
        assert_eq!(
            ipv4_is_match(&[s("192.168.1.1"), s("192.168.1.255"), l(24)]),
            Value::Bool(true)
        );
        assert_eq!(
            ipv4_is_match(&[s("192.168.1.1"), s("192.168.2.1")]),
            Value::Bool(false)
        );
        assert_eq!(
            ipv4_is_in_range(&s("192.168.1.1"), &s("192.168.1.255/24")),
            Value::Bool(true)
        );
        assert_eq!(
            ipv4_is_in_range(&s("192.168.2.1"), &s("192.168.1.255/24")),
            Value::Bool(false)
        );
        assert_eq!(
            ipv4_is_in_range(&s("x"), &s("192.168.1.255/24")),
            Value::Null
        );
    }

    #[test]
    fn any_range_and_private() {
        let args = [
            s("192.168.1.6"),
            s("192.168.1.1/24"),
            s("10.0.0.1/8"),
            s("127.1.0.1/16"),
        ];
        assert_eq!(ipv4_is_in_any_range(&args), Value::Bool(true));
        let ranges = parse_json_text(r#"["127.0.0.1", "192.168.1.1"]"#).unwrap_or_default();
        assert_eq!(
            ipv4_is_in_any_range(&[s("127.0.0.1"), ranges.clone()]),
            Value::Bool(true)
        );
        assert_eq!(
            ipv4_is_in_any_range(&[s("1.1.1.1"), ranges]),
            Value::Bool(false)
        );
        assert_eq!(ipv4_is_in_any_range(&[s("bad"), s("1.1.1.1")]), Value::Null);
        assert_eq!(ipv4_is_private(&s("10.1.2.3")), Value::Bool(true));
        assert_eq!(ipv4_is_private(&s("192.168.1.1/24")), Value::Bool(true));
        assert_eq!(ipv4_is_private(&s("172.16.0.1")), Value::Bool(true));
        assert_eq!(ipv4_is_private(&s("172.32.0.1")), Value::Bool(false));
        assert_eq!(ipv4_is_private(&s("202.1.2.3")), Value::Bool(false));
        assert_eq!(ipv4_is_private(&s("127.0.0.1")), Value::Bool(false));
        assert_eq!(ipv4_is_private(&s("nope")), Value::Null);
        assert_eq!(ipv4_netmask_suffix(&s("10.0.0.0/8")), Value::Int(8));
        assert_eq!(ipv4_netmask_suffix(&s("10.0.0.0")), Value::Int(32));
    }

    #[test]
    fn format_follows_reference_examples() {
        assert_eq!(format_ipv4(&[s("192.168.1.1"), l(24)]), s("192.168.1.0"));
        assert_eq!(format_ipv4(&[s("192.168.1.1"), l(32)]), s("192.168.1.1"));
        assert_eq!(format_ipv4(&[s("192.168.1.1/24"), l(32)]), s("192.168.1.0"));
        assert_eq!(format_ipv4(&[s("192.168.1.1/24"), l(-1)]), s(""));
        assert_eq!(
            format_ipv4_mask(&[s("192.168.1.1"), l(24)]),
            s("192.168.1.0/24")
        );
        assert_eq!(
            format_ipv4_mask(&[s("192.168.1.1/24"), l(32)]),
            s("192.168.1.0/24")
        );
        assert_eq!(format_ipv4_mask(&[s("192.168.1.1/24"), l(-1)]), s(""));
        assert_eq!(format_ipv4(&[l(3232235777)]), s("192.168.1.1"));
        assert_eq!(format_ipv4_mask(&[l(3232235777)]), s("192.168.1.1/32"));
        assert_eq!(format_ipv4(&[l(-1)]), s(""));
        assert_eq!(format_ipv4(&[Value::Null]), s(""));
    }

    #[test]
    fn has_ipv4_follows_reference_examples() {
        let log = s("05:04:54 127.0.0.1 GET /favicon.ico 404");
        assert_eq!(has_ipv4(&log, &s("127.0.0.1")), Value::Bool(true));
        assert_eq!(
            has_ipv4(&s("05:04:54 127.0.0.256 GET"), &s("127.0.0.256")),
            Value::Bool(false)
        );
        assert_eq!(
            has_ipv4(&s("05:04:54127.0.0.1 GET"), &s("127.0.0.1")),
            Value::Bool(false)
        );
        assert_eq!(
            has_ipv4(&s("from 10.1.1.1."), &s("10.1.1.1")),
            Value::Bool(true)
        );
        assert_eq!(
            has_ipv4(&s("v1.10.1.1.1"), &s("10.1.1.1")),
            Value::Bool(false)
        );
        assert_eq!(has_ipv4(&s("1.2.3.4.5"), &s("1.2.3.4")), Value::Bool(false));
        assert_eq!(has_ipv4_prefix(&log, &s("127.0.")), Value::Bool(true));
        assert_eq!(has_ipv4_prefix(&log, &s("127.0")), Value::Bool(false));
        assert_eq!(
            has_ipv4_prefix(&s("05:04:54 127.0.0.256 GET"), &s("127.0.")),
            Value::Bool(false)
        );
        assert_eq!(
            has_ipv4_prefix(&s("05:04:54127.0.0.1 GET"), &s("127.0.")),
            Value::Bool(false)
        );
        assert_eq!(
            has_any_ipv4(&[log.clone(), s("127.0.0.1"), s("127.0.0.2")]),
            Value::Bool(true)
        );
        let list = parse_json_text(r#"["127.0.0.256", "192.168.1.1"]"#).unwrap_or_default();
        assert_eq!(
            has_any_ipv4(&[s("05:04:54 127.0.0.256 GET"), list]),
            Value::Bool(false)
        );
        assert_eq!(
            has_any_ipv4_prefix(&[log, s("10."), s("127.")]),
            Value::Bool(true)
        );
        assert_eq!(has_ipv4(&Value::Null, &s("1.1.1.1")), Value::Bool(false));
    }

    #[test]
    fn ipv6_follows_reference_examples() {
        assert_eq!(
            parse_ipv6(&s("192.168.255.255")),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ffff")
        );
        assert_eq!(
            parse_ipv6(&s("192.168.255.255/24")),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(
            parse_ipv6(&s("fe80::85d:e82c:9446:7994/120")),
            s("fe80:0000:0000:0000:085d:e82c:9446:7900")
        );
        assert_eq!(parse_ipv6(&s("nope")), s(""));
        assert_eq!(
            parse_ipv6_mask(&s("fe80::85d:e82c:9446:7994"), &l(120)),
            s("fe80:0000:0000:0000:085d:e82c:9446:7900")
        );
        assert_eq!(
            parse_ipv6_mask(&s("192.168.255.255"), &l(120)),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(
            parse_ipv6_mask(&s("192.168.255.255/24"), &l(124)),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(
            parse_ipv6_mask(&s("::192.168.255.255"), &l(128)),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ffff")
        );
        assert_eq!(
            parse_ipv6_mask(&s("::192.168.255.255/24"), &l(128)),
            s("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        let c = |a: &'static str, b: &'static str| ipv6_compare(&[s(a), s(b)]);
        assert_eq!(
            c("fe80::85d:e82c:9446:7994/120", "fe80::85d:e82c:9446:7998"),
            l(0)
        );
        assert_eq!(c("192.168.1.1", "::ffff:c0a8:0101"), l(0));
        assert_eq!(c("192.168.1.1/24", "::ffff:c0a8:01ff"), l(0));
        assert_eq!(c("::192.168.1.1/30", "192.168.1.255/24"), l(0));
        assert_eq!(c("::1", "::2"), l(-1));
        assert_eq!(
            ipv6_compare(&[
                s("fe80::85d:e82c:9446:7994"),
                s("fe80::85d:e82c:9446:7995"),
                l(127)
            ]),
            l(0)
        );
        assert_eq!(ipv6_compare(&[s("::1"), s("::1"), l(129)]), Value::Null);
        assert_eq!(
            ipv6_is_match(&[s("::ffff:c0a8:0101"), s("192.168.1.255"), l(120)]),
            Value::Bool(true)
        );
        assert_eq!(
            ipv6_is_in_range(&s("fe80::1"), &s("fe80::/16")),
            Value::Bool(true)
        );
        assert_eq!(
            ipv6_is_in_range(&s("fe81::1"), &s("fe80::/16")),
            Value::Bool(false)
        );
        assert_eq!(
            ipv6_is_in_any_range(&[s("fe80::1"), s("::1"), s("fe80::/16")]),
            Value::Bool(true)
        );
        assert_eq!(ipv6_is_in_any_range(&[s("bad"), s("::1")]), Value::Null);
    }
}
