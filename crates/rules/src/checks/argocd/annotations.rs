//! Argo CD resource annotations: `sync-wave` must be an integer, `hook`
//! and `hook-delete-policy` take only the values gitops-engine knows, and `sync-options` only
//! the options it reads on a resource. A wrong value is silently ignored by Argo CD (a typo in
//! `hook` even means the resource is never applied). Non-string values are `schema/invalid-type`.
//! Upstream: Argo CD `gitops-engine/pkg/sync/`: `syncwaves/waves.go` (`Wave`), `common/types.go`
//! (`NewHookType`, `NewHookDeletePolicy`), `hook/hook.go` (`IsHook`), `sync_phase.go`
//! (`syncPhases`), `resource/annotations.go` (`GetAnnotationCSVs`).

use super::options::{classify, known, Place, Verdict};
use super::{templated, AppFindings};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_model::apps::AppOrigin;
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use serde_json::{Map, Value};

const WAVE: &str = "argocd.argoproj.io/sync-wave";
const HOOK: &str = "argocd.argoproj.io/hook";
const DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
const HOOKS: &[&str] = &[
    "PreSync",
    "Sync",
    "PostSync",
    "SyncFail",
    "Skip",
    "PreDelete",
    "PostDelete",
];
const POLICIES: &[&str] = &["HookSucceeded", "HookFailed", "BeforeHookCreation"];
/// `helm.sh/hook` values gitops-engine maps to a phase (`hook/helm/type.go`; the delete ones
/// since PreDelete/PostDelete hooks exist). They are used only when no Argo value is valid.
const HELM_HOOKS: &[&str] = &[
    "pre-install",
    "pre-upgrade",
    "post-install",
    "post-upgrade",
    "pre-delete",
    "post-delete",
];

/// Runs the annotation checks over every manifest document and every generated Application.
pub fn check(world: &World, found: &mut AppFindings) {
    let mut out = Vec::new();
    for file in world.files.iter().filter(|f| f.kind == FileKind::Manifest) {
        let docs = world
            .yaml
            .get(file.id.0 as usize)
            .map_or(&[][..], Vec::as_slice);
        for (d, doc) in docs.iter().enumerate() {
            let Some(ann) = doc
                .value
                .lookup("/metadata/annotations")
                .and_then(Value::as_object)
            else {
                continue;
            };
            let id: FileId = file.id;
            let place = |key: &str| {
                Location::value(
                    id,
                    d,
                    vec![
                        PathSeg::Key("metadata".into()),
                        PathSeg::Key("annotations".into()),
                        PathSeg::Key(key.into()),
                    ],
                )
            };
            check_annotations(ann, &place, "", &mut out);
        }
    }
    found.extend(out);
    for app in world.applications() {
        if matches!(app.origin, AppOrigin::Written(_)) {
            continue; // checked above as a manifest document
        }
        let Some(ann) = app
            .value
            .lookup("/metadata/annotations")
            .and_then(Value::as_object)
        else {
            continue;
        };
        let place = |key: &str| {
            app.location(&[
                PathSeg::Key("metadata".into()),
                PathSeg::Key("annotations".into()),
                PathSeg::Key(key.into()),
            ])
        };
        found.about(&app, |out| {
            check_annotations(ann, &place, &app.context(), out)
        });
    }
}

/// Go `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits that fit.
fn atoi(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

fn close<'a>(value: &str, known: &[&'a str]) -> Option<&'a str> {
    let squash = |s: &str| s.replace(['-', '_', ' '], "").to_ascii_lowercase();
    let v = squash(value);
    if v.is_empty() {
        return None;
    }
    known
        .iter()
        .find(|k| squash(k) == v)
        .or_else(|| known.iter().find(|k| squash(k).starts_with(&v)))
        .copied()
}

fn check_annotations(
    ann: &Map<String, Value>,
    place: &dyn Fn(&str) -> Location,
    context: &str,
    out: &mut Vec<Finding>,
) {
    if let Some(Value::String(wave)) = ann.get(WAVE) {
        if !templated(wave) && !atoi(wave) {
            let fixed = wave
                .trim()
                .split('.')
                .next()
                .filter(|s| atoi(s))
                .map(str::to_string);
            out.push(
                Finding::new(
                    RuleId::ARGOCD_ANNOTATION_SYNC_WAVE,
                    format!(
                        "sync wave `{wave}` is not an integer, so Argo CD silently puts this resource in wave 0 (or its `helm.sh/hook-weight`){context}"
                    ),
                    place(WAVE),
                )
                .with_help(match fixed {
                    Some(f) => format!("write a whole number as a string, such as `\"{f}\"` (a sign and digits only, no spaces)"),
                    None => "write a whole number as a string, such as `\"-1\"` or `\"5\"` (a sign and digits only, no spaces)".to_string(),
                }),
            );
        }
    }
    if let Some(Value::String(hook)) = ann.get(HOOK) {
        if !templated(hook) {
            let items: Vec<&str> = hook.split(',').map(str::trim).collect();
            let valid = items.iter().any(|i| HOOKS.contains(i));
            // With no valid Argo value, `hook.Types` falls back to the Helm hook annotation.
            let helm = ann
                .get("helm.sh/hook")
                .and_then(Value::as_str)
                .filter(|h| h.split(',').map(str::trim).any(|i| HELM_HOOKS.contains(&i)));
            let no_phase = match helm {
                Some(h) => format!("with no valid value, Argo CD falls back to `helm.sh/hook: {h}` and ignores this annotation"),
                None => "with no valid value, the resource counts as a hook that runs in no phase: Argo CD never applies it and reports nothing".to_string(),
            };
            for item in items
                .iter()
                .filter(|i| !i.is_empty() && !HOOKS.contains(*i))
            {
                let consequence = if valid {
                    "it is ignored"
                } else {
                    no_phase.as_str()
                };
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_ANNOTATION_HOOK,
                        format!("`{item}` is not an Argo CD hook type ({}){}; {consequence}{context}", HOOKS.join(", "), close(item, HOOKS).map(|c| format!(": write `{c}`")).unwrap_or_default()),
                        place(HOOK),
                    )
                    .with_help("hook types are exact and case-sensitive: PreSync, Sync, PostSync, SyncFail, Skip, PreDelete, PostDelete"),
                );
            }
            if !valid && helm.is_none() && items.iter().all(|i| i.is_empty()) {
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_ANNOTATION_HOOK,
                        format!("`{HOOK}` is empty: the resource counts as a hook that runs in no phase, so Argo CD never applies it{context}"),
                        place(HOOK),
                    )
                    .with_help("name the phase (`PreSync`, `Sync`, `PostSync`, ...) or remove the annotation"),
                );
            }
        }
    }
    if let Some(Value::String(policy)) = ann.get(DELETE_POLICY) {
        if !templated(policy) {
            // `hook.DeletePolicies` adds the Helm policies to the valid Argo ones and falls back
            // to BeforeHookCreation only when there are none at all.
            let helm = ann
                .get("helm.sh/hook-delete-policy")
                .and_then(Value::as_str)
                .is_some_and(|h| {
                    h.split(',').map(str::trim).any(|i| {
                        ["hook-succeeded", "hook-failed", "before-hook-creation"].contains(&i)
                    })
                });
            let valid = helm
                || policy
                    .split(',')
                    .map(str::trim)
                    .any(|i| POLICIES.contains(&i));
            let fallback = if valid {
                ""
            } else {
                " (with no valid value it uses BeforeHookCreation)"
            };
            for item in policy
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty() && !POLICIES.contains(i))
            {
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_ANNOTATION_HOOK,
                        format!(
                            "`{item}` is not a hook delete policy ({}){}; Argo CD ignores it{fallback}{context}",
                            POLICIES.join(", "),
                            close(item, POLICIES).map(|c| format!(": write `{c}`")).unwrap_or_default()
                        ),
                        place(DELETE_POLICY),
                    )
                    .with_help("delete policies are exact and case-sensitive: HookSucceeded, HookFailed, BeforeHookCreation"),
                );
            }
        }
    }
    if let Some(Value::String(options)) = ann.get(SYNC_OPTIONS) {
        if !templated(options) {
            for item in options.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                match classify(item, Place::Resource) {
                    Verdict::Ok => {}
                    Verdict::WrongPlace => out.push(
                        Finding::new(
                            RuleId::ARGOCD_SYNC_OPTION_WRONG_PLACE,
                            format!("`{item}` has no effect in a resource's `{SYNC_OPTIONS}` annotation: Argo CD reads it only from an Application's `spec.syncPolicy.syncOptions`{context}"),
                            place(SYNC_OPTIONS),
                        )
                        .with_help(format!("move `{item}` to the `syncPolicy.syncOptions` of the Application that deploys this resource")),
                    ),
                    Verdict::Unknown(s) => out.push(
                        Finding::new(
                            RuleId::ARGOCD_ANNOTATION_SYNC_OPTIONS,
                            format!(
                                "`{item}` is not a sync option Argo CD reads on a resource; options are exact, case-sensitive strings and an unknown one is silently ignored{}{context}",
                                s.map(|s| format!(": write `{s}`")).unwrap_or_default()
                            ),
                            place(SYNC_OPTIONS),
                        )
                        .with_help(format!("resource sync options (comma-separated): {}", known(Place::Resource))),
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_go() {
        for ok in ["-1", "+2", "007", "0"] {
            assert!(atoi(ok), "{ok}");
        }
        for bad in [" 1", "1.0", "", "-", "one", "99999999999999999999"] {
            assert!(!atoi(bad), "{bad}");
        }
    }
}
