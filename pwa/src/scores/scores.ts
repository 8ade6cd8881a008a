/**
 * The shelf scores of an inspection: a port of backend/inspections/scores.py, so the phone shows as the rep types
 * exactly what the server will store. Both pass backend/inspections/vectors/scores.json; docs/inspections.md states
 * the formulas in words. Pure functions: no DOM, no storage.
 *
 * Values are not rounded: every quotient is computed with the same operations in the same order as the server's,
 * so the IEEE doubles are the same.
 */

/** The store's facts the must-stock rules are matched against. */
export interface StoreFacts {
  id: string;
  chain?: string | null;
  channel: string;
}

/** The product's facts that scoring needs (a `product` row of the replica has them). */
export interface ProductFacts {
  own_brand: boolean;
  rrp_minor?: number | null;
  /** Retired products (false) are never must-stock. Default true. */
  active?: boolean;
}

/** A must-stock rule, as an `assortment` row of the replica: for one store, every store of a chain, or every store
 * of a channel. Missing fields take the server's defaults (min_facings 1, price_tolerance_pct 5). */
export interface Rule {
  product_id: string;
  store_id?: string | null;
  chain?: string | null;
  channel?: string | null;
  min_facings?: number;
  rrp_minor?: number | null;
  price_tolerance_pct?: number;
}

/** What the shelf should show for one must-stock product in one store. */
export interface Target {
  min_facings: number;
  rrp_minor: number | null;
  price_tolerance_pct: number;
}

/** An inspection item as typed: missing fields take the server's defaults (present, no facings, no price, no
 * promotion). */
export interface Item {
  product_id: string;
  present?: boolean;
  facings?: number | null;
  shelf_price_minor?: number | null;
  promotion?: boolean;
  expiry_date?: string | null;
}

/** The server-owned fields of an item. */
export interface ItemResult {
  must_stock: boolean;
  min_facings: number | null;
  reference_price_minor: number | null;
  price_tolerance_pct: number | null;
  price_deviation_pct: number | null;
  price_ok: boolean | null;
}

export interface Scores {
  oos_rate: number | null;
  assortment_compliance: number | null;
  facings_compliance: number | null;
  price_compliance: number | null;
  share_of_shelf: number | null;
  score: number | null;
}

/** The organisation's weights of the parts of the score (`GET /api/v1/inspection-rules`, `weights`). */
export interface ScoreWeights {
  assortment: number;
  availability: number;
  facings: number;
  price: number;
  share_of_shelf: number;
}

export interface Result {
  scores: Scores;
  /** By product id, one per product audited. */
  items: Record<string, ItemResult>;
}

export const DEFAULT_WEIGHTS: Readonly<ScoreWeights> = {
  assortment: 40,
  availability: 20,
  facings: 20,
  price: 20,
  share_of_shelf: 0,
};
export const DEFAULT_PRICE_TOLERANCE_PCT = 5;
const RULE_MIN_FACINGS = 1;
const RULE_PRICE_TOLERANCE_PCT = 5;

const PARTS = ["assortment", "availability", "facings", "price", "share_of_shelf"] as const;

/** products[id] without inherited properties ("constructor", "__proto__"...). */
function lookup<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** How specific a rule is for the store: 0 the store's own, 1 its chain's, 2 its channel's; -1 another's. */
function rank(store: StoreFacts, rule: Rule): number {
  if (rule.store_id != null) return rule.store_id === store.id ? 0 : -1;
  if (rule.chain != null) return store.chain != null && rule.chain === store.chain ? 1 : -1;
  return (rule.channel ?? null) === store.channel ? 2 : -1;
}

function target(rule: Rule): Target {
  return {
    min_facings: rule.min_facings ?? RULE_MIN_FACINGS,
    rrp_minor: rule.rrp_minor ?? null,
    price_tolerance_pct: rule.price_tolerance_pct ?? RULE_PRICE_TOLERANCE_PCT,
  };
}

/** The store's must-stock products and their targets (scores.py `targets_for`). A rule for the store itself beats
 * one for its chain, which beats one for its channel (between equals, the first listed); retired products and
 * products unknown here are never must-stock. In the order the products' winning rules were first found. */
export function targetsForStore(
  store: StoreFacts,
  rules: Iterable<Rule>,
  products: Readonly<Record<string, ProductFacts>>,
): Map<string, Target> {
  const ranked = new Map<string, { rank: number; rule: Rule }>();
  for (const rule of rules) {
    const r = rank(store, rule);
    const product = lookup(products, rule.product_id);
    if (r < 0 || product === undefined || !(product.active ?? true)) continue;
    const known = ranked.get(rule.product_id);
    if (known === undefined || r < known.rank) ranked.set(rule.product_id, { rank: r, rule });
  }
  const targets = new Map<string, Target>();
  for (const [productId, { rule }] of ranked) targets.set(productId, target(rule));
  return targets;
}

/** The targets of one product in the store, from the replica's assortment rows, or null when the product is not
 * must-stock there (no rule for the store, its chain or its channel; the product retired or unknown). The reference
 * price and the tolerance of an item also fall back to the product's RRP and the organisation's
 * `default_price_tolerance_pct`: `itemResult` does that. */
export function targetsFor(
  store: StoreFacts,
  productId: string,
  assortments: Iterable<Rule>,
  product: ProductFacts | null | undefined,
): Target | null {
  if (product == null || !(product.active ?? true)) return null;
  let best: { rank: number; rule: Rule } | undefined;
  for (const rule of assortments) {
    if (rule.product_id !== productId) continue;
    const r = rank(store, rule);
    if (r >= 0 && (best === undefined || r < best.rank)) best = { rank: r, rule };
  }
  return best === undefined ? null : target(best.rule);
}

/** One item per product: a product scanned twice counts once, with its last entry (in the order first seen). */
export function latestPerProduct(items: Iterable<Item>): Map<string, Item> {
  const found = new Map<string, Item>();
  for (const item of items) found.set(item.product_id, item);
  return found;
}

/** The item's targets and how its shelf price compares with the reference price (scores.py `item_result`). */
export function itemResult(
  item: Item,
  product: ProductFacts | null | undefined,
  target: Target | null | undefined,
  defaultTolerancePct: number,
): ItemResult {
  const ownRrp = product != null ? (product.rrp_minor ?? null) : null;
  let reference = target != null ? (target.rrp_minor ?? ownRrp) : ownRrp;
  if (reference !== null && reference <= 0) reference = null;
  const tolerance = target != null ? target.price_tolerance_pct : reference !== null ? defaultTolerancePct : null;
  let deviation: number | null = null;
  let priceOk: boolean | null = null;
  const shelf = item.shelf_price_minor ?? null;
  if ((item.present ?? true) && shelf !== null && reference !== null) {
    deviation = ((shelf - reference) / reference) * 100;
    if (!(item.promotion ?? false) && tolerance !== null) {
      // In integers, so a price exactly at the tolerance is within it in every language.
      priceOk = Math.abs(shelf - reference) * 100 <= tolerance * reference;
    }
  }
  return {
    must_stock: target != null,
    min_facings: target != null ? target.min_facings : null,
    reference_price_minor: reference,
    price_tolerance_pct: tolerance,
    price_deviation_pct: deviation,
    price_ok: priceOk,
  };
}

function share(hits: number, total: number): number | null {
  return total ? hits / total : null;
}

/** Every score of one inspection and the server-owned fields of each of its items (scores.py `score`). */
export function score(input: {
  store: StoreFacts;
  products: Readonly<Record<string, ProductFacts>>;
  rules: Iterable<Rule>;
  items: readonly Item[];
  weights: ScoreWeights;
  defaultTolerancePct?: number;
}): Result {
  const { store, products, weights } = input;
  const defaultTolerancePct = input.defaultTolerancePct ?? DEFAULT_PRICE_TOLERANCE_PCT;
  const targets = targetsForStore(store, input.rules, products);
  const audited = latestPerProduct(input.items);
  const items: Record<string, ItemResult> = {};
  const results: ItemResult[] = [];
  for (const [productId, item] of audited) {
    const result = itemResult(item, lookup(products, productId), targets.get(productId), defaultTolerancePct);
    Object.defineProperty(items, productId, { value: result, enumerable: true, writable: true, configurable: true });
    results.push(result);
  }
  const present = (i: Item): boolean => i.present ?? true;
  const facings = (i: Item): number => i.facings ?? 0;
  const mustAudited = [...targets.keys()].flatMap((p) => audited.get(p) ?? []);
  const found = mustAudited.filter(present);
  const counted = found.filter((i) => i.facings != null);
  const priced = results.flatMap((r) => (r.price_ok === null ? [] : [r.price_ok]));
  const shelf = [...audited.values()].filter((i) => present(i) && i.facings != null);
  let own = 0;
  let all = 0;
  for (const i of shelf) {
    if (lookup(products, i.product_id)?.own_brand === true) own += facings(i);
    all += facings(i);
  }
  const oosRate = share(mustAudited.length - found.length, mustAudited.length);
  const parts: Record<(typeof PARTS)[number], number | null> = {
    assortment: share(found.length, targets.size),
    availability: oosRate === null ? null : 1 - oosRate,
    facings: share(counted.filter((i) => facings(i) >= targets.get(i.product_id)!.min_facings).length, counted.length),
    price: share(priced.filter((ok) => ok).length, priced.length),
    share_of_shelf: share(own, all),
  };
  let total = 0.0;
  let weighted = 0.0;
  for (const name of PARTS) {
    const weight = weights[name];
    const value = parts[name];
    if (value !== null && weight > 0) {
      total += weight;
      weighted += weight * value;
    }
  }
  return {
    scores: {
      oos_rate: oosRate,
      assortment_compliance: parts.assortment,
      facings_compliance: parts.facings,
      price_compliance: parts.price,
      share_of_shelf: parts.share_of_shelf,
      score: total ? weighted / total : null,
    },
    items,
  };
}
