// The string catalogues (src/i18n/): every key in both languages, no empty strings, the same `{name}`
// placeholders in both; and every key the app asks for with a literal `t("...")` exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CATALOGUES, LANGS } from "../src/i18n";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

/** Every .ts/.tsx file under src/, as [path relative to src, text]. */
function sources(dir = SRC): [string, string][] {
  const found: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...sources(path));
    else if (/\.tsx?$/.test(name)) found.push([path.slice(SRC.length), readFileSync(path, "utf8")]);
  }
  return found;
}

const allKeys = new Set<string>();
for (const part of Object.values(CATALOGUES)) {
  for (const lang of LANGS) for (const k of Object.keys(part[lang])) allKeys.add(k);
}

describe.each(Object.entries(CATALOGUES))("catalogue %s", (_, part) => {
  it("has the same keys in en and zh-CN", () => {
    const en = Object.keys(part.en).sort();
    const zh = Object.keys(part["zh-CN"]).sort();
    expect(en.filter((k) => !zh.includes(k)), "missing in zh-CN").toStrictEqual([]);
    expect(zh.filter((k) => !en.includes(k)), "missing in en").toStrictEqual([]);
    expect(en.length).toBeGreaterThan(0);
  });

  it("has no empty string", () => {
    for (const lang of LANGS) {
      const empty = Object.entries(part[lang]).filter(([, text]) => typeof text !== "string" || text.trim() === "");
      expect(empty.map(([k]) => k), `empty in ${lang}`).toStrictEqual([]);
    }
  });

  it("has the same placeholders in both languages", () => {
    const differ: string[] = [];
    for (const [k, text] of Object.entries(part.en)) {
      const zh = part["zh-CN"][k];
      if (zh === undefined) continue; // reported by the first test
      const [a, b] = [placeholders(text), placeholders(zh)];
      if (a.join() !== b.join()) differ.push(`${k}: en {${a.join("} {")}} zh-CN {${b.join("} {")}}`);
    }
    expect(differ).toStrictEqual([]);
  });
});

it("defines each key in one catalogue only (a later one would silently replace it)", () => {
  const seen = new Map<string, string>();
  const twice: string[] = [];
  for (const [name, part] of Object.entries(CATALOGUES)) {
    for (const k of Object.keys(part.en)) {
      if (seen.has(k)) twice.push(`${k} in ${seen.get(k)} and ${name}`);
      seen.set(k, name);
    }
  }
  expect(twice).toStrictEqual([]);
});

describe("keys used in src", () => {
  const files = sources();

  it("every literal t(\"...\") key exists in the catalogues", () => {
    const used = new Map<string, string>();
    // t("key") or t('key'), optionally followed by parameters; not `tr(`, `set(` and the like (word boundary).
    const literal = /(?<![\w$.])t\(\s*(["'])((?:(?!\1)[^\\\n])+)\1/g;
    for (const [path, text] of files) {
      for (const match of text.matchAll(literal)) used.set(match[2]!, path);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter(([k]) => !allKeys.has(k)).map(([k, path]) => `${k} (${path})`);
    expect(missing).toStrictEqual([]);
  });

  it("the route titles and navigation labels app.tsx passes to t() exist", () => {
    // t(title) and t(label) in app.tsx take keys from its route table and its navigation items.
    const text = readFileSync(join(SRC, "app.tsx"), "utf8");
    const keys = [
      ...[...text.matchAll(/\btitle:\s*"([^"]+)"/g)].map((m) => m[1]!),
      ...[...text.matchAll(/\[\s*"\/[^"]*",\s*"([^"]+)",/g)].map((m) => m[1]!),
    ];
    expect(keys.length).toBeGreaterThanOrEqual(10);
    expect(keys.filter((k) => !allKeys.has(k))).toStrictEqual([]);
  });

  it("every template-literal key has keys under its fixed prefix", () => {
    // t(`state.${v.state}`): the values cannot be checked here, but the prefix must name a family of keys.
    const template = /(?<![\w$.])t\(\s*`([^`$]*)\$\{/g;
    const prefixes = new Map<string, string>();
    for (const [path, text] of files) for (const match of text.matchAll(template)) prefixes.set(match[1]!, path);
    const orphan = [...prefixes]
      .filter(([prefix]) => ![...allKeys].some((k) => k.startsWith(prefix)))
      .map(([prefix, path]) => `${prefix}… (${path})`);
    expect(orphan).toStrictEqual([]);
  });
});
