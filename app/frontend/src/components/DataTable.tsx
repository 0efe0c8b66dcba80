import type { Row } from "../api";
import { cell, label } from "../format";

export function DataTable({ caption, columns, rows }: { caption: string; columns: string[]; rows: Row[] }) {
  if (!rows.length) return <p className="state empty">No rows for {caption.toLowerCase()}.</p>;
  const cols = columns.length ? columns : Object.keys(rows[0]);
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c} scope="col">
                {label(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => (
                <td key={c} className={typeof r[c] === "number" ? "num" : undefined}>
                  {cell(r[c])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
