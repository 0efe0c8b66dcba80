import { useState } from "react";
import { api, type Meta } from "../api";

export function Chat({ meta }: { meta: Meta | undefined }) {
  const [message, setMessage] = useState("");
  const [answer, setAnswer] = useState<string>();
  if (meta && !meta.copilot_configured) {
    return (
      <>
        <h1>Chat</h1>
        <section className="panel" aria-label="Copilot">
          <h2>Copilot</h2>
          <p className="state empty">No copilot configured. Set <code>copilot_endpoint</code> in config/app.yaml once a copilot
            serving endpoint exists; until then, ask the other pages.</p>
        </section>
      </>
    );
  }
  return (
    <>
      <h1>Chat</h1>
      <section className="panel" aria-label="Copilot">
        <h2>Copilot</h2>
        <form onSubmit={async (e) => { e.preventDefault(); const r = await api.chat(message); setAnswer(r.answer ?? "No answer."); }}>
          <label htmlFor="question">Question</label>
          <input id="question" value={message} onChange={(e) => setMessage(e.target.value)} />
          <button type="submit" disabled={!message.trim()}>Ask</button>
        </form>
        {answer && <p aria-live="polite">{answer}</p>}
      </section>
    </>
  );
}
