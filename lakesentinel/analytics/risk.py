"""Security risk score per principal and per workspace: a documented weighted sum, explainable term by term.

Each principal-day of ``features_security_surface`` gets points for what it did:

| term | weight | why |
| --- | --- | --- |
| failed events (log1p) | 2.0 | brute force, denied access |
| high or critical events | 3.0 | the severity catalogue's own judgement |
| privilege changes (admin, grants, ACLs) | 4.0 | escalation precedes harm |
| exfiltration-like events (downloads, exports, secrets) | 3.0 | the harm itself |
| distinct source IPs above one (log1p) | 1.0 | credential sharing or theft |
| surge: events over 3x the 7-day daily mean (log1p of the ratio) | 2.0 | behaviour that changed |

The score is the sum; ``explanation`` lists each term's points so an analyst sees why. A principal's
risk is its highest day; a workspace's is the sum of its principals' top five (a few bad actors, not
the head count, make a workspace risky). Evaluation: Spearman rank correlation between the principal
scores and whether the principal was behind an injected security incident.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEIGHTS: dict[str, float] = {"failed": 2.0, "high_severity": 3.0, "privilege": 4.0, "exfiltration": 3.0,
                             "source_ips": 1.0, "surge": 2.0}


def terms(f: pd.DataFrame) -> pd.DataFrame:
    """Each term's points per row of the security surface features."""
    prior_mean = f["events_prior_7d"].astype(float) / 7.0
    ratio = f["events"].astype(float) / np.maximum(prior_mean, 1.0)
    return pd.DataFrame({
        "failed": WEIGHTS["failed"] * np.log1p(f["failed_events"].fillna(0).astype(float)),
        "high_severity": WEIGHTS["high_severity"] * np.log1p(f["high_events"].fillna(0).astype(float)),
        "privilege": WEIGHTS["privilege"] * np.log1p(f["privilege_events"].fillna(0).astype(float)),
        "exfiltration": WEIGHTS["exfiltration"] * np.log1p(f["exfiltration_events"].fillna(0).astype(float)),
        "source_ips": WEIGHTS["source_ips"] * np.log1p(np.maximum(f["distinct_ips"].fillna(1).astype(float) - 1, 0)),
        "surge": WEIGHTS["surge"] * np.log1p(np.maximum(ratio - 3.0, 0.0)),
    }, index=f.index)


def score_principals(features: pd.DataFrame) -> pd.DataFrame:
    """One row per (workspace, principal, day): the score and its explanation."""
    t = terms(features)
    out = features[["workspace_id", "user_name", "date_key"]].copy()
    out["risk_score"] = t.sum(axis=1)
    out["explanation"] = [
        {k: round(float(v), 3) for k, v in row.items() if v > 0} for row in t.to_dict("records")]
    return out


def principal_risk(scored: pd.DataFrame) -> pd.DataFrame:
    """Each principal's highest day."""
    idx = scored.groupby(["workspace_id", "user_name"])["risk_score"].idxmax()
    return scored.loc[idx].reset_index(drop=True)


def workspace_risk(principals: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    return (principals.sort_values("risk_score", ascending=False).groupby("workspace_id").head(top)
            .groupby("workspace_id", as_index=False)["risk_score"].sum())


def rank_correlation(principals: pd.DataFrame, incident_users: set[str]) -> float | None:
    """Spearman correlation between a principal's score and being behind an injected incident."""
    from scipy.stats import spearmanr

    users = principals.groupby("user_name")["risk_score"].max()
    label = users.index.to_series().str.lower().isin({u.lower() for u in incident_users}).astype(int)
    if label.nunique() < 2:
        return None
    return float(spearmanr(users.to_numpy(), label.to_numpy()).statistic)
