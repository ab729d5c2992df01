//! Calls for `loyalty setup`: list stores, departments and membership levels, create a
//! department (a POS calls S1 and S3 at setup; `docs/vendors/diller.md` has the calls).

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

/// A TOML basic string: quotes, backslashes and every control character escaped, so a value
/// from the vendor stays one value on one line.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Vendor text in a comment line: as it is when nothing in it needs escaping, otherwise quoted
/// and escaped, so a line break in a name cannot start a setting of its own.
fn comment_text(s: &str) -> String {
    let quoted = format!("{s:?}");
    if quoted.len() == s.len() + 2 {
        s.to_string()
    } else {
        quoted
    }
}

/// The `identifier_kind` a store's `member_identifier.type` means (§5.3 gives national id and
/// licence plate as examples; the KB adds Swedish driving licences).
fn identifier_kind(kind: Option<&str>) -> &'static str {
    let k = kind.unwrap_or("").to_ascii_lowercase();
    if k.contains("ssn") || k.contains("national") || k.contains("personal") {
        "national_id"
    } else if k.contains("driv") || (k.contains("licen") && !k.contains("plate")) {
        "drivers_license"
    } else {
        "external_id"
    }
}

impl DillerAdapter {
    /// Asks Diller for the configured store, its departments and segments, and writes the
    /// TOML configuration `loyalty setup diller` prints. The secret is referred to by the
    /// environment variable `secret_env`, never written.
    ///
    /// # Errors
    /// Transport and vendor errors of S2, S3 and S5.
    pub async fn setup_toml(&self, ctx: &Context, secret_env: &str) -> Result<String> {
        use loyalty_core::{Members, SegmentKind};
        let config = self.config();
        let store = self.client().store(ctx, "setup.store").await.map(|s| StoreSummary::from(&s))?;
        let departments = self.departments(ctx).await?;
        let segments = Members::segments(self, ctx).await?;
        let department = config
            .department_id
            .clone()
            .or_else(|| departments.keys().next().map(|d| d.as_str().to_string()))
            .unwrap_or_default();
        let mut out = String::new();
        out.push_str(
            "# A loyalty.toml written by `loyalty setup diller`. The secret stays in the environment.\n[provider]\nkind = \"diller\"\n",
        );
        out.push_str(&format!("base_url = {}\n", toml_str(config.base_url.as_str())));
        out.push_str(&format!("client_id = {}\n", toml_str(&config.client_id)));
        out.push_str(&format!("client_secret_env = {}\n", toml_str(secret_env)));
        out.push_str(&format!("store_id = {}\n", toml_str(&store.id)));
        out.push_str(&format!("department_id = {}\n", toml_str(&department)));
        out.push_str(&format!(
            "identifier_kind = {}\n",
            toml_str(identifier_kind(store.identifier_type.as_deref()))
        ));
        if let Some(tz) = &store.time_zone {
            out.push_str(&format!("time_zone = {}\n", toml_str(tz)));
        }
        out.push_str("\n# Where checkouts are kept: an SQLite file, or postgres://… for several instances.\n[store]\nurl = \"sqlite:loyalty-checkout.db\"\n");
        out.push_str(&format!(
            "\n# Store {:?}: currency {}, points {}, stamps {}\n",
            store.name.as_deref().unwrap_or(""),
            comment_text(store.currency.as_deref().unwrap_or("?")),
            if store.points_enabled { "on" } else { "off" },
            if store.stamps_enabled { "on" } else { "off" },
        ));
        out.push_str("# Departments (pick one for department_id):\n");
        for (id, name) in &departments {
            out.push_str(&format!("#   {} = {}\n", comment_text(id.as_str()), comment_text(name)));
        }
        out.push_str("# Segments (the member page asks these):\n");
        for s in &segments {
            let kind = match &s.kind {
                SegmentKind::Text => "text".to_string(),
                SegmentKind::Date => "date".to_string(),
                SegmentKind::SingleChoice { options } => format!("one of {}", options.len()),
                SegmentKind::MultiChoice { options } => format!("any of {}", options.len()),
            };
            let flags = match (s.required, s.visible) {
                (true, true) => ", required",
                (_, false) => ", hidden",
                _ => "",
            };
            out.push_str(&format!("#   {} {:?} ({kind}{flags})\n", comment_text(s.id.as_str()), s.label));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::identifier_kind;

    #[test]
    fn identifier_types_map_to_lookup_kinds() {
        assert_eq!(identifier_kind(Some("SSN")), "national_id");
        assert_eq!(identifier_kind(Some("DriversLicense")), "drivers_license");
        assert_eq!(identifier_kind(Some("LicensePlate")), "external_id");
        assert_eq!(identifier_kind(None), "external_id");
    }
}
