import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, type Incident, type PreviewHit } from "../api";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { DataTable } from "../components/DataTable";
import { ErrorState, Panel } from "../components/States";
import { age, money, timestamp } from "../format";
import { usePoll } from "../usePoll";

const ACTIVE = ["open", "acknowledged", "silenced"];

export function AlertCenter({ refreshMs }: { refreshMs: number }) {
  const [showResolved, setShowResolved] = useState(false);
  const [params, setParams] = useSearchParams();
  const selected = params.get("incident");
  const list = usePoll(() => api.incidents(showResolved ? undefined : ACTIVE), refreshMs, [showResolved]);
  return (
    <>
      <h1>Alert center</h1>
      <div className="grid-2 wide-left">
        <Panel title="Incidents" polled={list} isEmpty={(rows) => rows.length === 0}
          empty={showResolved ? "No incidents at all." : "No active incidents."}>
          {(rows) => (
            <>
              <label className="toggle">
                <input type="checkbox" checked={showResolved} onChange={(e) => setShowResolved(e.target.checked)} />{" "}
                include resolved
              </label>
              <div className="table-scroll" tabIndex={0} role="region" aria-label="incidents">
                <table>
                  <caption>{rows.length} incident(s), most severe first</caption>
                  <thead>
                    <tr>
                      <th scope="col">severity</th>
                      <th scope="col">status</th>
                      <th scope="col">incident</th>
                      <th scope="col">owner</th>
                      <th scope="col">age</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((i) => (
                      <tr key={i.incident_id} className={i.incident_id === selected ? "selected" : undefined}>
                        <td><SeverityBadge severity={i.severity} /></td>
                        <td><StatusBadge status={i.status} /></td>
                        <td>
                          <button type="button" className="link" onClick={() => setParams({ incident: i.incident_id })}
                            aria-pressed={i.incident_id === selected} data-incident={i.incident_id}>
                            {i.title}
                          </button>
                          <div className="muted small">{i.domain} · {i.rule_id}{i.entity_id ? ` · ${i.entity_id}` : ""}</div>
                        </td>
                        <td>{i.owner ?? "–"}</td>
                        <td>{age(i.age_seconds)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Panel>
        {selected ? <IncidentPane id={selected} refreshMs={refreshMs} onChanged={list.reload} /> : (
          <section className="panel" aria-label="Incident"><h2>Incident</h2><p className="state empty">Pick an incident to act on it.</p></section>
        )}
      </div>
      <Silences refreshMs={refreshMs} />
    </>
  );
}

function IncidentPane({ id, refreshMs, onChanged }: { id: string; refreshMs: number; onChanged: () => void }) {
  const detail = usePoll(() => api.incident(id), refreshMs, [id]);
  const [note, setNote] = useState("");
  const [message, setMessage] = useState<string>();
  const [failure, setFailure] = useState<string>();

  async function act(what: "ack" | "resolve" | "renotify") {
    setFailure(undefined);
    try {
      if (what === "ack") await api.ack(id, note);
      else if (what === "resolve") await api.resolve(id, note);
      else await api.renotify(id);
      setMessage(what === "ack" ? "Acknowledgement recorded; the lifecycle applies it on its next step."
        : what === "resolve" ? "Resolution recorded; the lifecycle applies it on its next step."
        : "Dead-lettered notifications requeued.");
      detail.reload();
      onChanged();
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <Panel title="Incident" polled={detail}>
      {(d) => {
        const i = d.incident as Incident & Record<string, unknown>;
        const done = i.status === "resolved";
        return (
          <div className="incident-detail">
            <h3>{i.title}</h3>
            <p>
              <SeverityBadge severity={i.severity} /> <StatusBadge status={i.status} />{" "}
              <span className="muted">opened {timestamp(i.opened_at)} · {i.alert_count} alert(s) · owner {i.owner ?? "–"}</span>
            </p>
            {i.summary && <p>{i.summary}</p>}
            <dl className="facts">
              <dt>rule</dt><dd>{i.rule_id}</dd>
              <dt>entity</dt><dd>{i.entity_type ?? "–"} {i.entity_id ?? ""}</dd>
              <dt>workspace</dt><dd>{i.workspace_id ?? "–"}</dd>
              <dt>cost impact</dt><dd>{money(i.cost_impact)}</dd>
              <dt>acknowledged</dt><dd>{i.acknowledged_by ? `${i.acknowledged_by} at ${timestamp(i.acknowledged_at)}` : "–"}</dd>
              <dt>runbook</dt>
              <dd>{i.runbook_url ? <a href={i.runbook_url} target="_blank" rel="noreferrer">{i.runbook_url}</a> : "none given by the rule"}</dd>
            </dl>
            <div className="actions">
              <label htmlFor="note">Note</label>
              <input id="note" value={note} onChange={(e) => setNote(e.target.value)} placeholder="what you are doing about it" />
              <button type="button" onClick={() => act("ack")} disabled={done || !!i.acknowledged_at}>Acknowledge</button>
              <button type="button" onClick={() => act("resolve")} disabled={done}>Resolve</button>
              <button type="button" onClick={() => act("renotify")}>Re-notify</button>
              <Link to={`/review/${i.incident_id}`}>Review timeline</Link>
            </div>
            {message && <p role="status" className="ok">{message}</p>}
            {failure && <ErrorState error={failure} />}
            <DataTable caption="Evidence: the incident's alerts" columns={["detected_at", "severity", "summary", "observed", "expected", "evidence"]}
              rows={d.alerts} />
            {Object.entries(d.linked_facts).map(([table, rows]) => (
              <DataTable key={table} caption={`Linked ${table} rows`} columns={[]} rows={rows} />
            ))}
          </div>
        );
      }}
    </Panel>
  );
}

function Silences({ refreshMs }: { refreshMs: number }) {
  const list = usePoll(api.silences, refreshMs);
  const [matchers, setMatchers] = useState("");
  const [duration, setDuration] = useState("2h");
  const [comment, setComment] = useState("");
  const [hits, setHits] = useState<PreviewHit[]>();
  const [failure, setFailure] = useState<string>();
  const [created, setCreated] = useState<string>();
  const parsed = () => matchers.split("\n").map((m) => m.trim()).filter(Boolean);

  async function preview() {
    setFailure(undefined);
    try {
      setHits(await api.preview(parsed()));
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  }
  async function create() {
    setFailure(undefined);
    try {
      const s = await api.silence(parsed(), duration, comment);
      setCreated(`Silence ${s.silence_id} created until ${timestamp(s.ends_at)}.`);
      list.reload();
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <div className="grid-2">
      <section className="panel" aria-label="New silence">
        <h2>New silence</h2>
        <form onSubmit={(e) => { e.preventDefault(); void create(); }}>
          <label htmlFor="matchers">Matchers, one per line (name=value, name!=value, name=~regex)</label>
          <textarea id="matchers" rows={3} value={matchers} onChange={(e) => setMatchers(e.target.value)}
            placeholder='rule_id="cost.idle_cluster"' />
          <label htmlFor="duration">For</label>
          <input id="duration" value={duration} onChange={(e) => setDuration(e.target.value)} />
          <label htmlFor="comment">Why (kept in the audit trail)</label>
          <input id="comment" value={comment} onChange={(e) => setComment(e.target.value)} />
          <div className="actions">
            <button type="button" onClick={() => void preview()} disabled={!parsed().length}>Preview</button>
            <button type="submit" disabled={!parsed().length || !comment.trim()}>Create silence</button>
          </div>
        </form>
        {failure && <ErrorState error={failure} />}
        {created && <p role="status" className="ok">{created}</p>}
        {hits && (
          <div aria-live="polite">
            <p><strong>{hits.length}</strong> active incident(s) would be muted now.</p>
            <ul className="incident-list">
              {hits.map((h) => (
                <li key={h.incident_id}><SeverityBadge severity={h.severity} /> {h.title}</li>
              ))}
            </ul>
          </div>
        )}
      </section>
      <Panel title="Silences" polled={list} isEmpty={(rows) => rows.length === 0} empty="No active or pending silences.">
        {(rows) => (
          <DataTable caption="Active and pending silences" columns={["silence_id", "state", "matchers", "ends_at", "created_by", "comment"]}
            rows={rows.map((s) => ({ ...s, matchers: s.matchers.join(", "), ends_at: timestamp(s.ends_at) }))} />
        )}
      </Panel>
    </div>
  );
}
