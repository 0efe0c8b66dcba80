// How numbers, money, durations and ages read on every page.

export function money(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value.toLocaleString("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function age(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "–" : `${duration(seconds)} ago`;
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function label(column: string): string {
  return column.replace(/_/g, " ");
}

export function timestamp(iso: string | null | undefined): string {
  if (!iso) return "–";
  return iso.replace("T", " ").slice(0, 19) + " UTC";
}
