use crate::engine::cluster::Backend;
use crate::engine::edit::{self, Format};
use crate::engine::keypath::KeyPath;
use crate::engine::verdict::CheckResult;

/// A key of a TOML or YAML file has the given value.
pub async fn grade(
    backend: &dyn Backend,
    name: &str,
    file: &str,
    key: &str,
    equals: &serde_json::Value,
) -> CheckResult {
    let (Some(format), Ok(path)) = (Format::of(file), KeyPath::parse(key)) else {
        return CheckResult::invalid(name, format!("the lab's key {key} in {file} is not usable"));
    };
    let text = match backend.read_text(file).await {
        Ok(text) => text,
        Err(fault) => return CheckResult::fault(name, &fault),
    };
    match edit::get_key(&text, format, &path) {
        Ok(Some(value)) if &value == equals => CheckResult::pass(name, format!("{key} is {value}")),
        Ok(Some(value)) => CheckResult::fail(name, format!("{key} is {value}, not {equals}")),
        Ok(None) => CheckResult::fail(name, format!("{key} is not set")),
        Err(e) => CheckResult::fail(name, format!("{file}: {e}")),
    }
}
