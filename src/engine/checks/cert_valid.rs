use std::time::{Duration, SystemTime};

use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// A certificate is valid now and for `days` more days, and signed by `ca`.
pub async fn grade(
    backend: &dyn Backend,
    name: &str,
    cert: &str,
    ca: &str,
    days: u32,
) -> CheckResult {
    let (cert_pem, ca_pem) = match (backend.read(cert).await, backend.read(ca).await) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(fault), _) | (_, Err(fault)) => return CheckResult::fault(name, &fault),
    };
    let info = match crate::pki::inspect(&cert_pem) {
        Ok(info) => info,
        Err(e) => return CheckResult::fail(name, format!("{cert} is not a certificate: {e}")),
    };
    let now = SystemTime::now();
    let until = now + Duration::from_secs(u64::from(days) * 86_400);
    let end = jiff::Timestamp::try_from(info.not_after)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    if info.not_after < now {
        return CheckResult::fail(name, format!("{cert} expired on {end}"));
    }
    if info.not_before > now {
        return CheckResult::fail(name, format!("{cert} is not valid yet"));
    }
    if info.not_after < until {
        return CheckResult::fail(name, format!("{cert} expires on {end}, within {days} days"));
    }
    match crate::pki::signed_by(&cert_pem, &ca_pem) {
        Ok(true) => CheckResult::pass(name, format!("{cert} is valid until {end}, signed by {ca}")),
        Ok(false) => CheckResult::fail(
            name,
            format!("{cert} is not signed by {ca} (issuer: {})", info.issuer_cn),
        ),
        Err(e) => CheckResult::fail(name, e.to_string()),
    }
}
