import { describe, expect, it } from "vitest";
import tokens from "../tokens/design-tokens.json";
import { flattenTokens, tokensToCss, type TokenTree } from "./tokens";

describe("design tokens", () => {
  it("turns nested token groups into CSS variables named by their path", () => {
    const css = tokensToCss({ color: { text: { primary: { value: "#111", type: "color" } } } });
    expect(css).toBe(":root {\n  --color-text-primary: #111;\n}\n");
  });

  it("gives every token of the design file a variable, and every severity a colour", () => {
    const names = Object.fromEntries(flattenTokens(tokens as TokenTree));
    for (const s of ["critical", "high", "medium", "low", "info"]) expect(names[`--color-severity-${s}`]).toMatch(/^#/);
    expect(names["--spacing-md"]).toBe("16px");
  });
});

// WCAG relative luminance and contrast ratio.
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe("contrast", () => {
  const t = Object.fromEntries(flattenTokens(tokens as TokenTree));
  it("keeps body text and links readable (WCAG AA, 4.5:1) on every background", () => {
    for (const bg of ["--color-bg-canvas", "--color-bg-surface", "--color-bg-subtle"]) {
      for (const fg of ["--color-text-primary", "--color-text-muted", "--color-text-link"]) {
        expect(contrast(t[fg], t[bg]), `${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      }
    }
  });
  it("keeps white badge text readable on every severity and the navigation bar", () => {
    for (const bg of ["critical", "high", "medium", "low", "info"].map((s) => `--color-severity-${s}`).concat("--color-bg-nav")) {
      expect(contrast(t["--color-text-inverse"], t[bg]), bg).toBeGreaterThanOrEqual(4.5);
    }
  });
});
