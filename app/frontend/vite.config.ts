import { type Plugin } from "vite";
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import tokens from "./tokens/design-tokens.json";
import { tokensToCss, type TokenTree } from "./src/tokens";

// `import "virtual:tokens.css"` gives the design tokens as CSS variables on :root.
function designTokens(): Plugin {
  const id = "virtual:tokens.css";
  return {
    name: "design-tokens",
    resolveId: (source) => (source === id ? "\0" + id : null),
    load: (resolved) => (resolved === "\0" + id ? tokensToCss(tokens as TokenTree) : null),
  };
}

export default defineConfig({
  plugins: [react(), designTokens()],
  base: "./",
  build: { outDir: "../../lakesentinel/app/static", emptyOutDir: true, chunkSizeWarningLimit: 900 },
  server: { proxy: { "/api": "http://127.0.0.1:8765" } },
  // Generous: CI machines are shared and jsdom starts slowly there.
  test: { environment: "jsdom", testTimeout: 30_000 },
});
