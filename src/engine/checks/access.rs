//! What a user may do, asked of the API server's own authorizer: a SubjectAccessReview per
//! request, as `kubectl auth can-i --as` asks. RBAC is graded by its effect, never by the
//! Roles' YAML, so a learner's two Roles pass like one.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use crate::catalog::check::Request;
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    user: &str,
    groups: &[String],
    allowed: &[Request],
    denied: &[Request],
) -> CheckResult {
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let reviews: Api<SubjectAccessReview> = Api::all(client);
    let who = short_name(user);
    let asked = allowed
        .iter()
        .map(|r| (r, true))
        .chain(denied.iter().map(|r| (r, false)));
    for (request, want) in asked {
        let review = review(user, groups, request);
        let answer = match reviews.create(&PostParams::default(), &review).await {
            Ok(answer) => answer.status.unwrap_or_default(),
            Err(err) => return CheckResult::fault(check, &api::fault(&err)),
        };
        if answer.allowed != want {
            let can = if answer.allowed { "can" } else { "cannot" };
            let why = answer
                .reason
                .filter(|r| !r.is_empty())
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            return CheckResult::fail(check, format!("{who} {can} {}{why}", words(request)));
        }
    }
    CheckResult::pass(
        check,
        format!(
            "{who} may do exactly what was asked ({} allowed, {} denied requests checked)",
            allowed.len(),
            denied.len()
        ),
    )
}

/// The review for one request. A ServiceAccount also belongs to its groups, as its token
/// says, so permissions granted to `system:serviceaccounts:<namespace>` count.
fn review(user: &str, groups: &[String], request: &Request) -> SubjectAccessReview {
    let mut groups = groups.to_vec();
    if let Some(namespace) = user
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':').map(|(ns, _)| ns))
    {
        groups.push("system:serviceaccounts".into());
        groups.push(format!("system:serviceaccounts:{namespace}"));
    }
    groups.push("system:authenticated".into());
    let (resource, subresource) = match request.resource.split_once('/') {
        Some((resource, sub)) => (resource, Some(sub.to_string())),
        None => (request.resource.as_str(), None),
    };
    let (resource, group) = resource.split_once('.').unwrap_or((resource, ""));
    SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_string()),
            groups: Some(groups),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(request.verb.clone()),
                resource: Some(resource.to_string()),
                group: Some(group.to_string()),
                subresource,
                namespace: (!request.namespace.is_empty()).then(|| request.namespace.clone()),
                name: request.name.clone(),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    }
}

/// `ci-bot` for `system:serviceaccount:dev:ci-bot`.
fn short_name(user: &str) -> &str {
    user.rsplit(':').next().unwrap_or(user)
}

/// `list pods in `default``, `create clusterroles cluster-wide`.
pub fn words(request: &Request) -> String {
    let name = request
        .name
        .as_ref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let place = if request.namespace.is_empty() {
        "cluster-wide".to_string()
    } else {
        format!("in `{}`", request.namespace)
    };
    format!("{} {}{name} {place}", request.verb, request.resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(verb: &str, resource: &str, namespace: &str) -> Request {
        Request {
            verb: verb.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: None,
        }
    }

    #[test]
    fn a_service_account_is_asked_about_with_its_groups_and_the_resource_split_up() {
        let review = review(
            "system:serviceaccount:dev:ci-bot",
            &[],
            &request("get", "deployments.apps/scale", "dev"),
        );
        let spec = review.spec;
        assert_eq!(
            spec.groups.unwrap_or_default(),
            [
                "system:serviceaccounts",
                "system:serviceaccounts:dev",
                "system:authenticated"
            ]
        );
        let attributes = spec.resource_attributes.expect("attributes");
        assert_eq!(attributes.resource.as_deref(), Some("deployments"));
        assert_eq!(attributes.group.as_deref(), Some("apps"));
        assert_eq!(attributes.subresource.as_deref(), Some("scale"));
        assert_eq!(attributes.namespace.as_deref(), Some("dev"));
        assert_eq!(
            words(&request("list", "pods", "default")),
            "list pods in `default`"
        );
        assert_eq!(short_name("system:serviceaccount:dev:ci-bot"), "ci-bot");
    }
}
