//! The sync options Argo CD reads, where it reads them, and their values (Argo CD
//! `controller/sync.go` and `gitops-engine/pkg/sync/sync_context.go`; user guide "Sync Options").
//! Matching is exact and case-sensitive, as `SyncOptions.HasOption` does
//! (`pkg/apis/application/v1alpha1/types.go`).

/// Where an option is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `spec.syncPolicy.syncOptions` of an Application.
    App,
    /// The `argocd.argoproj.io/sync-options` annotation of a resource.
    Resource,
}

/// One option key: the values that change something, the default (writing it is a harmless
/// no-op), and where the code reads it.
struct Opt {
    key: &'static str,
    values: &'static [&'static str],
    default: Option<&'static str>,
    app: bool,
    resource: bool,
}

const OPTIONS: &[Opt] = &[
    Opt {
        key: "CreateNamespace",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: false,
    },
    Opt {
        key: "PruneLast",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: true,
    },
    Opt {
        key: "ServerSideApply",
        values: &["true", "false"],
        default: None,
        app: true,
        resource: true,
    },
    Opt {
        key: "Replace",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: true,
    },
    Opt {
        key: "ApplyOutOfSyncOnly",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: false,
    },
    Opt {
        key: "PrunePropagationPolicy",
        values: &["foreground", "background", "orphan"],
        default: None,
        app: true,
        resource: false,
    },
    // Per resource since the 3.x docs (`sync-options.md`: the annotation overrides the app
    // setting either way); an older controller ignores it there, which is harmless.
    Opt {
        key: "RespectIgnoreDifferences",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: true,
    },
    Opt {
        key: "FailOnSharedResource",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: false,
    },
    Opt {
        key: "Validate",
        values: &["false"],
        default: Some("true"),
        app: true,
        resource: true,
    },
    Opt {
        key: "SkipDryRunOnMissingResource",
        values: &["true"],
        default: Some("false"),
        app: true,
        resource: true,
    },
    Opt {
        key: "Prune",
        values: &["false", "confirm"],
        default: Some("true"),
        app: true,
        resource: true,
    },
    Opt {
        key: "Delete",
        values: &["false", "confirm"],
        default: Some("true"),
        app: true,
        resource: true,
    },
    Opt {
        key: "ClientSideApplyMigration",
        values: &["false"],
        default: Some("true"),
        app: true,
        resource: false,
    },
    Opt {
        key: "Force",
        values: &["true"],
        default: Some("false"),
        app: false,
        resource: true,
    },
];

/// What an option string is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Read where it is written (or the default, a harmless no-op).
    Ok,
    /// A real option, but the code never reads it in this place.
    WrongPlace,
    /// Not an option: silently ignored. Carries the nearest exact spelling, if any.
    Unknown(Option<String>),
}

/// Classifies one option string written at `place`.
pub fn classify(option: &str, place: Place) -> Verdict {
    let (key, value) = option.split_once('=').unwrap_or((option, ""));
    if let Some(opt) = OPTIONS.iter().find(|o| o.key == key) {
        if opt.values.contains(&value) || opt.default == Some(value) {
            let read = match place {
                Place::App => opt.app,
                Place::Resource => opt.resource,
            };
            if read || opt.default == Some(value) {
                return Verdict::Ok;
            }
            return Verdict::WrongPlace;
        }
    }
    Verdict::Unknown(suggest(option))
}

/// The exact spelling of an option written with other case or spaces (`createNamespace = True`).
fn suggest(option: &str) -> Option<String> {
    let squashed: String = option.chars().filter(|c| !c.is_whitespace()).collect();
    let (key, value) = squashed.split_once('=').unwrap_or((&squashed, ""));
    let opt = OPTIONS.iter().find(|o| o.key.eq_ignore_ascii_case(key))?;
    let value = opt
        .values
        .iter()
        .chain(opt.default.iter())
        .find(|v| v.eq_ignore_ascii_case(value))
        .copied()
        .unwrap_or(opt.values[0]);
    Some(format!("{}={value}", opt.key))
}

/// Every option Argo CD reads at `place`, for help lines.
pub fn known(place: Place) -> String {
    OPTIONS
        .iter()
        .filter(|o| match place {
            Place::App => o.app,
            Place::Resource => o.resource,
        })
        .map(|o| format!("`{}={}`", o.key, o.values.join("|")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_case_sensitive() {
        assert_eq!(classify("CreateNamespace=true", Place::App), Verdict::Ok);
        assert_eq!(classify("CreateNamespace=false", Place::App), Verdict::Ok);
        assert_eq!(
            classify("CreateNamespace=True", Place::App),
            Verdict::Unknown(Some("CreateNamespace=true".into()))
        );
        assert_eq!(
            classify("createNamespace = true", Place::App),
            Verdict::Unknown(Some("CreateNamespace=true".into()))
        );
        assert_eq!(classify("Force=true", Place::App), Verdict::WrongPlace);
        assert_eq!(
            classify("CreateNamespace=true", Place::Resource),
            Verdict::WrongPlace
        );
        assert_eq!(classify("Force=true", Place::Resource), Verdict::Ok);
        assert_eq!(classify("Bogus=1", Place::App), Verdict::Unknown(None));
        // opt-outs of an app-wide option on one resource are the default value: fine anywhere
        for opt in [
            "RespectIgnoreDifferences=true",
            "RespectIgnoreDifferences=false",
            "Replace=false",
            "ApplyOutOfSyncOnly=false",
            "ServerSideApply=false",
            "ClientSideApplyMigration=true",
        ] {
            assert_eq!(classify(opt, Place::Resource), Verdict::Ok, "{opt}");
        }
        assert_eq!(
            classify("ApplyOutOfSyncOnly=true", Place::Resource),
            Verdict::WrongPlace
        );
    }
}
