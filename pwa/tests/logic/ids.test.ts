// The phone's ids: SHA-1 against known digests and WebCrypto, UUIDv5 item ids against the server's vectors
// (backend/inspections/vectors/item_ids.json, which tests/backend/inspections/test_item_id_vectors.py checks
// against backend/inspections/ids.py), and UUIDv7's layout and order.
import { describe, expect, it } from "vitest";

import { canonicalUuid, createUuidv7, ITEM_NAMESPACE, itemId, sha1, uuidv5, uuidv7 } from "../../src/ids";

// node:fs without @types/node (not a dependency of the PWA): a specifier TypeScript does not resolve.
const fsModule = "node:fs";
const { readFileSync } = (await import(/* @vite-ignore */ fsModule)) as {
  readFileSync(path: URL, encoding: "utf8"): string;
};

interface Case {
  name: string;
  inspection_id: string;
  product_id: string;
  uuid5_name: string;
  expected: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../backend/inspections/vectors/item_ids.json", import.meta.url), "utf8"),
) as { namespace: string; cases: Case[] };

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("item id vectors", () => {
  it("use the fixed namespace", () => {
    expect(vectors.namespace).toBe(ITEM_NAMESPACE);
    expect(vectors.cases.length).toBeGreaterThan(0);
  });

  for (const c of vectors.cases) {
    it(c.name, () => {
      expect(itemId(c.inspection_id, c.product_id)).toBe(c.expected);
      expect(uuidv5(vectors.namespace, c.uuid5_name)).toBe(c.expected);
      expect(`${canonicalUuid(c.inspection_id)}/${canonicalUuid(c.product_id)}`).toBe(c.uuid5_name);
    });
  }
});

describe("sha1", () => {
  const known: [string, string][] = [
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"],
    ["The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"],
    ["a".repeat(1_000_000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"],
  ];
  for (const [input, digest] of known) {
    it(`of ${input.length > 60 ? `${input.length} × "${input[0]}"` : JSON.stringify(input)}`, () => {
      expect(hex(sha1(input))).toBe(digest);
    });
  }

  it("agrees with WebCrypto at every length around the block boundaries", async () => {
    for (let length = 0; length <= 200; length++) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 131 + length * 7) & 0xff);
      const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
      expect(hex(sha1(bytes)), `length ${length}`).toBe(hex(expected));
    }
  });

  it("hashes strings as UTF-8 and refuses a lone surrogate, as Python does", () => {
    expect(hex(sha1("门店"))).toBe(hex(sha1(new Uint8Array([0xe9, 0x97, 0xa8, 0xe5, 0xba, 0x97]))));
    expect(() => sha1("a\uD800b")).toThrow(TypeError);
  });
});

describe("uuidv5", () => {
  it("matches RFC 9562's example (www.example.com in the DNS namespace)", () => {
    expect(uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });

  it("refuses what is not a UUID", () => {
    expect(() => itemId("not-a-uuid", vectors.namespace)).toThrow(TypeError);
    expect(() => itemId(`${vectors.namespace}0`, vectors.namespace)).toThrow(TypeError);
  });
});

describe("uuidv7", () => {
  const layout = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it("has version 7, variant 10 and the time in its first 48 bits", () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(layout);
    const ms = parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 1);
  });

  it("increases strictly, also within one millisecond and when the clock steps back", () => {
    let now = 1_763_900_000_000;
    const clock = [0, 0, 0, 0, 1, 1, -5, -5, 2, 2];
    let tick = 0;
    const next = createUuidv7(() => now + (clock[tick++ % clock.length] ?? 0));
    const ids = Array.from({ length: 1000 }, () => next());
    for (const id of ids) expect(id).toMatch(layout);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    now += 10;
    const later = next();
    expect(parseInt(later.replaceAll("-", "").slice(0, 12), 16)).toBe(now);
    expect(later > ids[ids.length - 1]!).toBe(true);
  });

  it("makes unique ids", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidv7()));
    expect(ids.size).toBe(10_000);
  });
});
