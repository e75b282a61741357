//! The gate: what turns raw findings into the verdict of a run. Levels from the catalog and the
//! config ([`levels`]), suppressions ([`suppress`]), baselines ([`baseline`]) and changed-only
//! filtering ([`changes`]). It judges nothing itself: every finding it adds is about a
//! suppression.

pub mod baseline;
pub mod changes;
pub mod levels;
pub mod suppress;
