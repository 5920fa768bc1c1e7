//! Scenarios: what a simulated economy assumes, read from TOML (built in, or a file).

use serde::{Deserialize, Serialize};

use crate::{Result, SimError};

/// A scenario. (Skeleton: the full schema is being built.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Its name (`base`, a file's stem, ...).
    pub name: String,
    /// What it asks, in one or two sentences.
    pub description: String,
    /// Months simulated.
    pub months: u32,
}

impl Scenario {
    /// The names of the built-in scenarios.
    pub fn builtin_names() -> &'static [&'static str] {
        &[]
    }

    /// The built-in scenario `name`. Errors: [`SimError::Scenario`] naming the known ones.
    pub fn builtin(name: &str) -> Result<Scenario> {
        Err(SimError::Scenario(format!("no built-in scenario {name:?}")))
    }

    /// Parses a scenario from TOML. Errors: [`SimError::Scenario`] with the field's path.
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        toml::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))
    }

    /// The scenario as TOML (what the report shows).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| SimError::Scenario(e.to_string()))
    }

    /// The assumptions in words, one line each (for the report).
    pub fn assumptions(&self) -> Vec<String> {
        vec![format!("{} months", self.months)]
    }
}
