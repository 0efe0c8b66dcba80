// The app's API (lakesentinel/app/openapi.json): typed fetches, errors carry the server's detail.

export type Severity = "critical" | "high" | "medium" | "low" | "info";
export type Domain = "cost" | "security" | "performance" | "reliability";
export type Row = Record<string, unknown>;

export interface Meta {
  environment: string;
  query_layer: string;
  refresh_s: number;
  user: string;
  copilot_configured: boolean;
  now: string;
}
export interface DomainHealth {
  domain: Domain;
  score: number;
  active_incidents: number;
  status: "healthy" | "degraded" | "unhealthy";
}
export interface SpendDay {
  date_key: number;
  list_cost: number;
  budget: number;
}
export interface Freshness {
  stream: string;
  kind: string;
  source: string | null;
  last_seen_at: string | null;
  last_data_at: string | null;
  age_seconds: number | null;
  status: "live" | "idle" | "failed" | "never";
  error: string | null;
}
export interface Incident {
  incident_id: string;
  status: "open" | "acknowledged" | "silenced" | "resolved";
  muted_by: string | null;
  severity: Severity;
  domain: string;
  rule_id: string;
  title: string;
  summary: string | null;
  workspace_id: string | null;
  entity_type: string | null;
  entity_id: string | null;
  opened_at: string | null;
  last_alert_at: string | null;
  alert_count: number | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  cost_impact: number | null;
  runbook_url: string | null;
  labels: Record<string, string> | null;
  owner: string | null;
  age_seconds: number | null;
}
export interface Overview {
  health: DomainHealth[];
  open_incidents: Incident[];
  incident_counts: Record<Severity, number>;
  spend: { days: SpendDay[]; latest: SpendDay | null; period_list_cost: number; period_budget: number };
  freshness: Freshness[];
}
export interface Series {
  title: string;
  unit: string;
  x: string;
  lines: string[];
  points: Row[];
}
export interface TopTable {
  title: string;
  columns: string[];
  rows: Row[];
}
export interface DomainPage {
  domain: Domain;
  gold_ready: boolean;
  series: Series[];
  tables: TopTable[];
  incidents: Incident[];
}
export interface TimelineEvent {
  at: string;
  kind: string;
  text: string;
}
export interface IncidentDetail {
  incident: Row & Incident;
  alerts: Row[];
  linked_facts: Record<string, Row[]>;
  timeline: TimelineEvent[];
}
export interface TrendDay {
  date_key: number;
  incidents: number;
  mtta_s: number | null;
  mttr_s: number | null;
}
export interface Silence {
  silence_id: string;
  state: string;
  matchers: string[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  source: string;
}
export interface PreviewHit {
  incident_id: string;
  title: string;
  severity: string;
  status: string;
}

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`api/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const payload = await response.json();
      if (typeof payload.detail === "string") detail = payload.detail;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

export const api = {
  meta: () => call<Meta>("GET", "meta"),
  overview: () => call<Overview>("GET", "overview"),
  domain: (d: Domain) => call<DomainPage>("GET", `domains/${d}`),
  incidents: (statuses?: string[]) =>
    call<Incident[]>("GET", "incidents" + (statuses?.length ? "?" + statuses.map((s) => `status=${s}`).join("&") : "")),
  incident: (id: string) => call<IncidentDetail>("GET", `incidents/${encodeURIComponent(id)}`),
  ack: (id: string, note = "") => call<Row>("POST", `incidents/${encodeURIComponent(id)}/ack`, { note }),
  resolve: (id: string, note = "") => call<Row>("POST", `incidents/${encodeURIComponent(id)}/resolve`, { note }),
  renotify: (id: string) => call<Row>("POST", `incidents/${encodeURIComponent(id)}/renotify`),
  trends: () => call<TrendDay[]>("GET", "review/trends"),
  silences: () => call<Silence[]>("GET", "silences"),
  preview: (matchers: string[]) => call<PreviewHit[]>("POST", "silences/preview", { matchers }),
  silence: (matchers: string[], duration: string, comment: string) =>
    call<Silence>("POST", "silences", { matchers, duration, comment }),
  chat: (message: string) => call<{ configured: boolean; answer: string | null }>("POST", "chat", { message }),
};
