//! Unit conversions: `convert_angle`, `convert_energy`, `convert_force`,
//! `convert_length`, `convert_mass`, `convert_speed`, `convert_temperature`
//! and `convert_volume` (`convert-*-function.md`).
//!
//! The unit names are exactly those the reference lists for each function
//! (case-sensitive, as written there: `KiloPond`, `DecausGallon`); an
//! unknown unit, a null or non-numeric value gives null. Kusto takes these
//! units and their definitions from the UnitsNet library of mid-2022 (the
//! lists match it name for name: `Tilt`, `DataMile`, the old `AcreFoot`), so
//! kqlc uses the same definitions and computes the same way: the value goes
//! to the quantity's base unit (degree, joule, newton, metre, kilogram,
//! metre per second, kelvin, cubic metre) and from there to the target unit,
//! each step in UnitsNet's order of operations, a metric prefix applied
//! after (to the base) or before (from it) the unit's own formula. The
//! reference's examples give the same numbers (`1.2` metres is
//! `3.93700787401575` feet), except `convert_temperature`'s, which
//! `docs/semantics.md` discusses.

// The constants are UnitsNet's literals, digit for digit, so that they round
// to the same doubles as in Kusto.
#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

use super::real_arg;
use crate::value::Value;

/// One arithmetic step of a conversion formula.
#[derive(Clone, Copy)]
enum Step {
    Mul(f64),
    Div(f64),
}

use Step::{Div, Mul};

/// A unit of a linear quantity: the steps to the base unit and back.
struct Linear {
    name: &'static str,
    to_base: &'static [Step],
    from_base: &'static [Step],
    /// The metric prefixes the unit takes (`Kilo` makes `Kilometer`).
    prefixes: &'static [Prefix],
}

#[derive(Clone, Copy)]
enum Prefix {
    Nano,
    Micro,
    Milli,
    Centi,
    Deci,
    Deca,
    Hecto,
    Kilo,
    Mega,
    Giga,
    Tera,
}

use Prefix::{Centi, Deca, Deci, Giga, Hecto, Kilo, Mega, Micro, Milli, Nano, Tera};

impl Prefix {
    fn name(self) -> &'static str {
        match self {
            Nano => "Nano",
            Micro => "Micro",
            Milli => "Milli",
            Centi => "Centi",
            Deci => "Deci",
            Deca => "Deca",
            Hecto => "Hecto",
            Kilo => "Kilo",
            Mega => "Mega",
            Giga => "Giga",
            Tera => "Tera",
        }
    }

    fn factor(self) -> f64 {
        match self {
            Nano => 1e-9,
            Micro => 1e-6,
            Milli => 1e-3,
            Centi => 1e-2,
            Deci => 1e-1,
            Deca => 1e1,
            Hecto => 1e2,
            Kilo => 1e3,
            Mega => 1e6,
            Giga => 1e9,
            Tera => 1e12,
        }
    }
}

const fn unit(name: &'static str, to_base: &'static [Step], from_base: &'static [Step]) -> Linear {
    Linear {
        name,
        to_base,
        from_base,
        prefixes: &[],
    }
}

const fn prefixed(
    name: &'static str,
    to_base: &'static [Step],
    from_base: &'static [Step],
    prefixes: &'static [Prefix],
) -> Linear {
    Linear {
        name,
        to_base,
        from_base,
        prefixes,
    }
}

const BASE: &[Step] = &[];

fn apply(x: f64, steps: &[Step]) -> f64 {
    steps.iter().fold(x, |x, step| match *step {
        Mul(k) => x * k,
        Div(k) => x / k,
    })
}

/// A unit found by name: its formulas and its prefix factor (1 without).
struct Found<'a> {
    unit: &'a Linear,
    prefix: Option<f64>,
}

impl Found<'_> {
    fn to_base(&self, x: f64) -> f64 {
        let y = apply(x, self.unit.to_base);
        self.prefix.map_or(y, |p| y * p)
    }
    fn out_of_base(&self, y: f64) -> f64 {
        let x = apply(y, self.unit.from_base);
        self.prefix.map_or(x, |p| x / p)
    }
}

/// The unit called `name`: a unit's own name, or a prefix it takes followed
/// by its name with the first letter in lower case (`Kilo` + `pound`).
fn find<'a>(units: &'a [Linear], name: &str) -> Option<Found<'a>> {
    units.iter().find_map(|unit| {
        if unit.name == name {
            return Some(Found { unit, prefix: None });
        }
        unit.prefixes.iter().find_map(|prefix| {
            let rest = name.strip_prefix(prefix.name())?;
            let mut rest_chars = rest.chars();
            let mut unit_chars = unit.name.chars();
            let first_matches = rest_chars.next()? == unit_chars.next()?.to_ascii_lowercase();
            (first_matches && rest_chars.as_str() == unit_chars.as_str()).then_some(Found {
                unit,
                prefix: Some(prefix.factor()),
            })
        })
    })
}

fn convert_linear(units: &[Linear], value: &Value, from: &Value, to: &Value) -> Value {
    let (Some(x), Some(from), Some(to)) = (real_arg(value), from.as_str(), to.as_str()) else {
        return Value::Null;
    };
    match (find(units, from), find(units, to)) {
        (Some(from), Some(to)) => Value::Real(to.out_of_base(from.to_base(x))),
        _ => Value::Null,
    }
}

const PI: f64 = std::f64::consts::PI;

/// Base unit: the degree. `Tilt` is not linear and is handled apart.
static ANGLE: &[Linear] = &[
    prefixed(
        "Radian",
        &[Mul(180.0), Div(PI)],
        &[Div(180.0), Mul(PI)],
        &[Nano, Micro, Milli, Centi, Deci],
    ),
    prefixed("Degree", BASE, BASE, &[Nano, Micro, Milli]),
    unit("Arcminute", &[Div(60.0)], &[Mul(60.0)]),
    unit("Arcsecond", &[Div(3600.0)], &[Mul(3600.0)]),
    unit("Gradian", &[Mul(0.9)], &[Div(0.9)]),
    unit("NatoMil", &[Mul(9.0), Div(160.0)], &[Mul(160.0), Div(9.0)]),
    unit("Revolution", &[Mul(360.0)], &[Div(360.0)]),
];

/// `convert_angle(value, from, to)`: units of the reference's list; `Tilt`
/// is the sine of the angle (so a tilt outside -1..1 gives NaN).
pub fn convert_angle(value: &Value, from: &Value, to: &Value) -> Value {
    let (Some(x), Some(from_name), Some(to_name)) = (real_arg(value), from.as_str(), to.as_str())
    else {
        return Value::Null;
    };
    let degrees = if from_name == "Tilt" {
        x.asin() * 180.0 / PI
    } else {
        match find(ANGLE, from_name) {
            Some(unit) => unit.to_base(x),
            None => return Value::Null,
        }
    };
    if to_name == "Tilt" {
        return Value::Real((degrees / 180.0 * PI).sin());
    }
    match find(ANGLE, to_name) {
        Some(unit) => Value::Real(unit.out_of_base(degrees)),
        None => Value::Null,
    }
}

/// Base unit: the joule.
static ENERGY: &[Linear] = &[
    prefixed("Joule", BASE, BASE, &[Milli, Kilo, Mega, Giga]),
    prefixed("Calorie", &[Mul(4.184)], &[Div(4.184)], &[Kilo, Mega]),
    prefixed(
        "BritishThermalUnit",
        &[Mul(1055.05585262)],
        &[Div(1055.05585262)],
        &[Kilo, Mega, Giga],
    ),
    prefixed(
        "ElectronVolt",
        &[Mul(1.602176565e-19)],
        &[Div(1.602176565e-19)],
        &[Kilo, Mega, Giga, Tera],
    ),
    unit("FootPound", &[Mul(1.355817948)], &[Div(1.355817948)]),
    unit("Erg", &[Mul(1e-7)], &[Div(1e-7)]),
    prefixed(
        "WattHour",
        &[Mul(3600.0)],
        &[Div(3600.0)],
        &[Kilo, Mega, Giga, Tera],
    ),
    prefixed(
        "WattDay",
        &[Mul(24.0), Mul(3600.0)],
        &[Div(24.0 * 3600.0)],
        &[Kilo, Mega, Giga, Tera],
    ),
    prefixed(
        "ThermEc",
        &[Mul(1.05505585262e8)],
        &[Div(1.05505585262e8)],
        &[Deca],
    ),
    prefixed("ThermUs", &[Mul(1.054804e8)], &[Div(1.054804e8)], &[Deca]),
    prefixed(
        "ThermImperial",
        &[Mul(1.05505585257348e8)],
        &[Div(1.05505585257348e8)],
        &[Deca],
    ),
    unit(
        "HorsepowerHour",
        &[Mul(2.6845195377e6)],
        &[Div(2.6845195377e6)],
    ),
];

/// Base unit: the newton.
static FORCE: &[Linear] = &[
    unit("Dyn", &[Div(1e5)], &[Mul(1e5)]),
    unit(
        "KilogramForce",
        &[Mul(9.80665002864)],
        &[Div(9.80665002864)],
    ),
    unit(
        "TonneForce",
        &[Mul(9.80665002864e3)],
        &[Div(9.80665002864e3)],
    ),
    prefixed("Newton", BASE, BASE, &[Micro, Milli, Deca, Kilo, Mega]),
    unit("KiloPond", &[Mul(9.80665002864)], &[Div(9.80665002864)]),
    unit(
        "Poundal",
        &[Mul(0.13825502798973041652092282466083)],
        &[Div(0.13825502798973041652092282466083)],
    ),
    prefixed(
        "PoundForce",
        &[Mul(4.4482216152605095551842641431421)],
        &[Div(4.4482216152605095551842641431421)],
        &[Kilo],
    ),
    unit(
        "OunceForce",
        &[Mul(2.780138509537812e-1)],
        &[Div(2.780138509537812e-1)],
    ),
    unit(
        "ShortTonForce",
        &[Mul(8.896443230521e3)],
        &[Div(8.896443230521e3)],
    ),
];

/// Base unit: the metre.
static LENGTH: &[Linear] = &[
    prefixed(
        "Meter",
        BASE,
        BASE,
        &[Nano, Micro, Milli, Centi, Deci, Deca, Hecto, Kilo],
    ),
    unit("Mile", &[Mul(1609.34)], &[Div(1609.34)]),
    unit("Yard", &[Mul(0.9144)], &[Div(0.9144)]),
    unit("Foot", &[Mul(0.3048)], &[Div(0.3048)]),
    unit(
        "UsSurveyFoot",
        &[Mul(1200.0), Div(3937.0)],
        &[Mul(3937.0), Div(1200.0)],
    ),
    unit("Inch", &[Mul(2.54e-2)], &[Div(2.54e-2)]),
    unit("Mil", &[Mul(2.54e-5)], &[Div(2.54e-5)]),
    unit("NauticalMile", &[Mul(1852.0)], &[Div(1852.0)]),
    unit("Fathom", &[Mul(1.8288)], &[Div(1.8288)]),
    unit("Shackle", &[Mul(27.432)], &[Div(27.432)]),
    unit("Microinch", &[Mul(2.54e-8)], &[Div(2.54e-8)]),
    unit(
        "PrinterPoint",
        &[Div(72.27), Mul(2.54e-2)],
        &[Div(2.54e-2), Mul(72.27)],
    ),
    unit(
        "DtpPoint",
        &[Div(72.0), Mul(2.54e-2)],
        &[Div(2.54e-2), Mul(72.0)],
    ),
    unit("PrinterPica", &[Div(237.106301584)], &[Mul(237.106301584)]),
    unit("DtpPica", &[Div(236.220472441)], &[Mul(236.220472441)]),
    unit("Twip", &[Div(56692.913385826)], &[Mul(56692.913385826)]),
    unit("Hand", &[Mul(1.016e-1)], &[Div(1.016e-1)]),
    unit(
        "AstronomicalUnit",
        &[Mul(1.4959787070e11)],
        &[Div(1.4959787070e11)],
    ),
    prefixed(
        "Parsec",
        &[Mul(3.08567758128e16)],
        &[Div(3.08567758128e16)],
        &[Kilo, Mega],
    ),
    prefixed(
        "LightYear",
        &[Mul(9.46073047258e15)],
        &[Div(9.46073047258e15)],
        &[Kilo, Mega],
    ),
    unit("SolarRadius", &[Mul(6.95510000e8)], &[Div(6.95510000e8)]),
    unit("Chain", &[Mul(20.1168)], &[Div(20.1168)]),
    unit("Angstrom", &[Mul(1e-10)], &[Div(1e-10)]),
    unit("DataMile", &[Mul(1828.8)], &[Div(1828.8)]),
];

/// Base unit: the kilogram.
static MASS: &[Linear] = &[
    prefixed(
        "Gram",
        &[Div(1e3)],
        &[Mul(1e3)],
        &[Nano, Micro, Milli, Centi, Deci, Deca, Hecto, Kilo],
    ),
    prefixed("Tonne", &[Mul(1e3)], &[Div(1e3)], &[Kilo, Mega]),
    unit("ShortTon", &[Mul(9.0718474e2)], &[Div(9.0718474e2)]),
    unit("LongTon", &[Mul(1.0160469088e3)], &[Div(1.0160469088e3)]),
    prefixed(
        "Pound",
        &[Mul(0.45359237)],
        &[Div(0.45359237)],
        &[Kilo, Mega],
    ),
    unit("Ounce", &[Div(35.2739619)], &[Mul(35.2739619)]),
    unit(
        "Slug",
        &[Div(6.852176556196105e-2)],
        &[Mul(6.852176556196105e-2)],
    ),
    unit(
        "Stone",
        &[Div(0.1574731728702698)],
        &[Mul(0.1574731728702698)],
    ),
    unit(
        "ShortHundredweight",
        &[Div(0.022046226218487758)],
        &[Mul(0.022046226218487758)],
    ),
    unit(
        "LongHundredweight",
        &[Div(0.01968413055222121)],
        &[Mul(0.01968413055222121)],
    ),
    unit(
        "Grain",
        &[Div(15432.358352941431)],
        &[Mul(15432.358352941431)],
    ),
    unit("SolarMass", &[Mul(1.98947e30)], &[Div(1.98947e30)]),
    unit("EarthMass", &[Mul(5.9722e24)], &[Div(5.9722e24)]),
];

/// Base unit: the metre per second.
static SPEED: &[Linear] = &[
    prefixed(
        "MeterPerSecond",
        BASE,
        BASE,
        &[Nano, Micro, Milli, Centi, Deci, Kilo],
    ),
    prefixed(
        "MeterPerMinute",
        &[Div(60.0)],
        &[Mul(60.0)],
        &[Nano, Micro, Milli, Centi, Deci, Kilo],
    ),
    prefixed(
        "MeterPerHour",
        &[Div(3600.0)],
        &[Mul(3600.0)],
        &[Milli, Centi, Kilo],
    ),
    unit("FootPerSecond", &[Mul(0.3048)], &[Div(0.3048)]),
    unit(
        "FootPerMinute",
        &[Mul(0.3048), Div(60.0)],
        &[Div(0.3048), Mul(60.0)],
    ),
    unit(
        "FootPerHour",
        &[Mul(0.3048), Div(3600.0)],
        &[Div(0.3048), Mul(3600.0)],
    ),
    unit(
        "UsSurveyFootPerSecond",
        &[Mul(1200.0), Div(3937.0)],
        &[Mul(3937.0), Div(1200.0)],
    ),
    unit(
        "UsSurveyFootPerMinute",
        &[Mul(1200.0), Div(3937.0), Div(60.0)],
        &[Mul(3937.0), Div(1200.0), Mul(60.0)],
    ),
    unit(
        "UsSurveyFootPerHour",
        &[Mul(1200.0), Div(3937.0), Div(3600.0)],
        &[Mul(3937.0), Div(1200.0), Mul(3600.0)],
    ),
    unit("InchPerSecond", &[Mul(2.54e-2)], &[Div(2.54e-2)]),
    unit(
        "InchPerMinute",
        &[Div(60.0), Mul(2.54e-2)],
        &[Div(2.54e-2), Mul(60.0)],
    ),
    unit(
        "InchPerHour",
        &[Div(3600.0), Mul(2.54e-2)],
        &[Div(2.54e-2), Mul(3600.0)],
    ),
    unit("YardPerSecond", &[Mul(0.9144)], &[Div(0.9144)]),
    unit(
        "YardPerMinute",
        &[Mul(0.9144), Div(60.0)],
        &[Div(0.9144), Mul(60.0)],
    ),
    unit(
        "YardPerHour",
        &[Mul(0.9144), Div(3600.0)],
        &[Div(0.9144), Mul(3600.0)],
    ),
    unit("Knot", &[Mul(0.514444)], &[Div(0.514444)]),
    unit("MilePerHour", &[Mul(0.44704)], &[Div(0.44704)]),
];

/// Base unit: the cubic metre.
static VOLUME: &[Linear] = &[
    prefixed(
        "Liter",
        &[Div(1e3)],
        &[Mul(1e3)],
        &[Micro, Milli, Centi, Deci, Deca, Hecto, Kilo, Mega],
    ),
    prefixed("CubicMeter", BASE, BASE, &[Hecto, Kilo]),
    unit("CubicKilometer", &[Mul(1e9)], &[Div(1e9)]),
    unit("CubicHectometer", &[Mul(1e6)], &[Div(1e6)]),
    unit("CubicDecimeter", &[Div(1e3)], &[Mul(1e3)]),
    unit("CubicCentimeter", &[Div(1e6)], &[Mul(1e6)]),
    unit("CubicMillimeter", &[Div(1e9)], &[Mul(1e9)]),
    unit("CubicMicrometer", &[Div(1e18)], &[Mul(1e18)]),
    unit(
        "CubicMile",
        &[Mul(4.16818182544058e9)],
        &[Div(4.16818182544058e9)],
    ),
    unit("CubicYard", &[Mul(0.764554858)], &[Div(0.764554858)]),
    prefixed(
        "CubicFoot",
        &[Mul(2.8316846592e-2)],
        &[Div(2.8316846592e-2)],
        &[Hecto, Kilo, Mega],
    ),
    unit(
        "CubicInch",
        &[Mul(1.6387), Mul(1e-5)],
        &[Div(1.6387 * 1e-5)],
    ),
    prefixed(
        "ImperialGallon",
        &[Mul(0.00454609000000181429905810072407)],
        &[Div(0.00454609000000181429905810072407)],
        &[Kilo, Mega],
    ),
    unit(
        "ImperialOunce",
        &[Mul(2.8413062499962901241875439064617e-5)],
        &[Div(2.8413062499962901241875439064617e-5)],
    ),
    prefixed(
        "UsGallon",
        &[Mul(0.00378541)],
        &[Div(0.00378541)],
        &[Deca, Deci, Hecto, Kilo, Mega],
    ),
    unit(
        "UsOunce",
        &[Mul(2.957352956253760505068307980135e-5)],
        &[Div(2.957352956253760505068307980135e-5)],
    ),
    unit(
        "UsTablespoon",
        &[Mul(1.478676478125e-5)],
        &[Div(1.478676478125e-5)],
    ),
    unit("AuTablespoon", &[Mul(2e-5)], &[Div(2e-5)]),
    unit("UkTablespoon", &[Mul(1.5e-5)], &[Div(1.5e-5)]),
    unit("MetricTeaspoon", &[Mul(0.5e-5)], &[Div(0.5e-5)]),
    unit(
        "UsTeaspoon",
        &[Mul(4.92892159375e-6)],
        &[Div(4.92892159375e-6)],
    ),
    unit("MetricCup", &[Mul(0.00025)], &[Div(0.00025)]),
    unit(
        "UsCustomaryCup",
        &[Mul(0.0002365882365)],
        &[Div(0.0002365882365)],
    ),
    unit("UsLegalCup", &[Mul(0.00024)], &[Div(0.00024)]),
    unit("OilBarrel", &[Mul(0.158987294928)], &[Div(0.158987294928)]),
    unit("UsBeerBarrel", &[Mul(0.1173477658)], &[Div(0.1173477658)]),
    unit("ImperialBeerBarrel", &[Mul(0.16365924)], &[Div(0.16365924)]),
    unit("UsQuart", &[Mul(9.46352946e-4)], &[Div(9.46352946e-4)]),
    unit("UsPint", &[Mul(4.73176473e-4)], &[Div(4.73176473e-4)]),
    unit("AcreFoot", &[Div(0.000810714)], &[Mul(0.000810714)]),
    unit("ImperialPint", &[Mul(5.6826125e-4)], &[Div(5.6826125e-4)]),
    unit(
        "BoardFoot",
        &[Mul(2.3597372158e-3)],
        &[Div(2.3597372158e-3)],
    ),
];

/// `convert_energy(value, from, to)`.
pub fn convert_energy(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(ENERGY, value, from, to)
}

/// `convert_force(value, from, to)`.
pub fn convert_force(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(FORCE, value, from, to)
}

/// `convert_length(value, from, to)`.
pub fn convert_length(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(LENGTH, value, from, to)
}

/// `convert_mass(value, from, to)`.
pub fn convert_mass(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(MASS, value, from, to)
}

/// `convert_speed(value, from, to)`.
pub fn convert_speed(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(SPEED, value, from, to)
}

/// `convert_volume(value, from, to)`.
pub fn convert_volume(value: &Value, from: &Value, to: &Value) -> Value {
    convert_linear(VOLUME, value, from, to)
}

/// A temperature in `unit` as kelvins.
fn kelvins_from(unit: &str, x: f64) -> Option<f64> {
    Some(match unit {
        "Kelvin" => x,
        "DegreeCelsius" => x + 273.15,
        "MillidegreeCelsius" => x / 1000.0 + 273.15,
        "DegreeDelisle" => x * -2.0 / 3.0 + 373.15,
        "DegreeFahrenheit" => x * 5.0 / 9.0 + 459.67 * 5.0 / 9.0,
        "DegreeNewton" => x * 100.0 / 33.0 + 273.15,
        "DegreeRankine" => x * 5.0 / 9.0,
        "DegreeReaumur" => x * 5.0 / 4.0 + 273.15,
        "DegreeRoemer" => x * 40.0 / 21.0 + 273.15 - 7.5 * 40.0 / 21.0,
        "SolarTemperature" => x * 5778.0,
        _ => return None,
    })
}

/// A temperature in kelvins as `unit`.
fn kelvins_to(unit: &str, k: f64) -> Option<f64> {
    Some(match unit {
        "Kelvin" => k,
        "DegreeCelsius" => k - 273.15,
        "MillidegreeCelsius" => (k - 273.15) * 1000.0,
        "DegreeDelisle" => (k - 373.15) * -3.0 / 2.0,
        "DegreeFahrenheit" => (k - 459.67 * 5.0 / 9.0) * 9.0 / 5.0,
        "DegreeNewton" => (k - 273.15) * 33.0 / 100.0,
        "DegreeRankine" => k * 9.0 / 5.0,
        "DegreeReaumur" => (k - 273.15) * 4.0 / 5.0,
        "DegreeRoemer" => (k - (273.15 - 7.5 * 40.0 / 21.0)) * 21.0 / 40.0,
        "SolarTemperature" => k / 5778.0,
        _ => return None,
    })
}

/// `convert_temperature(value, from, to)`: the temperature, not a
/// difference of temperatures (`0` `DegreeCelsius` is `273.15` `Kelvin`), as
/// the page's text says; see `docs/semantics.md` for its example.
pub fn convert_temperature(value: &Value, from: &Value, to: &Value) -> Value {
    let (Some(x), Some(from), Some(to)) = (real_arg(value), from.as_str(), to.as_str()) else {
        return Value::Null;
    };
    kelvins_from(from, x)
        .and_then(|k| kelvins_to(to, k))
        .map_or(Value::Null, Value::Real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(
        f: fn(&Value, &Value, &Value) -> Value,
        x: f64,
        from: &'static str,
        to: &'static str,
    ) -> Value {
        f(
            &Value::Real(x),
            &Value::from_static(from),
            &Value::from_static(to),
        )
    }

    #[test]
    fn prefixed_names_lower_the_unit_initial() {
        assert_eq!(
            convert(convert_mass, 1.0, "Kilopound", "Pound"),
            Value::Real(1000.0)
        );
        assert_eq!(
            convert(convert_volume, 1.0, "DecausGallon", "UsGallon"),
            Value::Real(10.0)
        );
        assert_eq!(
            convert(convert_length, 1.0, "KiloMeter", "Meter"),
            Value::Null
        );
        assert_eq!(convert(convert_length, 1.0, "Kilo", "Meter"), Value::Null);
    }

    #[test]
    fn reference_examples_match() {
        assert_eq!(
            convert(convert_length, 1.2, "Meter", "Foot"),
            Value::Real(1.2 / 0.3048)
        );
        assert_eq!(
            convert(convert_angle, 1.2, "Degree", "Arcminute"),
            Value::Real(72.0)
        );
        assert_eq!(
            convert(convert_speed, 1.2, "MeterPerSecond", "CentimeterPerHour"),
            Value::Real(432000.0)
        );
        assert_eq!(
            convert(convert_temperature, 0.0, "DegreeCelsius", "Kelvin"),
            Value::Real(273.15)
        );
    }

    #[test]
    fn unknown_units_and_nulls_give_null() {
        assert_eq!(convert(convert_energy, 1.0, "Joule", "joule"), Value::Null);
        assert_eq!(
            convert_force(
                &Value::Null,
                &Value::from_static("Newton"),
                &Value::from_static("Dyn")
            ),
            Value::Null
        );
        assert_eq!(convert(convert_angle, 1.0, "Tilt", "Celsius"), Value::Null);
    }
}
