// The shelf inspection: the store's must-stock products first, one tap for out of stock, steppers for facings
// and quantity, the shelf price, promotion and expiry; barcode typed or scanned (BarcodeDetector where the
// browser has it); photos queued for upload; the scores recomputed as the rep types with the server's formulas.
// Each product is one inspection_item row whose id is derived from the inspection and the product, so two
// phones auditing the same product edit one row; each field is its own change.
import { useMemo, useRef, useState } from "preact/hooks";
import { getMeta } from "../db/db";
import { edit, liveRows, type Row } from "../db/replica";
import { products as readProducts, store as readStore, visit as readVisit, type Product, type Store, type Visit } from "../data";
import { currentFix } from "../geo/position";
import { useLive, useSession } from "../hooks";
import { itemId, uuidv7 } from "../ids";
import { currencyDigits, formatMoney, formatPercent, t } from "../i18n";
import { addPhoto } from "../photos";
import { DEFAULT_PRICE_TOLERANCE_PCT, DEFAULT_WEIGHTS, score, targetsForStore, type Item, type Rule, type ScoreWeights, type Target } from "../scores/scores";

interface InspectionRules {
  weights: ScoreWeights;
  default_price_tolerance_pct: number;
}

interface Loaded {
  visit: Visit | undefined;
  store: Store | undefined;
  inspection: Row | undefined;
  items: Row[];
  products: Product[];
  rules: Rule[];
  settings: InspectionRules | undefined;
}

const EMPTY: Loaded = { visit: undefined, store: undefined, inspection: undefined, items: [], products: [], rules: [], settings: undefined };

/** Normalise a barcode for matching: digits only, UPC-A and EAN-13 and GTIN-14 forms of one code agree. */
function barcodeKey(code: string): string {
  return code.replace(/\D/g, "").replace(/^0+/, "");
}

export function InspectionScreen({ visitId }: { visitId: string }) {
  const session = useSession();
  const currency = session?.org?.currency ?? "CNY";
  const data = useLive(
    async (): Promise<Loaded> => {
      const v = await readVisit(visitId);
      const s = v ? await readStore(v.store_id) : undefined;
      const inspection = (await liveRows("inspection"))
        .filter((i) => i.visit_id === visitId)
        .sort((a, b) => String(a.id).localeCompare(String(b.id)))[0];
      const items = inspection ? (await liveRows("inspection_item")).filter((i) => i.inspection_id === inspection.id) : [];
      return {
        visit: v,
        store: s,
        inspection,
        items,
        products: (await readProducts()).filter((p) => p.active !== false),
        rules: (await liveRows("assortment")) as unknown as Rule[],
        settings: await getMeta<InspectionRules>("inspectionRules"),
      };
    },
    [visitId],
    EMPTY,
  );
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [scanMessage, setScanMessage] = useState<string | null>(null);
  // The inspection made by the first tap, before the live query shows it: a second quick tap must not make another.
  const created = useRef<string | null>(null);
  const s = data.store;

  const productFacts = useMemo(() => {
    const facts: Record<string, { own_brand: boolean; rrp_minor: number | null; active: boolean }> = {};
    for (const p of data.products) facts[p.id] = { own_brand: p.own_brand, rrp_minor: p.rrp_minor, active: p.active !== false };
    return facts;
  }, [data.products]);
  const targets = useMemo(
    () => (s ? targetsForStore({ id: s.id, chain: s.chain, channel: s.channel }, data.rules, productFacts) : new Map<string, Target>()),
    [s, data.rules, productFacts],
  );
  const itemsByProduct = new Map(data.items.map((i) => [String(i.product_id), i] as const));
  const result = s
    ? score({
        store: { id: s.id, chain: s.chain, channel: s.channel },
        products: productFacts,
        rules: data.rules,
        items: data.items.map((i) => ({
          product_id: String(i.product_id),
          present: i.present !== false,
          facings: (i.facings as number | null | undefined) ?? null,
          shelf_price_minor: (i.shelf_price_minor as number | null | undefined) ?? null,
          promotion: Boolean(i.promotion),
          expiry_date: (i.expiry_date as string | null | undefined) ?? null,
        })) as Item[],
        weights: data.settings?.weights ?? DEFAULT_WEIGHTS,
        defaultTolerancePct: data.settings?.default_price_tolerance_pct ?? DEFAULT_PRICE_TOLERANCE_PCT,
      })
    : null;

  if (!data.visit || !s) return <p class="empty">{t("visit.unknown")}</p>;

  const needle = query.trim().toLowerCase();
  const byId = new Map(data.products.map((p) => [p.id, p] as const));
  const mustStock = [...targets.keys()].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  const auditedOthers = data.products.filter((p) => itemsByProduct.has(p.id) && !targets.has(p.id));
  const found = needle
    ? data.products
        .filter((p) => {
          if (targets.has(p.id) || itemsByProduct.has(p.id)) return false;
          const digits = barcodeKey(needle);
          return (
            `${p.name} ${p.brand} ${p.code} ${p.category}`.toLowerCase().includes(needle) ||
            (digits.length >= 6 && p.barcode !== null && barcodeKey(p.barcode) === digits)
          );
        })
        .slice(0, 30)
    : [];

  /** Write fields of one product's item, creating the inspection and the item first when needed. */
  const record = async (product: Product, fields: Record<string, unknown>) => {
    let inspectionId = data.inspection?.id ?? created.current;
    if (!inspectionId) {
      inspectionId = uuidv7();
      created.current = inspectionId;
      await edit("inspection", inspectionId, { visit_id: visitId, store_id: s.id, started_at: new Date().toISOString() }, { create: true });
    }
    const id = itemId(inspectionId, product.id);
    const exists = itemsByProduct.has(product.id);
    await edit("inspection_item", id, exists ? fields : { inspection_id: inspectionId, product_id: product.id, ...fields }, { create: !exists });
  };

  const scan = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      const Detector = (window as unknown as { BarcodeDetector: new (o: object) => { detect: (s: ImageBitmapSource) => Promise<{ rawValue: string }[]> } }).BarcodeDetector;
      const detector = new Detector({ formats: ["ean_13", "upc_a", "ean_8", "upc_e"] });
      const codes = await detector.detect(await createImageBitmap(file));
      if (codes.length === 0) setScanMessage(t("inspection.scan_none"));
      else {
        setQuery(codes[0]!.rawValue);
        setScanMessage(null);
      }
    } catch {
      setScanMessage(t("inspection.scan_failed"));
    }
  };

  const row = (p: Product) => (
    <ItemRow
      product={p}
      item={itemsByProduct.get(p.id)}
      target={targets.get(p.id)}
      result={result?.items[p.id]}
      currency={currency}
      expanded={open === p.id}
      onToggle={() => setOpen(open === p.id ? null : p.id)}
      onSave={(fields) => void record(p, fields)}
      onPhoto={async (file) => {
        const where = await currentFix({ timeoutMs: 5000 }).catch(() => null);
        const photoId = await addPhoto(visitId, file, where);
        const current = (itemsByProduct.get(p.id)?.photos as string[] | undefined) ?? [];
        await record(p, { photos: [...current, photoId].slice(0, 20) });
      }}
    />
  );

  const hasDetector = typeof window !== "undefined" && "BarcodeDetector" in window;
  return (
    <div class="stack" data-testid="inspection">
      <section class="card" data-testid="scores">
        <h2>{s.name}</h2>
        <div class="scores">
          <div><b data-testid="score-total">{formatPercent(result?.scores.score)}</b>{t("inspection.score")}</div>
          <div><b data-testid="score-oos">{formatPercent(result?.scores.oos_rate)}</b>{t("inspection.oos_rate")}</div>
          <div><b>{formatPercent(result?.scores.assortment_compliance)}</b>{t("inspection.assortment")}</div>
          <div><b>{formatPercent(result?.scores.facings_compliance)}</b>{t("inspection.facings")}</div>
          <div><b>{formatPercent(result?.scores.price_compliance)}</b>{t("inspection.price")}</div>
          <div><b>{formatPercent(result?.scores.share_of_shelf)}</b>{t("inspection.share")}</div>
        </div>
        <p class="muted">{t("inspection.audited", { n: data.items.length, m: mustStock.length })}</p>
      </section>
      <section class="card">
        <h3>{t("inspection.must_stock")}</h3>
        {mustStock.length === 0 && <p class="muted">{t("inspection.no_must_stock")}</p>}
        {mustStock.map(row)}
      </section>
      <section class="card">
        <h3>{t("inspection.other_products")}</h3>
        <div class="row">
          <input class="grow" type="search" inputMode="search" placeholder={t("inspection.search")} value={query}
            onInput={(e) => setQuery(e.currentTarget.value)} data-testid="product-search" aria-label={t("inspection.search")} />
          {hasDetector && (
            <label class="button" style="margin:0;font-weight:400" aria-label={t("inspection.scan")}>
              ▥
              <input type="file" accept="image/*" capture="environment" style="display:none" onChange={scan} />
            </label>
          )}
        </div>
        {scanMessage && <p class="error-text">{scanMessage}</p>}
        {found.map(row)}
        {needle && found.length === 0 && <p class="muted">{t("inspection.no_match")}</p>}
        {auditedOthers.map(row)}
      </section>
    </div>
  );
}

function ItemRow(props: {
  product: Product;
  item: Row | undefined;
  target: Target | undefined;
  result: { price_ok: boolean | null; price_deviation_pct: number | null } | undefined;
  currency: string;
  expanded: boolean;
  onToggle: () => void;
  onSave: (fields: Record<string, unknown>) => void;
  onPhoto: (file: File) => Promise<void>;
}) {
  const { product: p, item, target } = props;
  const present = item ? item.present !== false : null;
  const facings = (item?.facings as number | null | undefined) ?? null;
  const quantity = (item?.quantity as number | null | undefined) ?? null;
  const digits = currencyDigits(props.currency);
  const price = (item?.shelf_price_minor as number | null | undefined) ?? null;
  const short = target && facings !== null && present && facings < target.min_facings;
  return (
    <div class={`item${present === false ? " oos" : ""}`} data-testid="item" data-product={p.code} data-audited={item ? "yes" : "no"}>
      <div class="row">
        <button class="grow" style="justify-content:flex-start;text-align:left;border:none;padding:0" onClick={props.onToggle} data-testid="item-toggle">
          <span>
            <b>{p.name}</b>
            <br />
            <span class="muted">
              {p.brand} · {p.pack_size}
              {target ? ` · ${t("inspection.min_facings", { n: target.min_facings })}` : ""}
            </span>
          </span>
        </button>
        <button
          class={present === false ? "danger" : ""}
          aria-pressed={present === false}
          onClick={() => props.onSave(present === false ? { present: true } : { present: false, facings: 0, quantity: 0 })}
          data-testid="oos"
        >
          {present === false ? t("inspection.oos_marked") : t("inspection.oos")}
        </button>
      </div>
      <div class="row" style="margin-top:6px">
        <span class="muted">{t("inspection.facings_label")}</span>
        <Stepper value={facings} onChange={(n) => props.onSave(n > 0 ? { facings: n, present: true } : { facings: n })} testid="facings" />
        {short && <span class="pill uncertain">{t("inspection.short")}</span>}
        {present === true && facings === null && <span class="pill done">✓</span>}
        {!item && (
          <button onClick={() => props.onSave({ present: true })} data-testid="present">{t("inspection.present")}</button>
        )}
      </div>
      {props.expanded && (
        <div class="stack" style="margin-top:8px">
          <div class="row">
            <span class="muted grow">{t("inspection.quantity")}</span>
            <Stepper value={quantity} onChange={(n) => props.onSave({ quantity: n })} testid="quantity" />
          </div>
          <label>
            {t("inspection.shelf_price", { currency: props.currency })}
            <input inputMode="decimal" value={price === null ? "" : (price / 10 ** digits).toFixed(digits)} data-testid="price"
              onChange={(e) => {
                const raw = e.currentTarget.value.trim().replace(",", ".");
                if (raw === "") return props.onSave({ shelf_price_minor: null });
                const value = Number(raw);
                if (Number.isFinite(value) && value >= 0) props.onSave({ shelf_price_minor: Math.round(value * 10 ** digits) });
              }} />
          </label>
          {props.result?.price_ok === false && (
            <p class="error-text">{t("inspection.price_off", { pct: Math.round(props.result.price_deviation_pct ?? 0), ref: formatMoney(target?.rrp_minor ?? p.rrp_minor, props.currency) })}</p>
          )}
          <label class="row" style="font-weight:400">
            <input type="checkbox" style="width:auto;min-height:0" checked={Boolean(item?.promotion)} onChange={(e) => props.onSave({ promotion: e.currentTarget.checked })} />
            {t("inspection.promotion")}
          </label>
          <label>
            {t("inspection.expiry")}
            <input type="date" value={(item?.expiry_date as string | null | undefined) ?? ""} onChange={(e) => props.onSave({ expiry_date: e.currentTarget.value || null })} />
          </label>
          <label class="button" style="font-weight:400">
            {t("visit.photo")} {Array.isArray(item?.photos) && (item!.photos as unknown[]).length > 0 ? `(${(item!.photos as unknown[]).length})` : ""}
            <input type="file" accept="image/*" capture="environment" style="display:none"
              onChange={(e) => {
                const input = e.currentTarget;
                const file = input.files?.[0];
                input.value = "";
                if (file) void props.onPhoto(file);
              }} />
          </label>
        </div>
      )}
    </div>
  );
}

function Stepper(props: { value: number | null; onChange: (n: number) => void; testid: string }) {
  const value = props.value ?? 0;
  return (
    <span class="stepper" data-testid={props.testid}>
      <button aria-label="−" onClick={() => props.onChange(Math.max(0, value - 1))} disabled={value <= 0}>−</button>
      <input inputMode="numeric" value={props.value === null ? "" : String(props.value)}
        onChange={(e) => {
          const n = Number.parseInt(e.currentTarget.value, 10);
          if (Number.isFinite(n) && n >= 0 && n <= 1000) props.onChange(n);
        }} />
      <button aria-label="+" onClick={() => props.onChange(Math.min(1000, value + 1))} data-testid={`${props.testid}-plus`}>+</button>
    </span>
  );
}
