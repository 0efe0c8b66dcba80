import { Link, useParams } from "react-router-dom";
import { api } from "../api";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { DataTable } from "../components/DataTable";
import { LineChartCard } from "../components/LineChartCard";
import { Panel } from "../components/States";
import { duration, timestamp } from "../format";
import { usePoll } from "../usePoll";

export function IncidentReview({ refreshMs }: { refreshMs: number }) {
  const { id } = useParams();
  const trends = usePoll(api.trends, refreshMs);
  const incidents = usePoll(() => api.incidents(), refreshMs);
  return (
    <>
      <h1>Incident review</h1>
      <Panel title="Response times" polled={trends} isEmpty={(t) => t.length === 0} empty="No incidents yet.">
        {(t) => (
          <LineChartCard series={{ title: "Mean time to acknowledge and to resolve, by day opened", unit: "minutes", x: "day",
            lines: ["mtta_min", "mttr_min"],
            points: t.map((d) => ({ day: String(d.date_key), mtta_min: d.mtta_s === null ? null : +(d.mtta_s / 60).toFixed(1),
              mttr_min: d.mttr_s === null ? null : +(d.mttr_s / 60).toFixed(1) })) }} />
        )}
      </Panel>
      <div className="grid-2 wide-right">
        <Panel title="Incidents to review" polled={incidents} isEmpty={(r) => r.length === 0} empty="No incidents yet.">
          {(rows) => (
            <ul className="incident-list">
              {rows.map((i) => (
                <li key={i.incident_id} className={i.incident_id === id ? "selected" : undefined}>
                  <SeverityBadge severity={i.severity} /> <StatusBadge status={i.status} />{" "}
                  <Link to={`/review/${i.incident_id}`} aria-current={i.incident_id === id ? "page" : undefined}>{i.title}</Link>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        {id ? <Timeline id={id} refreshMs={refreshMs} /> : (
          <section className="panel" aria-label="Timeline"><h2>Timeline</h2><p className="state empty">Pick an incident to see its timeline.</p></section>
        )}
      </div>
    </>
  );
}

function Timeline({ id, refreshMs }: { id: string; refreshMs: number }) {
  const detail = usePoll(() => api.incident(id), refreshMs, [id]);
  return (
    <Panel title="Timeline" polled={detail}>
      {(d) => (
        <>
          <h3>{d.incident.title}</h3>
          <p className="muted">
            time to acknowledge {duration(d.incident.time_to_acknowledge_s as number | null)} · time to resolve{" "}
            {duration(d.incident.time_to_resolve_s as number | null)}
          </p>
          <ol className="timeline">
            {d.timeline.map((e, n) => (
              <li key={n} className={`event-${e.kind}`}>
                <time dateTime={e.at}>{timestamp(e.at)}</time> <strong>{e.kind}</strong> {e.text}
              </li>
            ))}
          </ol>
          {Object.entries(d.linked_facts).map(([table, rows]) => (
            <DataTable key={table} caption={`Linked facts: ${table}`} columns={[]} rows={rows} />
          ))}
          {Object.keys(d.linked_facts).length === 0 && <p className="state empty">No linked gold facts for this incident's evidence.</p>}
        </>
      )}
    </Panel>
  );
}
