import { Link } from "react-router-dom";
import { api, type Domain } from "../api";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { DataTable } from "../components/DataTable";
import { LineChartCard } from "../components/LineChartCard";
import { Panel } from "../components/States";
import { age } from "../format";
import { usePoll } from "../usePoll";

const TITLES: Record<Domain, string> = {
  cost: "Cost",
  security: "Security",
  performance: "Performance",
  reliability: "Reliability",
};

export function DomainView({ domain, refreshMs }: { domain: Domain; refreshMs: number }) {
  const polled = usePoll(() => api.domain(domain), refreshMs, [domain]);
  return (
    <>
      <h1>{TITLES[domain]}</h1>
      <Panel title="Trends" polled={polled} isEmpty={(p) => !p.gold_ready}
        empty="Gold has not been built for this lakehouse yet (lakesentinel gold build, or wait for the monitor's next gold run).">
        {(p) => p.series.map((s) => <LineChartCard key={s.title} series={s} />)}
      </Panel>
      <Panel title="Top lists" polled={polled} isEmpty={(p) => !p.gold_ready} empty="No gold tables yet.">
        {(p) => p.tables.map((t) => <DataTable key={t.title} caption={t.title} columns={t.columns} rows={t.rows} />)}
      </Panel>
      <Panel title={`${TITLES[domain]} incidents`} polled={polled} isEmpty={(p) => p.incidents.length === 0}
        empty={`No ${domain} incidents.`}>
        {(p) => (
          <ul className="incident-list">
            {p.incidents.map((i) => (
              <li key={i.incident_id}>
                <SeverityBadge severity={i.severity} /> <StatusBadge status={i.status} />{" "}
                <Link to={`/review/${i.incident_id}`}>{i.title}</Link> <span className="muted">{age(i.age_seconds)}</span>
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </>
  );
}
