//! Findings: what a rule reports, where, and how to fix it.

use crate::catalog::RuleId;
use crate::source::{FileId, PathSeg, Span};
use serde::Serialize;
use std::fmt;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; never fails a run unless `--fail-on info`.
    Info,
    /// Probably wrong.
    Warning,
    /// Wrong: fails the gate by default.
    Error,
}

impl Level {
    /// Parses `error`, `warning` (or `warn`), `info`.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warning" | "warn" => Some(Level::Warning),
            "info" => Some(Level::Info),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding points: a span already known, or a node path resolved at report time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// An exact byte range.
    Span(Span),
    /// A node in a YAML/JSON document; `key` points at the key instead of the value.
    Path {
        /// The file.
        file: FileId,
        /// Document index in the file.
        doc: usize,
        /// Path from the document root.
        path: Vec<PathSeg>,
        /// Point at the mapping key rather than the value.
        key: bool,
    },
    /// A whole file (no better place is known).
    File(FileId),
}

impl Location {
    /// A path location pointing at the value.
    pub fn value(file: FileId, doc: usize, path: Vec<PathSeg>) -> Self {
        Location::Path {
            file,
            doc,
            path,
            key: false,
        }
    }

    /// A path location pointing at the key.
    pub fn key(file: FileId, doc: usize, path: Vec<PathSeg>) -> Self {
        Location::Path {
            file,
            doc,
            path,
            key: true,
        }
    }

    /// The file this location is in.
    pub fn file(&self) -> FileId {
        match self {
            Location::Span(s) => s.file,
            Location::Path { file, .. } | Location::File(file) => *file,
        }
    }

    /// The span of a resolved location; an unresolved one is the start of its file.
    pub fn resolved_span(&self) -> Span {
        match self {
            Location::Span(s) => *s,
            other => Span {
                file: other.file(),
                start: 0,
                end: 0,
            },
        }
    }
}

/// A secondary place that explains the finding ("the tenantId is set here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub location: Location,
    /// What it shows.
    pub message: String,
}

/// One problem found by a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule id, `family/name`.
    pub rule: RuleId,
    /// Level after configuration.
    pub level: Level,
    /// What is wrong, where, and what the right value would be.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The primary place.
    pub primary: Location,
    /// Secondary places.
    pub related: Vec<Related>,
    /// The level was chosen by the rule for this finding (one rule, two consequences: e.g. an
    /// unknown parameter is an error where Argo CD fails and a warning where it renders the
    /// text verbatim); the catalog default then does not replace it, the config still does.
    pub level_chosen: bool,
    /// The rule whose finding at the same place, when there is one, is this finding's root
    /// cause (a tenant deployed to the wrong namespace, and so not trusted by its roles):
    /// `report::resolve` then folds this finding into that one (`folded`).
    pub follows: Option<RuleId>,
    /// Findings of other rules folded into this one, which is their root cause (`follows`).
    /// The message already says what they are; a suppression of this finding lets them out
    /// again, on their own (`gate::suppress::apply`).
    pub folded: Vec<Finding>,
    /// The help to show instead of `help` once findings that follow this one are folded into
    /// it: the one fix that resolves them too, where `help` also offers another that would not
    /// (`tenant/namespace-mismatch`: deploy to the tenant's namespace; fixing `tenantId`
    /// instead would leave the roles' trust wrong).
    pub help_when_folded: Option<String>,
}

impl Finding {
    /// A finding with the rule's default level (adjusted later from the catalog and config).
    pub fn new(rule: RuleId, message: impl Into<String>, primary: Location) -> Self {
        Finding {
            rule,
            level: Level::Error,
            message: message.into(),
            help: None,
            primary,
            related: Vec::new(),
            level_chosen: false,
            follows: None,
            folded: Vec::new(),
            help_when_folded: None,
        }
    }

    /// Sets this finding's level instead of the rule's default (the config still overrides).
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self.level_chosen = true;
        self
    }

    /// Marks `rule`'s finding at the same place, when there is one, as this one's root cause.
    pub fn following(mut self, rule: RuleId) -> Self {
        self.follows = Some(rule);
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related place.
    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }
}
