//! What others see of a capability besides its versions: visibility, organization, price;
//! who may change them, the audit of each change, and `PATCH /v1/capabilities/{id}`.

use super::*;

/// What others see of a capability besides its versions' metadata: who may see it, whose it
/// is, what it costs. It changes only by an explicit act of its owner or an admin of its
/// organization (or a marketplace administrator), never by a member's publish.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Settings {
    pub(super) visibility: String,
    pub(super) org: Option<String>,
    pub(super) price: i64,
}

impl Settings {
    pub(super) fn check(&self) -> MarketResult<()> {
        if !VISIBILITIES.contains(&self.visibility.as_str()) {
            return Err(MarketError::BadRequest(format!(
                "visibility must be public, organization or private, not `{}`",
                self.visibility
            )));
        }
        if self.visibility == "organization" && self.org.is_none() {
            return Err(MarketError::BadRequest(
                "organization visibility needs `org`".into(),
            ));
        }
        if !(0..=100_000_000).contains(&self.price) {
            return Err(MarketError::BadRequest(
                "price_cents must be 0 or more".into(),
            ));
        }
        Ok(())
    }

    /// The fields that differ, as `{field: [old, new]}` (what the audit records).
    pub(super) fn diff(&self, wanted: &Settings) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        if self.visibility != wanted.visibility {
            out.insert(
                "visibility".into(),
                serde_json::json!([self.visibility, wanted.visibility]),
            );
        }
        if self.org != wanted.org {
            out.insert("org".into(), serde_json::json!([self.org, wanted.org]));
        }
        if self.price != wanted.price {
            out.insert(
                "price_cents".into(),
                serde_json::json!([self.price, wanted.price]),
            );
        }
        out
    }
}

/// May `user` change a capability owned by `owner` from `current` to `wanted`? The owner, an
/// admin of its organization and a marketplace administrator may; a member may not. An org
/// admin moves it only between organizations they administer (its owner may bring one without
/// an organization into an organization they belong to).
pub(super) fn may_change(
    user: &User,
    id: &str,
    owner: i64,
    current: &Settings,
    wanted: &Settings,
) -> MarketResult<()> {
    if current == wanted || user.admin {
        return Ok(());
    }
    let owner_side =
        user.id == owner || current.org.as_deref().is_some_and(|o| user.is_org_admin(o));
    if !owner_side {
        return Err(MarketError::Forbidden(format!(
            "only the owner of `{id}` or an admin of its organization may change its visibility, organization or price"
        )));
    }
    if wanted.org != current.org {
        let from = match &current.org {
            Some(o) => user.is_org_admin(o),
            None => user.id == owner,
        };
        let to = match &wanted.org {
            Some(o) => {
                user.is_org_admin(o)
                    || (current.org.is_none() && user.id == owner && user.is_member(o))
            }
            None => false,
        };
        if !(from && to) {
            return Err(MarketError::Forbidden(format!(
                "`{id}` moves only between organizations you administer"
            )));
        }
    }
    Ok(())
}

/// Records an explicit change of a capability's settings.
pub(super) async fn audit_change(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    user: &User,
    changes: serde_json::Map<String, serde_json::Value>,
) -> MarketResult<()> {
    sqlx::query(db.sql(
        "INSERT INTO listing_changes (capability_id, user_id, changes, at) VALUES ($1, $2, $3, $4)",
    ))
    .bind(id)
    .bind(user.id)
    .bind(serde_json::Value::Object(changes).to_string())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a capability's settings, keeping what they were (with change number `seq`) so the
/// change feed can tell those who saw it before that it is gone for them.
pub(super) async fn write_settings(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    s: &Settings,
    seq: i64,
) -> MarketResult<()> {
    sqlx::query(db.sql(
        "INSERT INTO removals (capability_id, seq, visibility, org, owner_id, listed)
         SELECT id, $1, visibility, org, owner_id, listed FROM capabilities WHERE id = $2",
    ))
    .bind(seq)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        db.sql("UPDATE capabilities SET visibility = $1, org = $2, price_cents = $3 WHERE id = $4"),
    )
    .bind(&s.visibility)
    .bind(s.org.as_deref())
    .bind(s.price)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `PATCH /v1/capabilities/{id}`: an explicit change of visibility, organization or price.
pub async fn change_listing(
    db: &Db,
    user: &User,
    id: &str,
    change: &capsmith_format::market::ListingChange,
) -> MarketResult<()> {
    let (owner, org, price) = head(db, Some(user), id).await?;
    let (visibility,): (String,) =
        sqlx::query_as(db.sql("SELECT visibility FROM capabilities WHERE id = $1"))
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
    let current = Settings {
        visibility,
        org,
        price,
    };
    let wanted = Settings {
        visibility: change
            .visibility
            .clone()
            .unwrap_or_else(|| current.visibility.clone()),
        org: change.org.clone().or_else(|| current.org.clone()),
        price: change.price_cents.unwrap_or(current.price),
    };
    wanted.check()?;
    may_change(user, id, owner, &current, &wanted)?;
    let changes = current.diff(&wanted);
    if changes.is_empty() {
        return Ok(());
    }
    let mut tx = db.write().await?;
    let seq = db.next_seq(&mut tx).await?;
    write_settings(db, &mut tx, id, &wanted, seq).await?;
    audit_change(db, &mut tx, id, user, changes).await?;
    touch(db, &mut tx, id, seq).await?;
    tx.commit().await?;
    Ok(())
}
