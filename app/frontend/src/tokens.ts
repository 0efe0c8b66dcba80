// Design tokens (a Figma export: nested groups, leaves with `value` and `type`) as CSS variables:
// color.text.primary -> --color-text-primary. Vite's config turns the JSON into a stylesheet at build time.

export interface TokenLeaf {
  value: string;
  type: string;
}
export type TokenTree = { [name: string]: TokenTree | TokenLeaf };

function isLeaf(node: TokenTree | TokenLeaf): node is TokenLeaf {
  return typeof (node as TokenLeaf).value === "string";
}

export function flattenTokens(tree: TokenTree, prefix: string[] = []): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, node] of Object.entries(tree)) {
    const path = [...prefix, name];
    if (isLeaf(node)) out.push([`--${path.join("-")}`, node.value]);
    else out.push(...flattenTokens(node, path));
  }
  return out;
}

export function tokensToCss(tree: TokenTree, selector = ":root"): string {
  const lines = flattenTokens(tree).map(([name, value]) => `  ${name}: ${value};`);
  return `${selector} {\n${lines.join("\n")}\n}\n`;
}
