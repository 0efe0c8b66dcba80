import { Link } from "react-router-dom";
import { api } from "../api";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { LineChartCard } from "../components/LineChartCard";
import { Panel } from "../components/States";
import { age, money } from "../format";
import { usePoll } from "../usePoll";

export function Overview({ refreshMs }: { refreshMs: number }) {
  const polled = usePoll(api.overview, refreshMs);
  return (
    <>
      <h1>Platform health</h1>
      <Panel title="Health by domain" polled={polled}>
        {(o) => (
          <ul className="cards">
            {o.health.map((h) => (
              <li key={h.domain} className={`card health-${h.status}`}>
                <Link to={`/${h.domain}`}>
                  <span className="card-title">{h.domain}</span>
                  <span className="score" aria-label={`${h.domain} health score ${h.score} of 100`}>{h.score}</span>
                  <span className="muted">
                    {h.status} · {h.active_incidents} active incident{h.active_incidents === 1 ? "" : "s"}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </Panel>
      <div className="grid-2">
        <Panel title="Open incidents" polled={polled} isEmpty={(o) => o.open_incidents.length === 0}
          empty="No open incidents.">
          {(o) => (
            <>
              <p className="counts">
                {Object.entries(o.incident_counts).map(([sev, n]) => (
                  <span key={sev}>
                    <SeverityBadge severity={sev} /> {n}
                  </span>
                ))}
              </p>
              <ul className="incident-list">
                {o.open_incidents.map((i) => (
                  <li key={i.incident_id}>
                    <SeverityBadge severity={i.severity} /> <StatusBadge status={i.status} />{" "}
                    <Link to={`/alerts?incident=${i.incident_id}`}>{i.title}</Link>{" "}
                    <span className="muted">{age(i.age_seconds)}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </Panel>
        <Panel title="Spend against budget" polled={polled} isEmpty={(o) => o.spend.days.length === 0}
          empty="No cost data yet: gold has not been built (lakesentinel gold build).">
          {(o) => (
            <>
              <p className="big-figure">
                {money(o.spend.latest?.list_cost)} <span className="muted">of {money(o.spend.latest?.budget)} on the newest day</span>
              </p>
              <p className="muted">
                {money(o.spend.period_list_cost)} of {money(o.spend.period_budget)} over {o.spend.days.length} days
              </p>
              <LineChartCard series={{ title: "List cost and budget per day", unit: "USD", x: "day", lines: ["list_cost", "budget"],
                points: o.spend.days.map((d) => ({ ...d, day: String(d.date_key) })) }} />
            </>
          )}
        </Panel>
      </div>
      <Panel title="Freshness of sources and streams" polled={polled} isEmpty={(o) => o.freshness.length === 0}>
        {(o) => (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="freshness">
            <table>
              <caption>Every source table's stream and every silver task</caption>
              <thead>
                <tr>
                  <th scope="col">stream</th>
                  <th scope="col">kind</th>
                  <th scope="col">status</th>
                  <th scope="col">last run</th>
                  <th scope="col">last data</th>
                </tr>
              </thead>
              <tbody>
                {o.freshness.map((f) => (
                  <tr key={f.stream}>
                    <td>{f.stream}</td>
                    <td>{f.kind}</td>
                    <td><StatusBadge status={f.status} />{f.error ? <span className="muted"> {f.error}</span> : null}</td>
                    <td>{age(f.age_seconds)}</td>
                    <td>{f.last_data_at ? f.last_data_at.replace("T", " ").slice(0, 19) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}
