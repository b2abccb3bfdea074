//! Monitoring and cost: per capability and per agent, over a window of days — runs, success
//! rate, p50/p95 duration, errors by kind, network calls, AI tokens and cost, day by day — and
//! what things cost: a per-call or per-1000-token price the user sets for a capability, and a
//! monthly cap per agent that blocks further paid calls.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use ts_rs::TS;

use super::Capsmith;
use crate::engine::EngineError;
use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsTotals {
    pub runs: i64,
    pub ok: i64,
    /// 0..1; null with no runs.
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub network_calls: i64,
    pub tokens: i64,
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub runs: i64,
    pub errors: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsRow {
    pub capability: String,
    pub totals: StatsTotals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsView {
    pub capability: Option<String>,
    pub agent: Option<String>,
    pub days: u32,
    pub totals: StatsTotals,
    /// Failed runs by error kind, most frequent first.
    pub errors_by_kind: Vec<(String, i64)>,
    /// Every day of the window, oldest first (days without runs included, as zeros).
    pub daily: Vec<StatsDay>,
    /// Per capability, most runs first.
    pub by_capability: Vec<StatsRow>,
    /// The agent's monthly cap and what this calendar month has cost so far.
    pub budget: Option<f64>,
    pub spent_this_month: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CostView {
    pub capability: String,
    pub per_call: f64,
    pub per_1k_tokens: f64,
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

struct Run {
    capability: String,
    day: String,
    ok: bool,
    kind: Option<String>,
    duration: f64,
    calls: i64,
    tokens: i64,
    cost: f64,
}

fn totals<'a>(runs: impl Iterator<Item = &'a Run>) -> StatsTotals {
    let mut durations = Vec::new();
    let mut t = StatsTotals {
        runs: 0,
        ok: 0,
        success_rate: None,
        p50_ms: None,
        p95_ms: None,
        network_calls: 0,
        tokens: 0,
        cost: 0.0,
    };
    for r in runs {
        t.runs += 1;
        t.ok += r.ok as i64;
        t.network_calls += r.calls;
        t.tokens += r.tokens;
        t.cost += r.cost;
        durations.push(r.duration);
    }
    durations.sort_by(f64::total_cmp);
    t.success_rate = (t.runs > 0).then(|| t.ok as f64 / t.runs as f64);
    t.p50_ms = quantile(&durations, 0.5);
    t.p95_ms = quantile(&durations, 0.95);
    t
}

impl Capsmith {
    /// Figures over the last `days` days (UTC), for one capability, one agent, or everything.
    pub async fn stats(
        &self,
        capability: Option<&str>,
        agent: Option<&str>,
        days: u32,
    ) -> CoreResult<StatsView> {
        let days = days.clamp(1, 366);
        let agent_id = match agent {
            Some(a) => Some(self.agent(a).await?.id),
            None => None,
        };
        if let Some(c) = capability {
            self.registry().summary(c).await?;
        }
        let rows = sqlx::query(
            "SELECT capability_id, substr(started_at, 1, 10) AS day, status, error_kind, coalesce(duration_ms, 0) AS duration_ms,
                    coalesce(network_calls, 0) AS network_calls, prompt_tokens + completion_tokens AS tokens, cost
             FROM executions
             WHERE started_at >= strftime('%Y-%m-%dT00:00:00.000Z', 'now', ?1)
               AND (?2 IS NULL OR capability_id = ?2) AND (?3 IS NULL OR agent_id = ?3)",
        )
        .bind(format!("-{} days", days - 1))
        .bind(capability)
        .bind(&agent_id)
        .fetch_all(self.registry().pool())
        .await?;
        let runs: Vec<Run> = rows
            .iter()
            .map(|r| Run {
                capability: r.get("capability_id"),
                day: r.get("day"),
                ok: r.get::<String, _>("status") == "ok",
                kind: r.get("error_kind"),
                duration: r.get("duration_ms"),
                calls: r.get("network_calls"),
                tokens: r.get("tokens"),
                cost: r.get("cost"),
            })
            .collect();
        let mut kinds: std::collections::BTreeMap<String, i64> = Default::default();
        for r in runs.iter().filter(|r| !r.ok) {
            *kinds
                .entry(r.kind.clone().unwrap_or_else(|| "error".into()))
                .or_default() += 1;
        }
        let mut errors_by_kind: Vec<(String, i64)> = kinds.into_iter().collect();
        errors_by_kind.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let today = chrono::Utc::now().date_naive();
        let daily = (0..days)
            .rev()
            .map(|back| {
                let day = (today - chrono::Duration::days(back as i64))
                    .format("%Y-%m-%d")
                    .to_string();
                let t = totals(runs.iter().filter(|r| r.day == day));
                StatsDay {
                    runs: t.runs,
                    errors: t.runs - t.ok,
                    p50_ms: t.p50_ms,
                    p95_ms: t.p95_ms,
                    cost: t.cost,
                    day,
                }
            })
            .collect();
        let mut caps: Vec<&str> = runs.iter().map(|r| r.capability.as_str()).collect();
        caps.sort();
        caps.dedup();
        let mut by_capability: Vec<StatsRow> = caps
            .into_iter()
            .map(|c| StatsRow {
                capability: c.to_string(),
                totals: totals(runs.iter().filter(|r| r.capability == c)),
            })
            .collect();
        by_capability.sort_by_key(|r| std::cmp::Reverse(r.totals.runs));
        let (budget, spent_this_month) = match &agent_id {
            Some(id) => (
                self.agent_budget(id).await?,
                Some(self.agent_spent_this_month(id).await?),
            ),
            None => (None, None),
        };
        Ok(StatsView {
            capability: capability.map(str::to_string),
            agent: agent_id,
            days,
            totals: totals(runs.iter()),
            errors_by_kind,
            daily,
            by_capability,
            budget,
            spent_this_month,
        })
    }

    /// Sets what a capability costs: per run, and per 1000 AI tokens a run uses.
    pub async fn set_cost(
        &self,
        capability: &str,
        per_call: f64,
        per_1k_tokens: f64,
    ) -> CoreResult<CostView> {
        self.registry().summary(capability).await?;
        for (name, v) in [("per-call", per_call), ("per-1k-tokens", per_1k_tokens)] {
            if !v.is_finite() || v < 0.0 {
                return Err(CoreError::InvalidArgument(format!(
                    "{name} must be a number ≥ 0, not {v}"
                )));
            }
        }
        sqlx::query(
            "INSERT INTO capability_costs (capability_id, per_call, per_1k_tokens) VALUES (?, ?, ?)
             ON CONFLICT(capability_id) DO UPDATE SET per_call = excluded.per_call, per_1k_tokens = excluded.per_1k_tokens",
        )
        .bind(capability)
        .bind(per_call)
        .bind(per_1k_tokens)
        .execute(self.registry().pool())
        .await?;
        Ok(CostView {
            capability: capability.to_string(),
            per_call,
            per_1k_tokens,
        })
    }

    /// Sets (or with `None` removes) an agent's monthly cost cap.
    pub async fn set_agent_budget(&self, agent: &str, monthly: Option<f64>) -> CoreResult<()> {
        let id = self.agent(agent).await?.id;
        if let Some(v) = monthly {
            if !v.is_finite() || v < 0.0 {
                return Err(CoreError::InvalidArgument(format!(
                    "a budget must be a number ≥ 0, not {v}"
                )));
            }
        }
        sqlx::query("UPDATE agents SET monthly_budget = ? WHERE id = ?")
            .bind(monthly)
            .bind(&id)
            .execute(self.registry().pool())
            .await?;
        Ok(())
    }

    pub(crate) async fn agent_budget(&self, agent_id: &str) -> CoreResult<Option<f64>> {
        Ok(
            sqlx::query_scalar::<_, Option<f64>>("SELECT monthly_budget FROM agents WHERE id = ?")
                .bind(agent_id)
                .fetch_optional(self.registry().pool())
                .await?
                .flatten(),
        )
    }

    pub(crate) async fn agent_spent_this_month(&self, agent_id: &str) -> CoreResult<f64> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce(sum(cost), 0.0) FROM executions WHERE agent_id = ? AND started_at >= strftime('%Y-%m-01T00:00:00.000Z', 'now')",
        )
        .bind(agent_id)
        .fetch_one(self.registry().pool())
        .await?)
    }

    /// Refuses a paid call (a capability with a price, or one that calls the AI endpoint)
    /// once the agent's month has cost its budget.
    pub(crate) async fn check_budget(
        &self,
        agent_id: &str,
        capability: &str,
        permissions: &[String],
    ) -> CoreResult<()> {
        let Some(cap) = self.agent_budget(agent_id).await? else {
            return Ok(());
        };
        let priced: Option<(f64, f64)> = sqlx::query_as(
            "SELECT per_call, per_1k_tokens FROM capability_costs WHERE capability_id = ?",
        )
        .bind(capability)
        .fetch_optional(self.registry().pool())
        .await?;
        let paid = priced.is_some_and(|(c, t)| c > 0.0 || t > 0.0)
            || permissions.iter().any(|p| p.starts_with("ai."));
        if !paid {
            return Ok(());
        }
        let spent = self.agent_spent_this_month(agent_id).await?;
        if spent >= cap {
            return Err(CoreError::Engine(EngineError::BudgetExceeded {
                agent: agent_id.to_string(),
                spent,
                cap,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.95), Some(95.0));
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
