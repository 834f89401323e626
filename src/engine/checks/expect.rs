//! Fields of an object and what they must be: a key path into the object's JSON, and an
//! expectation that accepts every spelling the API server accepts (`1Gi` is `1024Mi`).

use serde_json::Value;

use crate::catalog::check::Expect;
use crate::engine::keypath::{KeyPath, Segment};

/// The value at `path` in `value`, if there is one. A `[field=value]` selector may name a
/// nested field (`[persistentVolumeClaim.claimName=data]`).
pub fn resolve<'v>(value: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    path.0
        .iter()
        .try_fold(value, |value, segment| match segment {
            Segment::Key(key) => value.get(key),
            Segment::Index(index) => value.get(index),
            Segment::Select { field, value: want } => value.as_array()?.iter().find(|item| {
                field
                    .split('.')
                    .try_fold(*item, |v, key| v.get(key))
                    .is_some_and(|found| scalar_text(found).as_deref() == Some(want))
            }),
        })
        .filter(|found| !found.is_null())
}

/// Whether `found` meets `expect`; when not, what it is instead, in a learner's words.
pub fn meets(found: Option<&Value>, expect: &Expect) -> Result<String, String> {
    let shown = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (expect, found) {
        (Expect::Absent, None) => Ok("is not set".into()),
        (Expect::Absent, Some(value)) => Err(format!("is set to {}", shown(value))),
        (_, None) => Err("is not set".into()),
        (Expect::Present, Some(value)) => Ok(format!("is {}", shown(value))),
        (Expect::Equals(want), Some(value)) => {
            if equal(value, want) {
                Ok(format!("is {}", shown(value)))
            } else {
                Err(format!("is {}, not {}", shown(value), shown(want)))
            }
        }
        (Expect::Contains(want), Some(value)) => {
            let holds = match (value, want) {
                (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
                (Value::Array(items), want) => items.iter().any(|item| includes(item, want)),
                (value, want) => includes(value, want),
            };
            if holds {
                Ok(format!("includes {}", shown(want)))
            } else {
                Err(format!("is {}, without {}", shown(value), shown(want)))
            }
        }
        (Expect::Matches(pattern), Some(value)) => {
            let anchored = format!("^(?:{pattern})$");
            let regex = regex::Regex::new(&anchored)
                .map_err(|e| format!("cannot be compared: the lab's pattern is invalid: {e}"))?;
            let text = shown(value);
            if regex.is_match(&text) {
                Ok(format!("is {text}"))
            } else {
                Err(format!("is {text}, which does not match {pattern}"))
            }
        }
        (Expect::Quantity(want), Some(value)) => {
            let text = shown(value);
            match (quantity(&text), quantity(want)) {
                (Some(got), Some(expected)) if same_amount(got, expected) => {
                    Ok(format!("is {text}"))
                }
                (Some(_), Some(_)) => Err(format!("is {text}, not {want}")),
                (None, _) => Err(format!("is {text}, not a quantity")),
                (_, None) => Err(format!(
                    "cannot be compared: the lab's {want} is no quantity"
                )),
            }
        }
    }
}

/// The text of a string, number or boolean.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Equal values; a number equals its string spelling (`2` and `"2"`), as YAML authors mix them.
fn equal(value: &Value, want: &Value) -> bool {
    value == want || matches!((scalar_text(value), scalar_text(want)), (Some(a), Some(b)) if a == b)
}

/// Whether `value` includes `want`: every key of an object, recursively; equal otherwise.
pub fn includes(value: &Value, want: &Value) -> bool {
    match (value, want) {
        (Value::Object(fields), Value::Object(wanted)) => wanted
            .iter()
            .all(|(key, w)| fields.get(key).is_some_and(|v| includes(v, w))),
        (Value::Array(items), Value::Array(wanted)) => {
            wanted.iter().all(|w| items.iter().any(|v| includes(v, w)))
        }
        _ => equal(value, want),
    }
}

/// A Kubernetes quantity (`500m`, `1.5`, `2Gi`, `128974848`, `129e6`) as a number.
pub fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let power: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            10f64.powi(power)
        }
    };
    Some(number * scale)
}

/// Two quantities are the same amount (up to float rounding).
pub fn same_amount(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> KeyPath {
        KeyPath::parse(text).expect("a key path")
    }

    fn amount(text: &str) -> f64 {
        quantity(text).unwrap_or_else(|| panic!("{text} is a quantity"))
    }

    #[test]
    fn a_quantity_is_the_same_however_it_is_spelled() {
        for (a, b) in [
            ("1Gi", "1024Mi"),
            ("500m", "0.5"),
            ("2", "2000m"),
            ("1k", "1000"),
            ("129e6", "129M"),
        ] {
            assert!(same_amount(amount(a), amount(b)), "{a} = {b}");
        }
        assert!(!same_amount(amount("1G"), amount("1Gi")));
        assert_eq!(quantity("lots"), None);
        assert_eq!(quantity("1Xi"), None);
    }

    #[test]
    fn a_path_selects_list_items_by_a_nested_field() {
        let pod = json!({"spec": {"volumes": [
            {"name": "a", "emptyDir": {}},
            {"name": "b", "persistentVolumeClaim": {"claimName": "data"}},
        ]}});
        let found = resolve(
            &pod,
            &path("spec.volumes[persistentVolumeClaim.claimName=data].name"),
        );
        assert_eq!(found, Some(&json!("b")));
        assert_eq!(
            resolve(&pod, &path("spec.volumes[1].name")),
            Some(&json!("b"))
        );
        assert_eq!(resolve(&pod, &path("spec.volumes[name=c]")), None);
    }

    #[test]
    fn each_expectation_accepts_what_it_should_and_says_what_is_there() {
        let value = json!("registry.local/api:1.4.2");
        let ok = |expect: Expect| meets(Some(&value), &expect);
        assert!(ok(Expect::Equals(json!("registry.local/api:1.4.2"))).is_ok());
        assert_eq!(
            ok(Expect::Equals(json!("x"))),
            Err("is registry.local/api:1.4.2, not x".into())
        );
        assert!(ok(Expect::Contains(json!("api:1.4"))).is_ok());
        assert!(ok(Expect::Matches(r"registry\.local/api:1\.4\.\d+".into())).is_ok());
        assert!(ok(Expect::Matches("api".into())).is_err(), "matched whole");
        assert!(ok(Expect::Absent).is_err());
        assert!(meets(None, &Expect::Absent).is_ok());
        assert!(meets(None, &Expect::Present).is_err());
        assert!(meets(Some(&json!(2)), &Expect::Equals(json!("2"))).is_ok());
        assert!(meets(Some(&json!("2048Mi")), &Expect::Quantity("2Gi".into())).is_ok());

        let taints = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        let taint = json!({"key": "dedicated", "effect": "NoSchedule"});
        assert!(meets(Some(&taints), &Expect::Contains(taint)).is_ok());
        let other = json!({"key": "dedicated", "effect": "NoExecute"});
        assert!(meets(Some(&taints), &Expect::Contains(other)).is_err());
    }
}
