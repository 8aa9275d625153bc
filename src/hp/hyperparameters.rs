//! KerasTuner's `HyperParameters`: the search space (every hp seen so far, in the order first
//! seen, so a parent always precedes the hps it conditions) and the current trial's values.
//!
//! A hypermodel's `build(hp)` calls the value creators (`hp.int(...)...get()`); the first call
//! on a fresh container registers the hp and returns its default, and inside a trial the
//! oracle has pre-filled the values with [`HyperParameters::set_value`].

use super::hyperparameter::{Condition, HpKind, HyperParameter, Sampling};
use super::value::{Value, Values};
use crate::error::{Error, Result};
use serde_json::json;

/// The search space and the current values.
#[derive(Clone, Debug)]
pub struct HyperParameters {
    /// Every hp, in registration order. Shared between copies (every trial of a search holds
    /// the same space) and copied only when one of them changes it.
    space: std::sync::Arc<Vec<HyperParameter>>,
    /// Current values by name, in assignment order (KerasTuner's `values` dict).
    values: Values,
    /// Open `name_scope`s, outermost first.
    name_scopes: Vec<String>,
    /// Open `conditional_scope`s, outermost first.
    conditions: Vec<Condition>,
    /// Condition stacks of the conditional scopes entered while active.
    active_scopes: Vec<Vec<Condition>>,
    /// Condition stacks of the conditional scopes entered while inactive.
    inactive_scopes: Vec<Vec<Condition>>,
    /// When false, registering an hp that is not in the space yet is an error.
    pub allow_new_entries: bool,
    /// When false, an hp that is not in the space yet joins it as `Fixed` at its default.
    pub tune_new_entries: bool,
    /// Names of the hps read since [`HyperParameters::clear_accessed`], in first-read order:
    /// what a model build actually used.
    accessed: Vec<String>,
}

impl Default for HyperParameters {
    fn default() -> Self {
        HyperParameters {
            space: std::sync::Arc::new(Vec::new()),
            values: Values::new(),
            name_scopes: Vec::new(),
            conditions: Vec::new(),
            active_scopes: Vec::new(),
            inactive_scopes: Vec::new(),
            allow_new_entries: true,
            tune_new_entries: true,
            accessed: Vec::new(),
        }
    }
}

/// The parent condition a builder's `.parent(...)` asks for.
type ParentSpec = Option<(String, Vec<Value>)>;

impl HyperParameters {
    /// An empty space; both `allow_new_entries` and `tune_new_entries` on.
    pub fn new() -> Self {
        Self::default()
    }

    /// An integer hp; finish with `.get()`.
    pub fn int(&mut self, name: &str, min_value: i64, max_value: i64) -> IntHp<'_> {
        IntHp {
            hps: self,
            name: name.to_string(),
            min_value,
            max_value,
            step: None,
            sampling: Sampling::Linear,
            default: None,
            parent: None,
        }
    }

    /// A float hp; finish with `.get()`.
    pub fn float(&mut self, name: &str, min_value: f64, max_value: f64) -> FloatHp<'_> {
        FloatHp {
            hps: self,
            name: name.to_string(),
            min_value,
            max_value,
            step: None,
            sampling: Sampling::Linear,
            default: None,
            parent: None,
        }
    }

    /// A choice among `values` (all of one type); finish with `.get()`.
    pub fn choice(&mut self, name: &str, values: Vec<Value>) -> ChoiceHp<'_> {
        ChoiceHp {
            hps: self,
            name: name.to_string(),
            values,
            ordered: None,
            default: None,
            parent: None,
        }
    }

    /// A boolean hp (default False); finish with `.get()`.
    pub fn boolean(&mut self, name: &str) -> BooleanHp<'_> {
        BooleanHp {
            hps: self,
            name: name.to_string(),
            default: false,
            parent: None,
        }
    }

    /// A fixed, untuned value; finish with `.get()`.
    pub fn fixed(&mut self, name: &str, value: impl Into<Value>) -> FixedHp<'_> {
        FixedHp {
            hps: self,
            name: name.to_string(),
            value: value.into(),
            parent: None,
        }
    }

    /// `name` inside the open name scopes: `"scope1/scope2/name"`.
    fn scoped_name(&self, name: &str) -> String {
        if self.name_scopes.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.name_scopes.join("/"))
        }
    }

    /// The registered hp with this name and these conditions.
    fn find(&self, name: &str, conditions: &[Condition]) -> Option<&HyperParameter> {
        self.space
            .iter()
            .find(|hp| hp.same_identity(name, conditions))
    }

    /// What every value creator does: prefixes the open name scopes, adds the open
    /// conditional scopes' conditions, standardizes and validates, registers the hp if no hp
    /// with the same name and conditions exists, and returns its value.
    ///
    /// The value is the current one when the hp is active and has one; an active hp without
    /// one gets its default, recorded. An inactive hp returns its default and records nothing
    /// (KerasTuner returns `None` there; use the builders' `get_active` to tell). With
    /// `allow_new_entries` off a new hp is an error; with `tune_new_entries` off it joins
    /// the space as `Fixed` at its default.
    pub fn register(&mut self, hp: HyperParameter) -> Result<Value> {
        self.register_full(hp).map(|(v, _)| v)
    }

    /// [`HyperParameters::register`], also telling whether the hp is active.
    fn register_full(&mut self, mut hp: HyperParameter) -> Result<(Value, bool)> {
        hp.name = self.scoped_name(&hp.name);
        let mut conditions = self.conditions.clone();
        conditions.append(&mut hp.conditions);
        hp.conditions = conditions;
        let hp = hp.normalized()?;
        if !self.accessed.contains(&hp.name) {
            self.accessed.push(hp.name.clone());
        }
        if let Some(existing) = self.find(&hp.name, &hp.conditions) {
            let default = existing.default_value();
            if !existing.is_active(&self.values) {
                return Ok((default, false));
            }
            if let Some(v) = self.values.get(&hp.name) {
                return Ok((v.clone(), true));
            }
            self.values.set(hp.name.clone(), default.clone());
            return Ok((default, true));
        }
        if !self.allow_new_entries {
            return Err(Error::state(format!(
                "`allow_new_entries` is `False`, but found new entries [{}]",
                hp.repr()
            )));
        }
        let hp = if self.tune_new_entries {
            hp
        } else {
            HyperParameter {
                kind: HpKind::Fixed {
                    value: hp.default_value(),
                },
                default: None,
                ..hp
            }
        };
        Ok(self.insert(hp, false))
    }

    /// Appends `hp` to the space; when active, sets its default unless a value is there
    /// (or `overwrite`). Returns its value and whether it is active.
    fn insert(&mut self, hp: HyperParameter, overwrite: bool) -> (Value, bool) {
        let name = hp.name.clone();
        let default = hp.default_value();
        let active = hp.is_active(&self.values);
        std::sync::Arc::make_mut(&mut self.space).push(hp);
        if !active {
            return (default, false);
        }
        if overwrite || !self.values.contains(&name) {
            self.values.set(name.clone(), default.clone());
        }
        (self.values.get(&name).cloned().unwrap_or(default), true)
    }

    /// Registers `hp` inside `parent`'s conditional scope when there is one (the builders'
    /// `.parent(...)`, KerasTuner's `parent_name`/`parent_values`).
    fn register_with_parent(
        &mut self,
        hp: HyperParameter,
        parent: ParentSpec,
    ) -> Result<(Value, bool)> {
        match parent {
            Some((name, values)) if !name.is_empty() => {
                self.conditional_scope(&name, values, |h| h.register_full(hp))
            }
            _ => self.register_full(hp),
        }
    }

    /// Runs `f` with hps created inside it active only when `parent_name`'s value is one of
    /// `parent_values`. The parent must already be registered under the same open
    /// conditional scopes (KerasTuner looks it up with the current conditions), otherwise:
    /// "`HyperParameter` named: {parent_name} not defined.". Scopes nest; their conditions
    /// AND together.
    pub fn conditional_scope<R>(
        &mut self,
        parent_name: &str,
        parent_values: Vec<Value>,
        f: impl FnOnce(&mut Self) -> Result<R>,
    ) -> Result<R> {
        self.enter_conditional_scope(parent_name, parent_values)?;
        let out = f(self);
        self.exit_conditional_scope();
        out
    }

    /// Opens a conditional scope (see [`HyperParameters::conditional_scope`]); for callers that
    /// cannot pass a closure (JavaScript). Close it with `exit_conditional_scope`.
    pub fn enter_conditional_scope(
        &mut self,
        parent_name: &str,
        parent_values: Vec<Value>,
    ) -> Result<()> {
        let full = self.scoped_name(parent_name);
        if self.find(&full, &self.conditions).is_none() {
            return Err(Error::state(format!(
                "`HyperParameter` named: {full} not defined."
            )));
        }
        let condition = Condition::new(full, parent_values)?;
        let active = condition.is_active(&self.values);
        self.conditions.push(condition);
        if active {
            self.active_scopes.push(self.conditions.clone());
        } else {
            self.inactive_scopes.push(self.conditions.clone());
        }
        Ok(())
    }

    /// Closes the innermost conditional scope.
    pub fn exit_conditional_scope(&mut self) {
        self.conditions.pop();
    }

    /// Runs `f` with every hp name created inside it prefixed `"{name}/"`.
    pub fn name_scope<R>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Self) -> Result<R>,
    ) -> Result<R> {
        self.enter_name_scope(name);
        let out = f(self);
        self.exit_name_scope();
        out
    }

    /// Opens a name scope (see [`HyperParameters::name_scope`]).
    pub fn enter_name_scope(&mut self, name: &str) {
        self.name_scopes.push(name.to_string());
    }

    /// Closes the innermost name scope.
    pub fn exit_name_scope(&mut self) {
        self.name_scopes.pop();
    }

    /// The current value of `name` (inside the open name scopes). Errors as KerasTuner's:
    /// "{name} is currently inactive." for a registered hp that is inactive, "{name} does
    /// not exist." for an unknown one.
    pub fn get(&self, name: &str) -> Result<Value> {
        let full = self.scoped_name(name);
        let registered = self.space.iter().any(|hp| hp.name == full);
        if let Some(v) = self.values.get(&full) {
            if !registered || self.is_active(&full) {
                return Ok(v.clone());
            }
        }
        if registered {
            Err(Error::state(format!("{full} is currently inactive.")))
        } else {
            Err(Error::state(format!("{full} does not exist.")))
        }
    }

    /// The values of the active hps, in space order, followed by any values set for names
    /// outside the space (an oracle's bookkeeping such as Hyperband's `tuner/epochs`, which
    /// KerasTuner also keeps in `values`). Values set for inactive hps are left out.
    pub fn values(&self) -> Values {
        let mut out = Values::new();
        for hp in self.space.iter() {
            if out.contains(&hp.name) || !hp.is_active(&self.values) {
                continue;
            }
            if let Some(v) = self.values.get(&hp.name) {
                out.set(hp.name.clone(), v.clone());
            }
        }
        for (k, v) in self.values.iter() {
            if !self.space.iter().any(|hp| hp.name == k) {
                out.set(k, v.clone());
            }
        }
        out
    }

    /// Names of the hps read (by a builder or `register`) since the last
    /// [`HyperParameters::clear_accessed`].
    pub fn accessed(&self) -> &[String] {
        &self.accessed
    }

    /// Starts recording reads afresh.
    pub fn clear_accessed(&mut self) {
        self.accessed.clear();
    }

    /// Every value held, active or not, in assignment order (what KerasTuner's `get_config`
    /// saves).
    pub fn raw_values(&self) -> &Values {
        &self.values
    }

    /// Whether some hp called `name` has all its conditions met.
    pub fn is_active(&self, name: &str) -> bool {
        self.space
            .iter()
            .any(|hp| hp.name == name && hp.is_active(&self.values))
    }

    /// Every registered hp, in registration order.
    pub fn space(&self) -> &[HyperParameter] {
        &self.space
    }

    /// Sets the value of `name` (a full name; no scope is applied): how an oracle pre-fills
    /// a trial.
    pub fn set_value(&mut self, name: &str, v: Value) {
        self.values.set(name, v);
    }

    /// Adds `other`'s hps to this space. An hp already here (same name and conditions) is
    /// kept when `overwrite` is false; when true it is replaced and, if active, reset to the
    /// new default. KerasTuner appends the replacement as a second copy, so its space holds
    /// the hp twice; tunelab replaces it in place.
    pub fn merge(&mut self, other: &HyperParameters, overwrite: bool) {
        for hp in other.space.iter() {
            let at = self
                .space
                .iter()
                .position(|e| e.same_identity(&hp.name, &hp.conditions));
            match at {
                Some(_) if !overwrite => {}
                Some(i) => {
                    std::sync::Arc::make_mut(&mut self.space)[i] = hp.clone();
                    if hp.is_active(&self.values) {
                        self.values.set(hp.name.clone(), hp.default_value());
                    }
                }
                None => {
                    self.insert(hp.clone(), overwrite);
                }
            }
        }
    }

    /// Gives every active hp without a value its default, and drops the values of hps that
    /// are inactive (walking the space in order, so a parent settles before its children).
    ///
    /// KerasTuner fills with a random sample instead (see
    /// [`HyperParameters::ensure_active_values_with`]); defaults keep a run reproducible.
    /// KerasTuner also drops a name's value when any same-named hp is inactive, even if
    /// another one of that name is active; tunelab keeps it while one is active.
    pub fn ensure_active_values(&mut self) {
        self.ensure_active_values_by(|hp| hp.default_value());
    }

    /// [`HyperParameters::ensure_active_values`] filling with random samples, as KerasTuner
    /// does.
    pub fn ensure_active_values_with(&mut self, rng: &mut dyn rand::RngCore) {
        self.ensure_active_values_by(|hp| hp.random_sample(rng));
    }

    fn ensure_active_values_by(&mut self, mut fill: impl FnMut(&HyperParameter) -> Value) {
        for i in 0..self.space.len() {
            let hp = &self.space[i];
            if hp.is_active(&self.values) {
                if !self.values.contains(&hp.name) {
                    let v = fill(hp);
                    let name = hp.name.clone();
                    self.values.set(name, v);
                }
            } else if !self.is_active(&hp.name) {
                let name = hp.name.clone();
                self.values.remove(&name);
            }
        }
    }

    /// The condition stacks of the conditional scopes entered while their condition held
    /// (KerasTuner's `active_scopes`, which its tuner uses to reach every conditional
    /// branch before the search).
    pub fn active_scopes(&self) -> &[Vec<Condition>] {
        &self.active_scopes
    }

    /// The condition stacks of the conditional scopes entered while their condition did not
    /// hold (KerasTuner's `inactive_scopes`).
    pub fn inactive_scopes(&self) -> &[Vec<Condition>] {
        &self.inactive_scopes
    }

    /// A copy of the space and values with no open scopes and no scope history (KerasTuner's
    /// `copy()`, which goes through `get_config`/`from_config`).
    pub fn copy(&self) -> HyperParameters {
        HyperParameters {
            space: self.space.clone(),
            values: self.values.clone(),
            allow_new_entries: self.allow_new_entries,
            tune_new_entries: self.tune_new_entries,
            ..HyperParameters::default()
        }
    }

    /// KerasTuner's `search_space_summary()` text, byte for byte:
    ///
    /// ```text
    /// Search space summary
    /// Default search space size: 1
    /// units (Int)
    /// {'default': None, 'conditions': [], 'min_value': 32, 'max_value': 512, 'step': 32, 'sampling': 'linear'}
    /// ```
    ///
    /// Every line ends with a newline, as Python's `print` leaves them.
    pub fn search_space_summary(&self) -> String {
        let mut s = String::from("Search space summary\n");
        s.push_str(&format!(
            "Default search space size: {}\n",
            self.space.len()
        ));
        for hp in self.space.iter() {
            s.push_str(&format!(
                "{} ({})\n{}\n",
                hp.name,
                hp.class_name(),
                hp.summary_config()
            ));
        }
        s
    }

    /// KerasTuner's `get_config()`: `{"space": [{"class_name": ..., "config": {...}}, ...],
    /// "values": {...}}` (every value held, as KerasTuner saves them).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "space": self.space.iter().map(HyperParameter::to_json).collect::<Vec<_>>(),
            "values": self.values.to_json(),
        })
    }

    /// KerasTuner's `from_config()`: reads what [`HyperParameters::to_json`] (or KerasTuner)
    /// wrote, validating every hp; errors name the bad field (`space[2].config.min_value`).
    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        let space = v
            .get("space")
            .and_then(|s| s.as_array())
            .ok_or_else(|| Error::parse("`space` must be a list of hyperparameters"))?
            .iter()
            .enumerate()
            .map(|(i, h)| HyperParameter::from_json(h, &format!("space[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let values = match v.get("values") {
            None | Some(serde_json::Value::Null) => Values::new(),
            Some(x) => Values::from_json(x, "values")?,
        };
        Ok(HyperParameters {
            space: space.into(),
            values,
            ..HyperParameters::default()
        })
    }
}

/// Builder for [`HyperParameters::int`].
#[must_use = "call .get() to register the hyperparameter and read its value"]
pub struct IntHp<'a> {
    hps: &'a mut HyperParameters,
    name: String,
    min_value: i64,
    max_value: i64,
    step: Option<i64>,
    sampling: Sampling,
    default: Option<i64>,
    parent: ParentSpec,
}

impl IntHp<'_> {
    /// The grid step (a multiplier with log samplings). Without one, linear sampling steps
    /// by 1 and log samplings draw any integer.
    pub fn step(mut self, step: i64) -> Self {
        self.step = Some(step);
        self
    }

    /// How values spread over the range.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The default (otherwise `min_value`).
    pub fn default(mut self, default: i64) -> Self {
        self.default = Some(default);
        self
    }

    /// Active only when hp `name` has one of `values`.
    pub fn parent(mut self, name: &str, values: Vec<Value>) -> Self {
        self.parent = Some((name.to_string(), values));
        self
    }

    fn finish(self) -> Result<(i64, bool)> {
        let hp = HyperParameter {
            name: self.name.clone(),
            kind: HpKind::Int {
                min_value: self.min_value,
                max_value: self.max_value,
                step: self.step,
                sampling: self.sampling,
            },
            default: self.default.map(Value::Int),
            conditions: Vec::new(),
        };
        let (v, active) = self.hps.register_with_parent(hp, self.parent)?;
        let i = v.as_i64().ok_or_else(|| {
            Error::invalid(format!("Int('{}') value", self.name), v.repr(), "an int")
        })?;
        Ok((i, active))
    }

    /// Registers the hp and returns its value (the default when inactive).
    pub fn get(self) -> Result<i64> {
        self.finish().map(|(v, _)| v)
    }

    /// Registers the hp and returns its value, `None` when inactive (KerasTuner's return).
    pub fn get_active(self) -> Result<Option<i64>> {
        self.finish().map(|(v, a)| a.then_some(v))
    }
}

/// Builder for [`HyperParameters::float`].
#[must_use = "call .get() to register the hyperparameter and read its value"]
pub struct FloatHp<'a> {
    hps: &'a mut HyperParameters,
    name: String,
    min_value: f64,
    max_value: f64,
    step: Option<f64>,
    sampling: Sampling,
    default: Option<f64>,
    parent: ParentSpec,
}

impl FloatHp<'_> {
    /// The grid step (a multiplier with log samplings); without one the range is continuous.
    pub fn step(mut self, step: f64) -> Self {
        self.step = Some(step);
        self
    }

    /// How values spread over the range.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The default (otherwise `min_value`).
    pub fn default(mut self, default: f64) -> Self {
        self.default = Some(default);
        self
    }

    /// Active only when hp `name` has one of `values`.
    pub fn parent(mut self, name: &str, values: Vec<Value>) -> Self {
        self.parent = Some((name.to_string(), values));
        self
    }

    fn finish(self) -> Result<(f64, bool)> {
        let hp = HyperParameter {
            name: self.name.clone(),
            kind: HpKind::Float {
                min_value: self.min_value,
                max_value: self.max_value,
                step: self.step,
                sampling: self.sampling,
            },
            default: self.default.map(Value::Float),
            conditions: Vec::new(),
        };
        let (v, active) = self.hps.register_with_parent(hp, self.parent)?;
        let f = v.as_f64().ok_or_else(|| {
            Error::invalid(format!("Float('{}') value", self.name), v.repr(), "a float")
        })?;
        Ok((f, active))
    }

    /// Registers the hp and returns its value (the default when inactive).
    pub fn get(self) -> Result<f64> {
        self.finish().map(|(v, _)| v)
    }

    /// Registers the hp and returns its value, `None` when inactive (KerasTuner's return).
    pub fn get_active(self) -> Result<Option<f64>> {
        self.finish().map(|(v, a)| a.then_some(v))
    }
}

/// Builder for [`HyperParameters::choice`].
#[must_use = "call .get() to register the hyperparameter and read its value"]
pub struct ChoiceHp<'a> {
    hps: &'a mut HyperParameters,
    name: String,
    values: Vec<Value>,
    ordered: Option<bool>,
    default: Option<Value>,
    parent: ParentSpec,
}

impl ChoiceHp<'_> {
    /// Whether the values have an order (default: True for numbers; must be False
    /// otherwise).
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = Some(ordered);
        self
    }

    /// The default (otherwise the first value); must be one of the values.
    pub fn default(mut self, default: impl Into<Value>) -> Self {
        self.default = Some(default.into());
        self
    }

    /// Active only when hp `name` has one of `values`.
    pub fn parent(mut self, name: &str, values: Vec<Value>) -> Self {
        self.parent = Some((name.to_string(), values));
        self
    }

    fn finish(self) -> Result<(Value, bool)> {
        let hp = HyperParameter::choice(self.name, self.values, self.ordered, self.default)?;
        self.hps.register_with_parent(hp, self.parent)
    }

    /// Registers the hp and returns its value (the default when inactive).
    pub fn get(self) -> Result<Value> {
        self.finish().map(|(v, _)| v)
    }

    /// Registers the hp and returns its value, `None` when inactive (KerasTuner's return).
    pub fn get_active(self) -> Result<Option<Value>> {
        self.finish().map(|(v, a)| a.then_some(v))
    }
}

/// Builder for [`HyperParameters::boolean`].
#[must_use = "call .get() to register the hyperparameter and read its value"]
pub struct BooleanHp<'a> {
    hps: &'a mut HyperParameters,
    name: String,
    default: bool,
    parent: ParentSpec,
}

impl BooleanHp<'_> {
    /// The default (otherwise False).
    pub fn default(mut self, default: bool) -> Self {
        self.default = default;
        self
    }

    /// Active only when hp `name` has one of `values`.
    pub fn parent(mut self, name: &str, values: Vec<Value>) -> Self {
        self.parent = Some((name.to_string(), values));
        self
    }

    fn finish(self) -> Result<(bool, bool)> {
        let hp = HyperParameter {
            name: self.name.clone(),
            kind: HpKind::Boolean,
            // KerasTuner's Boolean always carries its default (False unless given).
            default: Some(Value::Bool(self.default)),
            conditions: Vec::new(),
        };
        let (v, active) = self.hps.register_with_parent(hp, self.parent)?;
        let b = v.as_bool().ok_or_else(|| {
            Error::invalid(
                format!("Boolean('{}') value", self.name),
                v.repr(),
                "True or False",
            )
        })?;
        Ok((b, active))
    }

    /// Registers the hp and returns its value (the default when inactive).
    pub fn get(self) -> Result<bool> {
        self.finish().map(|(v, _)| v)
    }

    /// Registers the hp and returns its value, `None` when inactive (KerasTuner's return).
    pub fn get_active(self) -> Result<Option<bool>> {
        self.finish().map(|(v, a)| a.then_some(v))
    }
}

/// Builder for [`HyperParameters::fixed`].
#[must_use = "call .get() to register the hyperparameter and read its value"]
pub struct FixedHp<'a> {
    hps: &'a mut HyperParameters,
    name: String,
    value: Value,
    parent: ParentSpec,
}

impl FixedHp<'_> {
    /// Active only when hp `name` has one of `values`.
    pub fn parent(mut self, name: &str, values: Vec<Value>) -> Self {
        self.parent = Some((name.to_string(), values));
        self
    }

    fn finish(self) -> Result<(Value, bool)> {
        let hp = HyperParameter::new(self.name, HpKind::Fixed { value: self.value });
        self.hps.register_with_parent(hp, self.parent)
    }

    /// Registers the hp and returns its value.
    pub fn get(self) -> Result<Value> {
        self.finish().map(|(v, _)| v)
    }

    /// Registers the hp and returns its value, `None` when inactive (KerasTuner's return).
    pub fn get_active(self) -> Result<Option<Value>> {
        self.finish().map(|(v, a)| a.then_some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide's `build_model`, as far as hyperparameters go.
    fn guide_build(hp: &mut HyperParameters) -> Result<()> {
        let num_layers = hp.int("num_layers", 1, 3).get()?;
        for i in 0..num_layers {
            hp.int(&format!("units_{i}"), 32, 512).step(32).get()?;
            hp.choice("activation", vec!["relu".into(), "tanh".into()])
                .get()?;
        }
        hp.boolean("dropout").get()?;
        hp.float("lr", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
        Ok(())
    }

    #[test]
    fn guide_search_space_summary_is_exact() {
        let mut hp = HyperParameters::new();
        guide_build(&mut hp).unwrap();
        let want = "\
Search space summary
Default search space size: 5
num_layers (Int)
{'default': None, 'conditions': [], 'min_value': 1, 'max_value': 3, 'step': 1, 'sampling': 'linear'}
units_0 (Int)
{'default': None, 'conditions': [], 'min_value': 32, 'max_value': 512, 'step': 32, 'sampling': 'linear'}
activation (Choice)
{'default': 'relu', 'conditions': [], 'values': ['relu', 'tanh'], 'ordered': False}
dropout (Boolean)
{'default': False, 'conditions': []}
lr (Float)
{'default': 0.0001, 'conditions': [], 'min_value': 0.0001, 'max_value': 0.01, 'step': None, 'sampling': 'log'}
";
        assert_eq!(hp.search_space_summary(), want);
        // A later trial with 3 layers adds units_1 and units_2 to the space.
        let mut trial = hp.copy();
        trial.set_value("num_layers", Value::Int(3));
        guide_build(&mut trial).unwrap();
        let names: Vec<&str> = trial.space().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "num_layers",
                "units_0",
                "activation",
                "dropout",
                "lr",
                "units_1",
                "units_2"
            ]
        );
    }

    #[test]
    fn first_call_returns_defaults() {
        let mut hp = HyperParameters::new();
        assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 32);
        assert_eq!(hp.int("n", 1, 9).default(4).get().unwrap(), 4);
        assert_eq!(hp.float("lr", 1e-4, 1e-2).get().unwrap(), 1e-4);
        assert_eq!(hp.float("m", 0.0, 1.0).default(0.9).get().unwrap(), 0.9);
        assert_eq!(
            hp.choice("act", vec!["relu".into(), "tanh".into()])
                .get()
                .unwrap(),
            Value::from("relu")
        );
        assert_eq!(
            hp.choice("b", vec![8.into(), 16.into()])
                .default(16)
                .get()
                .unwrap(),
            Value::Int(16)
        );
        assert!(!hp.boolean("dropout").get().unwrap());
        assert!(hp.boolean("bn").default(true).get().unwrap());
        assert_eq!(hp.fixed("opt", "adam").get().unwrap(), Value::from("adam"));
        assert_eq!(hp.values().len(), 9);
        assert_eq!(hp.get("units").unwrap(), Value::Int(32));
        assert_eq!(hp.values().get("bn"), Some(&Value::Bool(true)));
    }

    #[test]
    fn prefilled_values_win_and_reregistering_is_fine() {
        let mut hp = HyperParameters::new();
        hp.set_value("units", Value::Int(96));
        assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 96);
        // The same hp again: no second entry, same value.
        assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 96);
        assert_eq!(hp.space().len(), 1);
        // An oracle may store an Int hp's value as an integral float.
        hp.set_value("units", Value::Float(64.0));
        assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 64);
        hp.set_value("units", Value::from("x"));
        let e = hp.int("units", 32, 512).get().unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for `Int('units') value`: 'x' (allowed: an int)"
        );
        // An invalid definition is an error, never a panic.
        let e = hp.int("bad", 5, 1).get().unwrap_err().to_string();
        assert!(e.contains("`Int('bad').min_value`: 5"), "{e}");
        assert!(hp
            .float("lr", 0.0, 1.0)
            .sampling(Sampling::Log)
            .get()
            .is_err());
        assert!(hp.choice("c", vec![]).get().is_err());
    }

    #[test]
    fn conditional_scopes() {
        let mut hp = HyperParameters::new();
        let model = hp
            .choice("model", vec!["mlp".into(), "cnn".into()])
            .get()
            .unwrap();
        assert_eq!(model, Value::from("mlp"));
        let units = hp
            .conditional_scope("model", vec!["mlp".into()], |h| {
                h.int("units", 8, 64).step(8).get()
            })
            .unwrap();
        assert_eq!(units, 8);
        let filters = hp
            .conditional_scope("model", vec!["cnn".into()], |h| {
                h.int("filters", 16, 64).step(16).get_active()
            })
            .unwrap();
        assert_eq!(filters, None);
        assert!(hp.is_active("units"));
        assert!(!hp.is_active("filters"));
        assert!(!hp.is_active("nothing"));
        assert_eq!(
            hp.get("filters").unwrap_err().to_string(),
            "filters is currently inactive."
        );
        assert_eq!(
            hp.get("nothing").unwrap_err().to_string(),
            "nothing does not exist."
        );
        assert!(!hp.values().contains("filters"));
        assert_eq!(hp.active_scopes().len(), 1);
        assert_eq!(hp.inactive_scopes().len(), 1);
        assert_eq!(hp.inactive_scopes()[0][0].values, vec![Value::from("cnn")]);

        // Switch the trial to the CNN branch.
        hp.set_value("model", "cnn".into());
        assert!(hp.is_active("filters") && !hp.is_active("units"));
        // A value set for an hp that is now inactive is hidden.
        assert!(!hp.values().contains("units"));
        assert!(hp.get("units").is_err());
        hp.ensure_active_values();
        assert_eq!(hp.values().get("filters"), Some(&Value::Int(16)));
        assert!(!hp.raw_values().contains("units"));

        // Unknown parent: KerasTuner's text.
        let e = hp
            .conditional_scope("missing", vec![1.into()], |h| h.boolean("x").get())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "`HyperParameter` named: missing not defined.");
        // Empty parent values.
        assert!(hp
            .conditional_scope("model", vec![], |h| h.boolean("x").get())
            .is_err());
        // The builders' parent argument is the same scope.
        let e = hp
            .boolean("y")
            .parent("missing", vec![1.into()])
            .get()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`HyperParameter` named: missing not defined."
        );
        assert_eq!(
            hp.float("lr", 0.1, 1.0)
                .parent("model", vec!["cnn".into()])
                .get_active()
                .unwrap(),
            Some(0.1)
        );
        // An hp cannot be conditioned on itself.
        assert!(hp
            .conditional_scope("model", vec!["cnn".into()], |h| h
                .choice("model", vec!["a".into()])
                .get())
            .is_err());
    }

    #[test]
    fn nested_conditions_and_together() {
        let mut hp = HyperParameters::new();
        hp.boolean("a").default(true).get().unwrap();
        hp.conditional_scope("a", vec![true.into()], |h| {
            h.int("b", 1, 3).get()?;
            h.conditional_scope("b", vec![2.into()], |h| h.float("c", 0.0, 1.0).get())
        })
        .unwrap();
        let c = &hp.space()[2];
        assert_eq!(c.name, "c");
        assert_eq!(c.conditions.len(), 2);
        // a = True, b = 1: c is inactive.
        assert!(!hp.is_active("c"));
        hp.set_value("b", 2.into());
        assert!(hp.is_active("c"));
        hp.set_value("a", false.into());
        // a's condition fails: b and c are both inactive even though b's value is 2.
        assert!(!hp.is_active("b") && !hp.is_active("c"));
        assert_eq!(hp.values().keys().collect::<Vec<_>>(), ["a"]);
        // The parent of a nested scope must exist under the same open conditions, as in
        // KerasTuner: "a" is top-level, so it is unknown inside the scope on "a".
        let e = hp
            .conditional_scope("a", vec![true.into()], |h| {
                h.conditional_scope("a", vec![true.into()], |h| h.boolean("z").get())
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "`HyperParameter` named: a not defined.");
    }

    #[test]
    fn same_name_under_different_conditions_are_distinct() {
        let mut hp = HyperParameters::new();
        hp.choice("model", vec!["mlp".into(), "cnn".into()])
            .get()
            .unwrap();
        for m in ["mlp", "cnn"] {
            hp.conditional_scope("model", vec![m.into()], |h| {
                h.int("layers", 1, if m == "mlp" { 4 } else { 8 }).get()
            })
            .unwrap();
        }
        assert_eq!(hp.space().len(), 3);
        assert_eq!(hp.space()[1].name, hp.space()[2].name);
        assert!(hp.is_active("layers"));
        assert_eq!(hp.values().get("layers"), Some(&Value::Int(1)));
        hp.set_value("model", "cnn".into());
        hp.set_value("layers", 7.into());
        // Only the cnn branch's hp is active; the shared value survives ensure_active_values.
        hp.ensure_active_values();
        assert_eq!(hp.get("layers").unwrap(), Value::Int(7));
        assert_eq!(hp.search_space_summary().matches("layers (Int)").count(), 2);
    }

    #[test]
    fn name_scopes() {
        let mut hp = HyperParameters::new();
        hp.name_scope("block1", |h| {
            h.int("units", 1, 4).get()?;
            h.name_scope("inner", |h| h.boolean("flag").get())?;
            assert_eq!(h.get("units")?, Value::Int(1));
            h.conditional_scope("units", vec![2.into()], |h| h.boolean("extra").get())
        })
        .unwrap();
        let names: Vec<&str> = hp.space().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["block1/units", "block1/inner/flag", "block1/extra"]);
        assert_eq!(hp.space()[2].conditions[0].name, "block1/units");
        assert_eq!(hp.get("block1/units").unwrap(), Value::Int(1));
        // Scopes close even when the body fails.
        let _ = hp.name_scope("x", |h| h.int("bad", 2, 1).get());
        hp.int("after", 0, 1).get().unwrap();
        assert_eq!(hp.space().last().map(|h| h.name.as_str()), Some("after"));
    }

    #[test]
    fn new_entry_policies() {
        let mut hp = HyperParameters::new();
        hp.int("known", 1, 5).get().unwrap();
        hp.allow_new_entries = false;
        assert_eq!(hp.int("known", 1, 5).get().unwrap(), 1);
        let e = hp.float("lr", 0.1, 1.0).get().unwrap_err().to_string();
        assert_eq!(
            e,
            "`allow_new_entries` is `False`, but found new entries [Float(name: 'lr', \
             min_value: '0.1', max_value: '1.0', step: 'None', sampling: 'linear', default: \
             '0.1')]"
        );
        assert_eq!(hp.space().len(), 1);

        let mut hp = HyperParameters::new();
        hp.tune_new_entries = false;
        assert_eq!(
            hp.int("units", 32, 512).step(32).default(64).get().unwrap(),
            64
        );
        assert_eq!(hp.space()[0].class_name(), "Fixed");
        assert_eq!(hp.space()[0].default_value(), Value::Int(64));
        // Calling it again finds the Fixed entry by name.
        assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 64);
        assert_eq!(hp.space().len(), 1);
    }

    #[test]
    fn merge_semantics() {
        let mut a = HyperParameters::new();
        a.int("x", 1, 5).get().unwrap();
        a.set_value("x", 3.into());
        let mut b = HyperParameters::new();
        b.int("x", 1, 5).default(2).get().unwrap();
        b.boolean("y").get().unwrap();

        let mut keep = a.clone();
        keep.merge(&b, false);
        assert_eq!(keep.space().len(), 2);
        assert_eq!(keep.get("x").unwrap(), Value::Int(3));
        assert_eq!(keep.get("y").unwrap(), Value::Bool(false));

        let mut over = a.clone();
        over.merge(&b, true);
        assert_eq!(over.space().len(), 2, "replaced in place, not duplicated");
        assert_eq!(over.get("x").unwrap(), Value::Int(2));
        assert_eq!(over.space()[0].default, Some(Value::Int(2)));
    }

    #[test]
    fn ensure_active_values_variants() {
        use rand::SeedableRng;
        let mut hp = HyperParameters::new();
        hp.int("a", 1, 100).get().unwrap();
        hp.boolean("b").get().unwrap();
        let mut fresh = hp.copy();
        fresh.set_value("a", 7.into());
        fresh.raw_remove("b");
        fresh.ensure_active_values();
        assert_eq!(fresh.get("b").unwrap(), Value::Bool(false));
        assert_eq!(fresh.get("a").unwrap(), Value::Int(7));
        let mut random = hp.copy();
        random.raw_remove("a");
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        random.ensure_active_values_with(&mut rng);
        let a = random.get("a").unwrap().as_i64().unwrap();
        assert!((1..=100).contains(&a));
    }

    impl HyperParameters {
        fn raw_remove(&mut self, name: &str) {
            self.values.remove(name);
        }
    }

    #[test]
    fn oracle_bookkeeping_values_are_kept() {
        let mut hp = HyperParameters::new();
        hp.int("units", 1, 4).get().unwrap();
        hp.set_value("tuner/epochs", 2.into());
        hp.set_value("tuner/trial_id", "0003".into());
        let v = hp.values();
        assert_eq!(
            v.keys().collect::<Vec<_>>(),
            ["units", "tuner/epochs", "tuner/trial_id"]
        );
        assert_eq!(hp.get("tuner/epochs").unwrap(), Value::Int(2));
        assert!(!hp.is_active("tuner/epochs"));
    }

    #[test]
    fn json_round_trip() {
        let mut hp = HyperParameters::new();
        guide_build(&mut hp).unwrap();
        hp.choice("opt", vec!["adam".into(), "sgd".into()])
            .get()
            .unwrap();
        hp.conditional_scope("opt", vec!["sgd".into()], |h| {
            h.float("momentum", 0.0, 0.9).step(0.1).get()
        })
        .unwrap();
        hp.fixed("seed", 7).get().unwrap();
        hp.set_value("lr", Value::Float(0.003));
        let j = hp.to_json();
        assert_eq!(j["space"][0]["class_name"], "Int");
        assert_eq!(j["space"][0]["config"]["name"], "num_layers");
        assert!(j["space"][0]["config"]["default"].is_null());
        assert_eq!(
            j["space"][6]["config"]["conditions"][0]["class_name"],
            "Parent"
        );
        let back = HyperParameters::from_json(&j).unwrap();
        assert_eq!(back.search_space_summary(), hp.search_space_summary());
        // serde_json objects sort their keys, so compare the values as sorted lists.
        let sorted = |v: Values| {
            let mut pairs: Vec<(String, Value)> =
                v.iter().map(|(k, x)| (k.to_string(), x.clone())).collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs
        };
        assert_eq!(sorted(back.values()), sorted(hp.values()));
        assert_eq!(back.get("lr").unwrap(), Value::Float(0.003));
        // Float and Choice configs carry their effective default, as in KerasTuner, so the
        // restored hps hold it explicitly; they behave the same.
        for (a, b) in back.space().iter().zip(hp.space()) {
            assert_eq!(
                (&a.name, &a.kind, &a.conditions),
                (&b.name, &b.kind, &b.conditions)
            );
            assert_eq!(a.default_value(), b.default_value());
        }
        // A second trip is stable.
        assert_eq!(
            HyperParameters::from_json(&back.to_json())
                .unwrap()
                .to_json(),
            j
        );
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = HyperParameters::from_json(&json!({"values": {}}))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "parse error: `space` must be a list of hyperparameters");
        let e = HyperParameters::from_json(&json!({"space": [
            {"class_name": "Int", "config": {"name": "a", "min_value": 1, "max_value": 2}},
            {"class_name": "Choice", "config": {"name": "b", "values": "relu"}}
        ], "values": {}}))
        .unwrap_err()
        .to_string();
        assert_eq!(e, "parse error: `space[1].config.values` must be a list");
        let e = HyperParameters::from_json(&json!({"space": [], "values": {"a": [1]}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`values.a`"), "{e}");
        let e = HyperParameters::from_json(&json!({"space": [
            {"class_name": "Float", "config": {"name": "lr", "min_value": 0, "max_value": 1,
             "sampling": "log"}}
        ]}))
        .unwrap_err()
        .to_string();
        assert!(e.contains("`Float('lr').min_value`: 0.0"), "{e}");
        // A KerasTuner document (its exact get_config output) reads back.
        let kt = json!({"space": [{"class_name": "Choice", "config": {"name": "b", "default": 1,
            "conditions": [], "values": [1, 0], "ordered": true}}, {"class_name": "Int",
            "config": {"name": "x", "default": null, "conditions": [{"class_name": "Parent",
            "config": {"name": "b", "values": [0]}}], "min_value": 1, "max_value": 5,
            "step": 1, "sampling": "linear"}}, {"class_name": "Fixed", "config": {"name": "f",
            "conditions": [], "value": 3}}], "values": {"b": 1, "f": 3}});
        let hp = HyperParameters::from_json(&kt).unwrap();
        assert_eq!(hp.space().len(), 3);
        assert!(!hp.is_active("x"));
        assert_eq!(hp.values().get("f"), Some(&Value::Int(3)));
    }
}
