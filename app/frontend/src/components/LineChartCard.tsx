import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Series } from "../api";
import { label } from "../format";

const COLOURS = ["var(--color-chart-1)", "var(--color-chart-2)", "var(--color-chart-3)", "var(--color-chart-budget)"];

export function LineChartCard({ series }: { series: Series }) {
  if (!series.points.length) return <p className="state empty">No data for {series.title.toLowerCase()} yet.</p>;
  return (
    <figure className="chart" aria-label={series.title}>
      <figcaption>
        {series.title} <span className="muted">({series.unit})</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={series.points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid stroke="var(--color-border-default)" strokeDasharray="3 3" />
          <XAxis dataKey={series.x} tick={{ fontSize: 12 }} />
          <YAxis tick={{ fontSize: 12 }} width={70} />
          <Tooltip />
          <Legend formatter={(v: string) => label(v)} />
          {series.lines.map((line, i) => (
            <Line key={line} type="monotone" dataKey={line} stroke={COLOURS[i % COLOURS.length]} strokeWidth={2}
              dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
