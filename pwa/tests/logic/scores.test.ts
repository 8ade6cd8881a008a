// The phone's shelf scores against the server's shared vectors (backend/inspections/vectors/scores.json): numbers
// within 1e-9, booleans and nulls exactly, the same keys (as tests/backend/inspections/test_scores.py compares).
import { describe, expect, it } from "vitest";

import {
  score,
  targetsFor,
  targetsForStore,
  type Item,
  type ProductFacts,
  type Rule,
  type ScoreWeights,
  type StoreFacts,
} from "../../src/scores/scores";

// node:fs without @types/node (not a dependency of the PWA): a specifier TypeScript does not resolve.
const fsModule = "node:fs";
const { readFileSync } = (await import(/* @vite-ignore */ fsModule)) as {
  readFileSync(path: URL, encoding: "utf8"): string;
};

interface Case {
  name: string;
  store: StoreFacts;
  products: Record<string, ProductFacts>;
  rules: Rule[];
  items: Item[];
  weights: ScoreWeights;
  expected: { scores: Record<string, unknown>; items: Record<string, Record<string, unknown>> };
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../backend/inspections/vectors/scores.json", import.meta.url), "utf8"),
) as { default_price_tolerance_pct: number; cases: Case[] };

/** Where `actual` differs from `expected` (numbers within 1e-9, booleans and null exactly, the same keys). */
function differences(actual: unknown, expected: unknown, path = "$"): string[] {
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return [`${path}: ${JSON.stringify(actual)}`];
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const keys = (o: object) => Object.keys(o).sort().join(",");
    if (keys(a) !== keys(e)) return [`${path}: keys ${keys(a)} instead of ${keys(e)}`];
    return Object.keys(e).flatMap((k) => differences(a[k], e[k], `${path}.${k}`));
  }
  if (typeof expected === "number") {
    return typeof actual === "number" && Math.abs(actual - expected) <= 1e-9
      ? []
      : [`${path}: ${JSON.stringify(actual)} instead of ${expected}`];
  }
  return actual === expected ? [] : [`${path}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`];
}

function run(c: Case) {
  return score({
    store: c.store,
    products: c.products,
    rules: c.rules,
    items: c.items,
    weights: c.weights,
    defaultTolerancePct: vectors.default_price_tolerance_pct,
  });
}

describe("score vectors", () => {
  it("has cases", () => {
    expect(vectors.cases.length).toBeGreaterThan(0);
  });

  for (const c of vectors.cases) {
    it(c.name, () => {
      const result = run(c);
      expect(differences(result.scores, c.expected.scores)).toEqual([]);
      expect(differences(result.items, c.expected.items)).toEqual([]);
      for (const value of Object.values(result.scores)) {
        if (value !== null) expect(value >= 0 && value <= 1).toBe(true);
      }
    });
  }
});

describe("targetsFor, one product from the replica's assortment rows, agrees with the whole store's targets", () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      const all = targetsForStore(c.store, c.rules, c.products);
      const ids = new Set([...Object.keys(c.products), ...c.rules.map((r) => r.product_id), "unknown"]);
      for (const id of ids) {
        const product = Object.prototype.hasOwnProperty.call(c.products, id) ? c.products[id] : undefined;
        expect(targetsFor(c.store, id, c.rules, product), id).toEqual(all.get(id) ?? null);
      }
    });
  }
});

describe("targetsFor", () => {
  const store: StoreFacts = { id: "s1", chain: "FM", channel: "convenience" };
  const product: ProductFacts = { own_brand: true, rrp_minor: 450 };
  const rows: Rule[] = [
    { product_id: "A", channel: "convenience", min_facings: 1, rrp_minor: null, price_tolerance_pct: 50 },
    { product_id: "A", chain: "FM", min_facings: 2, rrp_minor: 470, price_tolerance_pct: 20 },
    { product_id: "A", store_id: "s2", min_facings: 9, rrp_minor: null, price_tolerance_pct: 9 },
    { product_id: "B", store_id: "s1", min_facings: 3, rrp_minor: null, price_tolerance_pct: 1 },
  ];

  it("takes the store's rule over its chain's over its channel's", () => {
    expect(targetsFor(store, "A", rows, product)).toEqual({ min_facings: 2, rrp_minor: 470, price_tolerance_pct: 20 });
    expect(targetsFor({ ...store, chain: null }, "A", rows, product)).toEqual({
      min_facings: 1,
      rrp_minor: null,
      price_tolerance_pct: 50,
    });
    expect(targetsFor({ ...store, id: "s2" }, "A", rows, product)?.min_facings).toBe(9);
    expect(targetsFor(store, "B", rows, product)?.min_facings).toBe(3);
  });

  it("gives nothing for a retired or unknown product, or one without a rule here", () => {
    expect(targetsFor(store, "A", rows, { ...product, active: false })).toBeNull();
    expect(targetsFor(store, "A", rows, undefined)).toBeNull();
    expect(targetsFor(store, "C", rows, product)).toBeNull();
    expect(targetsFor({ id: "s3", chain: "XY", channel: "supermarket" }, "A", rows, product)).toBeNull();
  });

  it("fills a row's missing fields with the server's defaults", () => {
    expect(targetsFor(store, "D", [{ product_id: "D", channel: "convenience" }], product)).toEqual({
      min_facings: 1,
      rrp_minor: null,
      price_tolerance_pct: 5,
    });
  });
});
