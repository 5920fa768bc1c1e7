//! Governance (spec `decisions.md` §12): the parameters in force, and parameter changes proposed and signed
//! by guardians, effective `param_delay_s` after reaching the threshold (visible while pending), including
//! changes of the guardian set itself (which need the threshold of the current set).
//!
//! Guardian signatures on other subjects live with those subjects: external attestations in the bridge
//! slice, oracle prices in the oracle slice, minting reports in the rewards slice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::ids::{AccountKey, ParamChangeId};
use crate::params::{ParamUpdate, Params};
use crate::rejection::Rejection;
use crate::types::Role;

/// A proposed parameter change and its signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChange {
    /// Id.
    pub id: ParamChangeId,
    /// The change.
    pub update: ParamUpdate,
    /// Proposing guardian (its proposal counts as its signature).
    pub proposed_by: AccountKey,
    /// When proposed.
    pub proposed_at: i64,
    /// Guardians that signed.
    pub signers: Vec<AccountKey>,
    /// When the threshold was reached.
    pub approved_at: Option<i64>,
    /// When it takes effect (`approved_at + param_delay_s`).
    pub effective_at: Option<i64>,
    /// When it was applied.
    pub applied_at: Option<i64>,
}

/// The parameters and their changes, pending and applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    params: Params,
    changes: BTreeMap<ParamChangeId, ParamChange>,
}

impl Governance {
    /// Governance starting from the genesis parameters.
    pub(crate) fn new(params: Params) -> Self {
        Governance { params, changes: BTreeMap::new() }
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// All changes by id.
    pub fn changes(&self) -> &BTreeMap<ParamChangeId, ParamChange> {
        &self.changes
    }

    /// `ProposeParamChange`: a guardian proposes `update` (its proposal is its signature).
    pub(crate) fn propose(
        &mut self,
        signer: AccountKey,
        update: &ParamUpdate,
        now: i64,
    ) -> Result<Vec<Event>, Rejection> {
        self.require_guardian(signer)?;
        update.check(&self.params).map_err(|reason| Rejection::ParamChangeInvalid { reason })?;
        let next = u64::try_from(self.changes.len()).map_err(|_| Rejection::Overflow)?;
        let id = ParamChangeId(next.checked_add(1).ok_or(Rejection::Overflow)?);
        self.changes.insert(
            id,
            ParamChange {
                id,
                update: update.clone(),
                proposed_by: signer,
                proposed_at: now,
                signers: vec![signer],
                approved_at: None,
                effective_at: None,
                applied_at: None,
            },
        );
        let mut events = vec![Event::ParamChangeProposed { change_id: id }];
        self.maybe_approve(id, now, &mut events);
        Ok(events)
    }

    /// `SignParamChange`: a guardian signs a pending change.
    pub(crate) fn sign(
        &mut self,
        signer: AccountKey,
        change_id: ParamChangeId,
        now: i64,
    ) -> Result<Vec<Event>, Rejection> {
        self.require_guardian(signer)?;
        let change = self.changes.get_mut(&change_id).ok_or(Rejection::ParamChangeNotFound)?;
        if change.approved_at.is_some() {
            return Err(Rejection::ParamChangeNotFound);
        }
        if change.signers.contains(&signer) {
            return Err(Rejection::DuplicateSignature);
        }
        change.signers.push(signer);
        let mut events = vec![Event::ParamChangeSigned { change_id }];
        self.maybe_approve(change_id, now, &mut events);
        Ok(events)
    }

    fn require_guardian(&self, signer: AccountKey) -> Result<(), Rejection> {
        if self.params.has_role(&signer, Role::Guardian) {
            Ok(())
        } else {
            Err(Rejection::NotAuthorized { role: Role::Guardian })
        }
    }

    /// Approves a change once the signatures of current guardians reach the threshold (a guardian removed
    /// meanwhile no longer counts).
    fn maybe_approve(&mut self, change_id: ParamChangeId, now: i64, events: &mut Vec<Event>) {
        let threshold = self.params.guardian_threshold() as usize;
        let delay = self.params.param_delay_s;
        let params = &self.params;
        let Some(change) = self.changes.get_mut(&change_id) else { return };
        let valid = change.signers.iter().filter(|k| params.has_role(k, Role::Guardian)).count();
        if valid >= threshold {
            let effective_at = now.saturating_add(delay);
            change.approved_at = Some(now);
            change.effective_at = Some(effective_at);
            events.push(Event::ParamChangeApproved { change_id, effective_at });
        }
    }

    /// Applies approved changes whose time has come, in id order (a `Tick` phase). Each is checked again
    /// against the parameters as they are now (an earlier change may conflict) and dropped if invalid.
    pub(crate) fn apply_due(&mut self, now: i64, events: &mut Vec<Event>) {
        let due: Vec<ParamChangeId> = self
            .changes
            .values()
            .filter(|c| c.applied_at.is_none() && c.effective_at.is_some_and(|t| t <= now))
            .map(|c| c.id)
            .collect();
        for change_id in due {
            let Some(change) = self.changes.get_mut(&change_id) else { continue };
            if change.update.check(&self.params).is_ok() {
                change.update.apply_to(&mut self.params);
                events.push(Event::ParamChangeApplied { change_id });
            } else {
                events.push(Event::ParamChangeDropped { change_id });
            }
            change.applied_at = Some(now);
        }
    }
}
