//! The Rego input: the World, pre-joined and indexed in Rust, so that policies stay O(n).
//!
//! ```text
//! input.config.tiers      {"premium": {"producer": "silo", "consumer": "silo"}, ...}
//! input.config.pools      ["pool-*"]
//! input.tenants[_]        {id, tier, file, doc, kind, name, template, namespace,
//!                          namespace_path, values, values_path, id_path,
//!                          stem, name_path, release_name, release_name_path,
//!                          contract: {file, doc, drift}}
//!                          (`values`: the release's Helm values, whole when a `--policy`
//!                          package reads `input.tenants`; otherwise only `apps` and each
//!                          app's `enabled` and `envId`, all the embedded policies read)
//!                          (`contract.drift`: how the tenant differs from its tier template
//!                          rendered with its id, see `contract.rs`)
//! input.tier_templates[tier] {file, doc}
//! input.tenant_dirs[_]    {tier, dir, file}        (`tenants/<tier>/` folders, first file)
//! input.pools[id]         {id, file, doc}
//! input.resources[_]      {file, doc, kind, apiVersion, name, namespace, object}
//!                          (built only when a loaded policy reads it: `InputReads`)
//! input.infra.tenants[_]  {id, tier, file, path}   (from tenants.json)
//! input.infra.roles[_]    {name, prefixed, path, kind, subjects, pod_identity, instance,
//!                          tenant, provider_arn}   (Terraform, evaluated statically; an
//!                          unknown name or subject list is null; built only when a policy
//!                          other than the embedded ones reads `input.infra`)
//! ```
//!
//! The cross-repository facts (`irsa.rs`, `repos.rs`) point at their places with location
//! objects, `loc` below, which a finding names as its place (`{"at": loc, "rule": ...}`): either
//! `{file, doc, path, key}` (a node of a YAML/JSON document), `{file, span: [start, end]}` (byte
//! offsets: Terraform) or `{file, whole_file: true}`. Lists keep the order of the files, so
//! "the first" is `[0]`; a key marked `?` is left out where its value is unknown (or, for
//! `error`, where there is none).
//!
//! ```text
//! input.irsa.has_terraform / complete / deploys_anywhere
//!                          any Terraform found / no value deciding which roles exist is
//!                          unknown / Terraform deploys Kubernetes objects to unknown namespaces
//! input.irsa.terraform_namespaces[ns]   true  (Terraform deploys into them itself)
//! input.irsa.other_role_names[name]     true  (roles something not modelled may create)
//! input.irsa.accounts[account]          loc   (the AWS accounts the infra-repo uses)
//! input.irsa.roles[_]      {index, name?, prefixed, v6, kind, pod_identity, address,
//!                           subjects?: [{namespace, service_account, exact, text, wildcard,
//!                                        prefix_twice?}],
//!                           namespaces?, namespace_key?, at, trust_at, trust, instance_at}
//!                          (`kind` as findings name it; `trust_at`: where the trusted
//!                          subjects are written, `Role::trust_location`: the module's
//!                          `namespace_service_accounts` or the one `:sub` condition's values,
//!                          else the whole `assume_role_policy`;
//!                          `exact`: `StringEquals`, no wildcards;
//!                          `text`: `namespace:service_account`; `wildcard`: it has `*` or `?`;
//!                          `prefix_twice`: true when it says `system:serviceaccount:` twice,
//!                          read as namespace `system`;
//!                          `namespaces`: the subjects' namespaces, each once, sorted;
//!                          `trust`: a number per `trust_at`, equal for equal places, to
//!                          group by (cheaper to compare than the location object);
//!                          `namespace_key`: `[trust, ns]` when `namespaces` is `[ns]`)
//! input.irsa.roles_named[name]          [role]  (fixed names)
//! input.irsa.trusted_namespace_key[name]  [trust, ns]  (when every role so named has a known
//!                          trust and together they name one namespace `ns`: the first
//!                          role's `trust` and `ns`)
//! input.irsa.prefixed[name]             [role]  (`name_prefix` / v6 `use_name_prefix`)
//! input.irsa.skipped[name]  {address, switch, count_at, cause?: {var, value, at}}
//!                          (the first role of that name an instance does not create)
//! input.irsa.tenant_roles[tenant]       [name]  (the roles instantiated for the tenant)
//! input.irsa.providers[_]  [{value?, unknown, text, at, trust_at, kind}]
//!                          (per place a provider ARN is written: each value once, with the
//!                          first role using it; `value` is set for a known string)
//! input.irsa.pod_identities[_]  {namespace?, service_account?, role_name?,
//!                                address, at, role_at}
//! input.irsa.service_accounts[_]  {name, namespace?, tenant?, arn, account?, role?,
//!                          error?, unrendered?, at, named_at, namespace_at?, admitted?,
//!                          namespace_admitted?, trusted?, exact_wildcard?,
//!                          mismatch_msg?, mismatch_help?,
//!                          mismatch_trust_label?, mismatch_at?, mismatch_follows?,
//!                          namespace_wrong?,
//!                          namespace_key?, part}
//!                          (those with a role ARN; `at`: where the ARN comes from; `error`:
//!                          why the ARN does not parse; `unrendered`: true when the ARN holds
//!                          a placeholder, a `{` or a `<TOKEN>` / `__TOKEN__`; `admitted`:
//!                          whether a role named `role` trusts `namespace:name` as IAM
//!                          compares, unset when no such role or no namespace is known;
//!                          `namespace_admitted`: some ServiceAccount of the namespace;
//!                          `trusted`, when `admitted` is false: the subjects those roles
//!                          trust, each once, as `` `ns:sa` ``, sorted, joined with `, `;
//!                          `exact_wildcard`: true when one has a `*` or `?` compared with
//!                          `StringEquals`;
//!                          `mismatch_msg`, `mismatch_help`, `mismatch_trust_label`,
//!                          `mismatch_at`, when `admitted` is false: the irsa/trust-mismatch
//!                          finding's message (naming every subject those roles trust),
//!                          help, label at the first role's trust and place to change;
//!                          `mismatch_follows`, then: `tenant/namespace-mismatch` when that
//!                          place is the tenant's namespace and its own (`tenantId`) would be
//!                          trusted, else empty (the finding's `follows`);
//!                          `namespace_wrong`: true when the namespace is known and no
//!                          subject those roles trust is in it; then `namespace_key` is
//!                          `trusted_namespace_key[role]`;
//!                          `part`: a bucket, the same for every ServiceAccount a finding
//!                          may group or cite together, see `input/irsa.rs`)
//! input.irsa.subjects["ns:sa"]          true  (every ServiceAccount the apps-repo creates)
//! input.irsa.arn_roles[name]            true  (role names some ServiceAccount's ARN names)
//! input.irsa.namespace_users[ns]        i  (`service_accounts[i]` is its first ServiceAccount
//!                                           whose ARN names a role Terraform creates)
//! input.irsa_part?         {index, service_accounts: {i: sa}}  (only when the host evaluates
//!                          `irsa.rego` in parts: this part's ServiceAccounts, by their index
//!                          in `input.irsa.service_accounts`; see `evaluate_in_parts`)
//! input.repos.apps[id]     [{tier, at}]  (apps-repo tenant files, not templates; `at.file`
//!                          is the file)
//! input.repos.infra[id]    [{tier?, source, at, tier_at}]  (tenants.json entries
//!                          and tf-controller `Terraform` resources)
//! input.repos.first_listing?            {source, at}
//! input.repos.instances[id]             loc   (first module instance for the tenant)
//! input.repos.first_of_tier[tier]       loc   (first apps-repo tenant of the tier)
//! input.repos.file_stems[stem]          true  (files under `tenants/<folder>/`)
//! ```

mod convert;
mod irsa;
mod repos;

use super::contract;
use convert::Converter;
use foldhash::HashMap;
use gitops_lint_config::Config;
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::{FileId, PathSeg, Span};
use gitops_lint_model::{DocRef, Tenant, World};
use gitops_lint_syntax::pointer::Lookup;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Builds the input document for the policies, as the policy engine's values.
pub fn build(world: &World, config: &Config) -> regorus::Value {
    build_for(
        world,
        config,
        &super::InputReads {
            all: true,
            ..Default::default()
        },
    )
}

/// [`build`], leaving out `input.resources` when no loaded policy reads it, of the tenants'
/// `values` what only policies other than the embedded ones would read, when none is loaded
/// that reads `input.tenants` (see [`super::InputReads::whole_values`]), and `input.infra.roles`
/// when none reads `input.infra` ([`super::InputReads::infra_roles`]). A policy reads nothing
/// that is left out, so the results are the same.
pub fn build_for(world: &World, config: &Config, reads: &super::InputReads) -> regorus::Value {
    // Why joined: the four parts read the World only and do not depend on each other, and
    // each was built (and converted) on one core while the other waited.
    let ((mut input, resources), (irsa, repos)) = rayon::join(
        || {
            rayon::join(
                || without_resources(world, config, reads),
                || reads.reads("resources").then(|| resources(world)),
            )
        },
        || rayon::join(|| irsa::facts(world), || repos::facts(world)),
    );
    if let Ok(m) = input.as_object_mut() {
        if let Some(resources) = resources {
            m.insert(regorus::Value::from("resources"), resources);
        }
        m.insert(regorus::Value::from("irsa"), irsa);
        m.insert(regorus::Value::from("repos"), repos);
    }
    input
}

/// Builds the facts' values, allocating what repeats once: object keys, short words (tiers,
/// kinds, namespaces), file names, node paths and Terraform places (every instance of a module
/// shares its places). Why: the facts are hundreds of thousands of small values, and at that
/// count the allocator (and dropping it all again), not the work, is the cost. A value is
/// reference-counted, so a shared one costs a counter increment.
struct Builder<'w> {
    world: &'w World,
    /// Strings, each allocated once (the same table the JSON conversion uses).
    strings: Converter,
    // foldhash rather than SipHash, for the reason the converter's table is.
    files: HashMap<FileId, regorus::Value>,
    paths: HashMap<&'w [PathSeg], regorus::Value>,
    places: HashMap<&'w Location, regorus::Value>,
}

impl<'w> Builder<'w> {
    fn new(world: &'w World) -> Self {
        Builder {
            world,
            strings: Converter::default(),
            files: HashMap::default(),
            paths: HashMap::default(),
            places: HashMap::default(),
        }
    }

    /// A string that recurs (a key, a path segment, a tier, a namespace), allocated once.
    fn word(&mut self, text: &str) -> regorus::Value {
        self.strings.string(text)
    }

    /// An object from (key, value) pairs; a null value leaves its key out (the policies read
    /// a missing key as undefined), which keeps the objects small.
    fn object(
        &mut self,
        pairs: impl IntoIterator<Item = (&'static str, regorus::Value)>,
    ) -> regorus::Value {
        let map: BTreeMap<regorus::Value, regorus::Value> = pairs
            .into_iter()
            .filter(|(_, v)| *v != regorus::Value::Null)
            .map(|(k, v)| (self.word(k), v))
            .collect();
        regorus::Value::from(map)
    }

    /// A location as the finding contract reads it back (`super::to_location`).
    fn location(&mut self, at: &'w Location) -> regorus::Value {
        use regorus::Value as V;
        let file = self.file_name(at.file());
        match at {
            Location::Path { doc, path, key, .. } => {
                let path = match self.paths.get(path.as_slice()) {
                    Some(v) => v.clone(),
                    None => {
                        let v = V::from(
                            path.iter()
                                .map(|p| match p {
                                    PathSeg::Key(k) => self.word(k),
                                    PathSeg::Index(i) => V::from(*i),
                                })
                                .collect::<Vec<_>>(),
                        );
                        self.paths.insert(path, v.clone());
                        v
                    }
                };
                self.object([
                    ("file", file),
                    ("doc", V::from(*doc)),
                    ("path", path),
                    ("key", V::from(*key)),
                ])
            }
            Location::Span(span) => {
                if let Some(v) = self.places.get(at) {
                    return v.clone();
                }
                let v = self.span_in(file, span);
                self.places.insert(at, v.clone());
                v
            }
            Location::File(_) => self.object([("file", file), ("whole_file", V::from(true))]),
        }
    }

    /// A place found while the input is built (a trust entry inside its trust's place), not
    /// one of the World's: not cached, as those are few.
    fn span_location(&mut self, span: &Span) -> regorus::Value {
        let file = self.file_name(span.file);
        self.span_in(file, span)
    }

    /// A file's displayed name, made once per file.
    fn file_name(&mut self, file: FileId) -> regorus::Value {
        let world = self.world;
        self.files
            .entry(file)
            .or_insert_with(|| regorus::Value::from(world.file(file).display.as_str()))
            .clone()
    }

    /// `{"file": file, "span": [start, end]}`.
    fn span_in(&mut self, file: regorus::Value, span: &Span) -> regorus::Value {
        use regorus::Value as V;
        self.object([
            ("file", file),
            (
                "span",
                V::from(vec![V::from(span.start), V::from(span.end)]),
            ),
        ])
    }

    /// Lists keyed by a name, as an object.
    fn lists(&mut self, map: BTreeMap<&'w str, Vec<regorus::Value>>) -> regorus::Value {
        let map: BTreeMap<regorus::Value, regorus::Value> = map
            .into_iter()
            .map(|(k, v)| (self.word(k), regorus::Value::from(v)))
            .collect();
        regorus::Value::from(map)
    }
}

/// `input.resources`: every document with a `kind`. Why built straight into the engine's
/// values (and per file in parallel): going through a JSON copy of every document first cost a
/// deep clone and a drop of the whole apps-repo.
fn resources(world: &World) -> regorus::Value {
    let per_file: Vec<Vec<regorus::Value>> = world
        .yaml
        .par_iter()
        .zip(world.files.par_iter())
        .map_init(Converter::default, |convert, (docs, file)| {
            let mut out = Vec::new();
            for (d, doc) in docs.iter().enumerate() {
                let v = &doc.value;
                let Some(kind) = v.get("kind").and_then(Value::as_str) else {
                    continue;
                };
                let fields = json!({
                    "file": file.display,
                    "doc": d,
                    "kind": kind,
                    "apiVersion": v.get("apiVersion"),
                    "name": v.lookup("/metadata/name"),
                    "namespace": v.lookup("/metadata/namespace"),
                });
                if let Value::Object(fields) = &fields {
                    let object = convert.value(v);
                    out.push(convert.object(fields, Some(("object", object))));
                }
            }
            out
        })
        .collect();
    regorus::Value::from(per_file.into_iter().flatten().collect::<Vec<_>>())
}

/// Everything but `input.resources` and the cross-repository facts, as the engine's values.
fn without_resources(world: &World, config: &Config, reads: &super::InputReads) -> regorus::Value {
    let pools: Map<String, Value> = world
        .pools
        .iter()
        .map(|p| (p.id.clone(), json!(p)))
        .collect();
    // Why converted one by one: as one JSON list, the roles and the infra tenants (ten thousand
    // each at scale) were a copy of 22 MiB alive beside their conversion, at the run's peak.
    let mut convert = Converter::default();
    let mut infra_tenants = Vec::new();
    let mut json_files: Vec<_> = world.json.iter().collect();
    json_files.sort_by_key(|(id, _)| **id);
    for (id, value) in json_files {
        let file = world.file(*id);
        if !file.rel_path.ends_with("tenants.json") {
            continue;
        }
        for (i, entry) in value.as_array().into_iter().flatten().enumerate() {
            infra_tenants.push(convert.value(&json!({
                "id": entry.get("id"),
                "tier": entry.get("tier"),
                "file": file.display,
                "path": [i],
            })));
        }
    }
    let templates: BTreeMap<&str, &gitops_lint_model::Tenant> = world
        .tenants
        .iter()
        .filter(|t| t.template)
        .map(|t| (t.tier.as_str(), t))
        .collect();
    let mut template_docs = BTreeMap::new();
    for (tier, t) in &templates {
        if let Some(d) = contract::document(world, t) {
            template_docs.insert(*tier, d);
        }
    }
    // Every `<tier>_tenant_template.*` present, whether or not the config knows the tier.
    let mut tier_templates = Map::new();
    for f in world
        .files
        .iter()
        .filter(|f| f.kind == gitops_lint_core::source::FileKind::TierTemplate)
    {
        let name = f.rel_path.rsplit('/').next().unwrap_or("");
        if let Some((tier, _)) = name.split_once("_tenant_template.") {
            tier_templates
                .entry(tier.to_string())
                .or_insert_with(|| json!({"file": f.display, "doc": 0}));
        }
    }
    // Why parallel: one drift comparison and one conversion to the engine's values per tenant
    // (10,000 at scale); `collect` keeps the tenants' order. An array converts element by
    // element, so converting each tenant apart gives the same value.
    let tenants: Vec<regorus::Value> = world
        .tenants
        .par_iter()
        .map_init(Converter::default, |convert, t| {
            // The values converted from where they are: `tenant` leaves them out rather than
            // copy them.
            match tenant(world, t, &templates, &template_docs) {
                Value::Object(fields) => {
                    let values = if reads.whole_values() {
                        convert.value(&t.values)
                    } else {
                        convert.app_switches(&t.values)
                    };
                    convert.object(&fields, Some(("values", values)))
                }
                other => convert.value(&other),
            }
        })
        .collect();
    let roles = reads
        .infra_roles()
        .then(|| infra_roles(world, &mut convert));
    // Why moved in, not `json!`: the macro serializes its operands by reference, a deep clone
    // (and a drop of the originals).
    let mut input = Map::new();
    input.insert(
        "config".into(),
        json!({"tiers": config.tiers, "pools": config.pools}),
    );
    input.insert("tier_templates".into(), Value::Object(tier_templates));
    input.insert("tenant_dirs".into(), Value::Array(tenant_dirs(world)));
    input.insert("pools".into(), Value::Object(pools));
    let mut infra = BTreeMap::from([(
        convert.string("tenants"),
        regorus::Value::from(infra_tenants),
    )]);
    if let Some(roles) = roles {
        infra.insert(convert.string("roles"), regorus::Value::from(roles));
    }
    let mut input = convert.object(&input, None);
    if let Ok(m) = input.as_object_mut() {
        m.insert(convert.string("infra"), regorus::Value::from(infra));
        m.insert(convert.string("tenants"), regorus::Value::from(tenants));
    }
    input
}

/// `input.infra.roles`: the roles Terraform creates, as the engine's values.
fn infra_roles(world: &World, convert: &mut Converter) -> Vec<regorus::Value> {
    world
        .infra
        .roles
        .iter()
        .map(|r| {
            let instance = world.infra.instances.get(r.instance);
            convert.value(&json!({
                "name": r.name,
                "prefixed": r.prefixed,
                "path": r.path,
                "kind": format!("{:?}", r.kind),
                "subjects": r.subjects.as_ref().map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>()),
                "pod_identity": r.pod_identity,
                "instance": instance.map(|i| i.address.as_str()),
                "tenant": instance.and_then(|i| i.tenant.as_deref()),
                "provider_arn": r.provider_arn.as_ref().map(|o| o.text.as_str()),
            }))
        })
        .collect()
}

/// A [`Tenant`]'s fields for the input, borrowed, without its values (converted apart, see
/// [`without_resources`]).
#[derive(serde::Serialize)]
struct TenantFields<'t> {
    id: &'t str,
    tier: &'t str,
    file: &'t str,
    doc: usize,
    kind: &'t str,
    name: &'t Option<String>,
    template: bool,
    namespace: &'t Option<String>,
    namespace_path: &'t [PathSeg],
    values_path: &'t [PathSeg],
    id_path: &'t Option<Vec<PathSeg>>,
}

impl<'t> TenantFields<'t> {
    fn of(t: &'t Tenant) -> Self {
        // Destructured, so a field added to `Tenant` does not compile until it is placed here.
        let Tenant {
            id,
            tier,
            file,
            file_id: _,
            doc,
            kind,
            name,
            template,
            namespace,
            namespace_path,
            values: _,
            values_path,
            id_path,
        } = t;
        TenantFields {
            id,
            tier,
            file,
            doc: *doc,
            kind,
            name,
            template: *template,
            namespace,
            namespace_path,
            values_path,
            id_path,
        }
    }
}

/// One tenant with what the tier policies compare: names and their paths, and the contract.
fn tenant(
    world: &World,
    t: &Tenant,
    templates: &BTreeMap<&str, &Tenant>,
    template_docs: &BTreeMap<&str, Value>,
) -> Value {
    let mut v = json!(TenantFields::of(t));
    // A template's document with its placeholders unmasked (the names below are read as the
    // template spells them); a tenant's is read where it is, its values not put in place
    // (nothing read here is under them).
    let built;
    let document = if t.template {
        built = contract::document(world, t);
        built.as_ref()
    } else {
        world
            .doc(DocRef {
                file: t.file_id,
                doc: t.doc,
            })
            .map(|d| &d.value)
    };
    let (release_name, release_name_path) = match t.kind.as_str() {
        "HelmRelease" => (
            document
                .as_ref()
                .and_then(|d| d.lookup("/spec/releaseName"))
                .cloned(),
            json!(["spec", "releaseName"]),
        ),
        _ => (
            document
                .as_ref()
                .and_then(|d| d.lookup("/spec/source/helm/releaseName"))
                .cloned(),
            json!(["spec", "source", "helm", "releaseName"]),
        ),
    };
    let stem = world.file(t.file_id).stem();
    let Value::Object(m) = &mut v else {
        return v;
    };
    m.insert("stem".into(), json!(stem));
    m.insert("name_path".into(), json!(["metadata", "name"]));
    if let Some(name) = document.as_ref().and_then(|d| d.lookup("/metadata/name")) {
        // A template's name as the template spells it (`{TENANT_ID}-premium`).
        m.insert("name".into(), name.clone());
    }
    m.insert("release_name".into(), release_name.unwrap_or(Value::Null));
    m.insert("release_name_path".into(), release_name_path);
    if t.template {
        // The template's names with placeholders still masked (`_TENANT_ID_-premium`), exactly
        // as written, for comparing with the masked expectation.
        m.insert("raw_name".into(), json!(t.name));
        let raw = world
            .doc(DocRef {
                file: t.file_id,
                doc: t.doc,
            })
            .and_then(|d| {
                d.value
                    .lookup("/spec/source/helm/releaseName")
                    .or_else(|| d.value.lookup("/spec/releaseName"))
                    .cloned()
            });
        m.insert("raw_release_name".into(), raw.unwrap_or(Value::Null));
    }
    // Only a tenant of the template's own shape (same kind, values in the same place) was
    // rendered from it; another shape (a Flux tenant beside Argo CD templates) is not compared.
    let same_shape = |tpl: &Tenant| tpl.kind == t.kind && tpl.values_path == t.values_path;
    if !t.template {
        if let (Some(tpl), Some(tdoc)) = (
            templates.get(t.tier.as_str()).filter(|tpl| same_shape(tpl)),
            template_docs.get(t.tier.as_str()),
        ) {
            if let Some(drift) = contract::tenant_drift(world, t, tdoc) {
                m.insert(
                    "contract".into(),
                    json!({"file": tpl.file, "doc": tpl.doc, "drift": drift}),
                );
            }
        }
    }
    v
}

/// `tenants/<tier>/` folders (any depth), each with its first YAML file (where a finding about
/// the folder is shown).
fn tenant_dirs(world: &World) -> Vec<Value> {
    let mut dirs: BTreeMap<(String, String), String> = BTreeMap::new();
    // A folder that holds only pools (`tenants/basic/pool-1.yaml`) holds no tenants.
    let pools: std::collections::BTreeSet<&str> =
        world.pools.iter().map(|p| p.file.as_str()).collect();
    for f in &world.files {
        if !f.kind.is_yaml()
            || f.kind == gitops_lint_core::source::FileKind::Kustomization
            || pools.contains(f.display.as_str())
        {
            continue;
        }
        let segs: Vec<&str> = f.rel_path.split('/').collect();
        let n = segs.len();
        if n >= 3 && segs[n - 3] == "tenants" {
            let dir = segs[..n - 1].join("/");
            let display = f.display.clone();
            dirs.entry((segs[n - 2].to_string(), dir))
                .or_insert(display);
        }
    }
    dirs.into_iter()
        .map(|((tier, dir), file)| json!({"tier": tier, "dir": dir, "file": file}))
        .collect()
}
