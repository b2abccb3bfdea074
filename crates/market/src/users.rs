//! Accounts, organizations and API tokens. A token is shown once when it is made; only its
//! SHA-256 is stored.

use capsmith_format::market::{Account, OrgRole};
use sqlx::Row;

use crate::db::{now, Db};
use crate::error::{MarketError, MarketResult};

/// The signed-in reader of a request.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub verified: bool,
    pub public_key: Option<String>,
    pub orgs: Vec<OrgRole>,
}

impl User {
    pub fn is_org_admin(&self, org: &str) -> bool {
        self.orgs.iter().any(|o| o.org == org && o.role == "admin")
    }
    pub fn is_member(&self, org: &str) -> bool {
        self.orgs.iter().any(|o| o.org == org)
    }
    pub fn account(&self) -> Account {
        Account {
            name: self.name.clone(),
            admin: self.admin,
            verified: self.verified,
            orgs: self.orgs.clone(),
            public_key: self.public_key.clone(),
        }
    }
}

pub fn token_hash(token: &str) -> String {
    capsmith_format::package::sha256_hex(token.trim().as_bytes())
}

fn new_token() -> MarketResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| MarketError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("cmk_{}", hex::encode(b)))
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// What `capsmith-market user add` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub name: String,
    /// With `org`: admin of that organization; without: a marketplace administrator.
    pub admin: bool,
    pub org: Option<String>,
    pub verified: bool,
}

/// Creates a user (and its organization membership) and returns a fresh API token. An
/// existing user gets a new token (the old one stops working) and the membership added.
pub async fn add_user(db: &Db, u: &NewUser) -> MarketResult<String> {
    if !valid_name(&u.name) {
        return Err(MarketError::BadRequest(format!(
            "`{}` is not a valid user name: lowercase letters, digits, - and _ (at most 64)",
            u.name
        )));
    }
    if let Some(o) = &u.org {
        if !valid_name(o) {
            return Err(MarketError::BadRequest(format!(
                "`{o}` is not a valid organization name: lowercase letters, digits, - and _"
            )));
        }
    }
    let token = new_token()?;
    let site_admin = u.admin && u.org.is_none();
    let mut tx = db.write().await?;
    let existing: Option<(i64,)> = sqlx::query_as(db.sql("SELECT id FROM users WHERE name = $1"))
        .bind(&u.name)
        .fetch_optional(&mut *tx)
        .await?;
    let id = match existing {
        Some((id,)) => {
            sqlx::query(db.sql(
                "UPDATE users SET token_hash = $1, admin = CASE WHEN $2 = 1 THEN 1 ELSE admin END,
                   verified = CASE WHEN $3 = 1 THEN 1 ELSE verified END WHERE id = $4",
            ))
            .bind(token_hash(&token))
            .bind(site_admin as i64)
            .bind(u.verified as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let (id,): (i64,) = sqlx::query_as(db.sql(
                "INSERT INTO users (name, token_hash, admin, verified, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            ))
            .bind(&u.name)
            .bind(token_hash(&token))
            .bind(site_admin as i64)
            .bind(u.verified as i64)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
            id
        }
    };
    if let Some(org) = &u.org {
        sqlx::query(db.sql("INSERT INTO orgs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"))
            .bind(org)
            .execute(&mut *tx)
            .await?;
        let role = if u.admin { "admin" } else { "member" };
        sqlx::query(db.sql(
            "INSERT INTO org_members (org, user_id, role) VALUES ($1, $2, $3)
             ON CONFLICT (org, user_id) DO UPDATE SET role = excluded.role",
        ))
        .bind(org)
        .bind(id)
        .bind(role)
        .execute(&mut *tx)
        .await?;
        // Members now see the organization's capabilities: make them part of the next sync.
        let seq = db.next_seq(&mut tx).await?;
        sqlx::query(db.sql("UPDATE capabilities SET seq = $1 WHERE org = $2"))
            .bind(seq)
            .bind(org)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(token)
}

async fn load(db: &Db, row: sqlx::any::AnyRow) -> MarketResult<User> {
    let id: i64 = row.try_get("id")?;
    let orgs =
        sqlx::query(db.sql("SELECT org, role FROM org_members WHERE user_id = $1 ORDER BY org"))
            .bind(id)
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .map(|r| -> Result<OrgRole, sqlx::Error> {
                Ok(OrgRole {
                    org: r.try_get("org")?,
                    role: r.try_get("role")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
    Ok(User {
        id,
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        verified: row.try_get::<i64, _>("verified")? != 0,
        public_key: row.try_get("public_key")?,
        orgs,
    })
}

const USER_COLUMNS: &str = "id, name, admin, verified, public_key";

pub async fn by_token(db: &Db, token: &str) -> MarketResult<Option<User>> {
    let row = sqlx::query(db.sql(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE token_hash = $1"
    )))
    .bind(token_hash(token))
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(r) => Ok(Some(load(db, r).await?)),
        None => Ok(None),
    }
}

pub async fn by_name(db: &Db, name: &str) -> MarketResult<User> {
    let row = sqlx::query(db.sql(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1")))
        .bind(name)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| MarketError::NotFound(format!("no user `{name}`")))?;
    load(db, row).await
}

/// Moves every capability the user owns up the change feed (what readers see of the publisher
/// changed: key, verified mark).
async fn bump_owned(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: i64,
) -> MarketResult<()> {
    let seq = db.next_seq(tx).await?;
    sqlx::query(db.sql(
        "UPDATE capabilities SET seq = $1 WHERE owner_id = $2
           OR id IN (SELECT capability_id FROM versions WHERE published_by = $3)",
    ))
    .bind(seq)
    .bind(user_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Registers (or replaces) the user's signing key. Capabilities they own or signed versions of
/// move up the change feed, so clients learn about the new key. A replacement with `rotation`
/// (the hand-over signed by the registered key) is recorded, and clients that pinned the old
/// key follow it; without one the key is still replaced (a lost key), and those clients refuse
/// versions signed by the new one until their users reinstall.
pub async fn set_key(
    db: &Db,
    user: &User,
    public_key: &str,
    rotation: Option<&str>,
) -> MarketResult<Account> {
    let public_key = public_key.trim();
    capsmith_format::package::check_public_key(public_key)
        .map_err(|e| MarketError::BadRequest(e.to_string()))?;
    if user.public_key.as_deref() == Some(public_key) {
        return Ok(user.account());
    }
    let handover =
        match (rotation, user.public_key.as_deref()) {
            (Some(sig), Some(old)) => {
                capsmith_format::package::verify_rotation(&user.name, old, public_key, sig)
                    .map_err(|e| MarketError::SignatureInvalid(e.to_string()))?;
                Some((old.to_string(), sig.trim().to_string()))
            }
            (Some(_), None) => return Err(MarketError::BadRequest(
                "there is no registered key to hand over from; register the key without `rotation`"
                    .into(),
            )),
            (None, _) => None,
        };
    let mut tx = db.write().await?;
    sqlx::query(db.sql("UPDATE users SET public_key = $1 WHERE id = $2"))
        .bind(public_key)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    if let Some((old, sig)) = handover {
        sqlx::query(db.sql(
            "INSERT INTO key_rotations (user_id, old_key, new_key, signature, at) VALUES ($1, $2, $3, $4, $5)",
        ))
        .bind(user.id)
        .bind(old)
        .bind(public_key)
        .bind(sig)
        .bind(crate::db::now())
        .execute(&mut *tx)
        .await?;
    }
    bump_owned(db, &mut tx, user.id).await?;
    tx.commit().await?;
    let mut acc = user.account();
    acc.public_key = Some(public_key.to_string());
    Ok(acc)
}

/// Marks a publisher verified (an administrator checked who they are).
pub async fn set_verified(db: &Db, name: &str, verified: bool) -> MarketResult<()> {
    let user = by_name(db, name).await?;
    let mut tx = db.write().await?;
    sqlx::query(db.sql("UPDATE users SET verified = $1 WHERE id = $2"))
        .bind(verified as i64)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    bump_owned(db, &mut tx, user.id).await?;
    tx.commit().await?;
    Ok(())
}
