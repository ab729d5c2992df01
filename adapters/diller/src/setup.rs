//! Calls for `loyalty setup`: list stores, departments and membership levels, create a
//! department (diller.md §4.1, §6.1 item 1: a POS calls S1 and S3 at setup).

use std::collections::BTreeMap;

use loyalty_core::{Context, DepartmentId, Result};

use crate::adapter::DillerAdapter;
use crate::wire;

/// A store the client may access, as `loyalty setup` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreSummary {
    /// Store id (goes into `store_id`).
    pub id: String,
    /// Store name.
    pub name: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Time zone as Diller states it.
    pub time_zone: Option<String>,
    /// What the store's extra identifier is (`member_identifier.type`).
    pub identifier_type: Option<String>,
    /// Points are on.
    pub points_enabled: bool,
    /// Stamp cards are on.
    pub stamps_enabled: bool,
}

impl From<&wire::StoreResponse> for StoreSummary {
    fn from(s: &wire::StoreResponse) -> StoreSummary {
        StoreSummary {
            id: s.id.clone().unwrap_or_default(),
            name: s.store_name.clone(),
            currency: s.currency.clone(),
            time_zone: s.time_zone.clone(),
            identifier_type: s.member_identifier.as_ref().and_then(|m| m.type_.clone()),
            points_enabled: s.points_system.as_ref().and_then(|p| p.enabled).unwrap_or(false),
            stamps_enabled: s.stamps_enabled.unwrap_or(false),
        }
    }
}

/// A membership tier and its points threshold (S6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipLevel {
    /// Level id.
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// Points threshold.
    pub points: i64,
}

impl DillerAdapter {
    /// Lists the stores the client may access (S1).
    ///
    /// # Errors
    /// `Forbidden` when the client may access none; transport errors.
    pub async fn stores(&self, ctx: &Context) -> Result<Vec<StoreSummary>> {
        let list = self.client().stores(ctx, "setup.stores").await?;
        Ok(list.iter().map(StoreSummary::from).collect())
    }

    /// Lists the configured store's departments as id → name (S3).
    ///
    /// # Errors
    /// `NotFound` for an unknown store; transport errors.
    pub async fn departments(&self, ctx: &Context) -> Result<BTreeMap<DepartmentId, String>> {
        let list = self.client().departments(ctx, "setup.departments").await?;
        Ok(wire::departments(&list).into_iter().map(|(k, v)| (DepartmentId::new(k), v)).collect())
    }

    /// Creates a department with a retailer-chosen id (S4) and returns the department list.
    ///
    /// # Errors
    /// `Invalid` or `Conflict` as Diller refuses it; transport errors.
    pub async fn create_department(
        &self,
        ctx: &Context,
        id: &DepartmentId,
        name: &str,
    ) -> Result<BTreeMap<DepartmentId, String>> {
        let body = wire::CreateDepartmentRequest {
            id: id.as_str().to_string(),
            name: name.to_string(),
            origin: None,
        };
        let list = self.client().create_department(ctx, "setup.create_department", &body).await?;
        Ok(wire::departments(&list).into_iter().map(|(k, v)| (DepartmentId::new(k), v)).collect())
    }

    /// Lists the membership tiers, lowest threshold first (S6).
    ///
    /// # Errors
    /// Transport errors.
    pub async fn membership_levels(&self, ctx: &Context) -> Result<Vec<MembershipLevel>> {
        let list = self.client().membership_levels(ctx, "setup.membership_levels").await?;
        let mut levels: Vec<MembershipLevel> = list
            .iter()
            .map(|l| MembershipLevel {
                id: l.id,
                name: l.name.clone().unwrap_or_default(),
                points: l.points.unwrap_or(0),
            })
            .collect();
        levels.sort_by_key(|l| l.points);
        Ok(levels)
    }
}
