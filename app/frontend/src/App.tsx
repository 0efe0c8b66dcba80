import { HashRouter, NavLink, Route, Routes } from "react-router-dom";
import { api } from "./api";
import { AlertCenter } from "./pages/AlertCenter";
import { Chat } from "./pages/Chat";
import { DomainView } from "./pages/DomainView";
import { IncidentReview } from "./pages/IncidentReview";
import { Overview } from "./pages/Overview";
import { usePoll } from "./usePoll";

const PAGES: [string, string][] = [
  ["/", "Overview"],
  ["/cost", "Cost"],
  ["/security", "Security"],
  ["/performance", "Performance"],
  ["/reliability", "Reliability"],
  ["/alerts", "Alert center"],
  ["/review", "Incident review"],
  ["/chat", "Chat"],
];

export function App() {
  const meta = usePoll(api.meta, 60_000);
  const refreshMs = (meta.data?.refresh_s ?? 5) * 1000;
  return (
    <HashRouter>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">lakesentinel · Platform Health</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map(([to, name]) => (
              <li key={to}>
                <NavLink to={to} end={to === "/"}>{name}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">{meta.data ? `${meta.data.user} · ${meta.data.environment}` : ""}</span>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Overview refreshMs={refreshMs} />} />
          <Route path="/cost" element={<DomainView domain="cost" refreshMs={refreshMs} />} />
          <Route path="/security" element={<DomainView domain="security" refreshMs={refreshMs} />} />
          <Route path="/performance" element={<DomainView domain="performance" refreshMs={refreshMs} />} />
          <Route path="/reliability" element={<DomainView domain="reliability" refreshMs={refreshMs} />} />
          <Route path="/alerts" element={<AlertCenter refreshMs={refreshMs} />} />
          <Route path="/review" element={<IncidentReview refreshMs={refreshMs} />} />
          <Route path="/review/:id" element={<IncidentReview refreshMs={refreshMs} />} />
          <Route path="/chat" element={<Chat meta={meta.data} />} />
          <Route path="*" element={<p className="state empty">No such page.</p>} />
        </Routes>
      </main>
    </HashRouter>
  );
}
