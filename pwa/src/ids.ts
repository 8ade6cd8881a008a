/**
 * Ids the phone makes: UUIDv7 for the rows it creates (RFC 9562 section 5.7: time-ordered, like the server's
 * `tables_base.new_id()`), and the ids every device derives the same way (backend/inspections/ids.py): an
 * inspection item's id is the UUIDv5 (RFC 9562 section 5.5) of its inspection and product, so two phones auditing
 * one product offline edit one row (docs/sync-protocol.md section 8). Synchronous and pure apart from uuidv7's
 * clock and randomness: SHA-1 is computed here (WebCrypto's digest is asynchronous).
 */

/** Fixed forever (backend/inspections/ids.py NAMESPACE): changing it would change every item id. */
export const ITEM_NAMESPACE = "0d4c3f8e-6b1a-5e0f-9c2d-7a4b8e1f3c55";

// --- SHA-1 (FIPS 180-4) ------------------------------------------------------------------------------------------

/** The SHA-1 digest (20 bytes) of the bytes, or of the UTF-8 encoding of the string. */
export function sha1(data: Uint8Array | string): Uint8Array {
  const message = typeof data === "string" ? utf8(data) : data;
  const length = message.length;
  // Padding: 0x80, zeros, and the length in bits as a 64-bit big-endian number, to a multiple of 64 bytes.
  const padded = new Uint8Array((((length + 8) >> 6) + 1) * 64);
  padded.set(message);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const digest = new Uint8Array(20);
  const out = new DataView(digest.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => out.setUint32(i * 4, h >>> 0));
  return digest;
}

/** UTF-8 bytes of a string; a lone surrogate is an error, as in Python (TextEncoder would replace it). */
function utf8(text: string): Uint8Array {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new TypeError("the string holds a lone surrogate, which has no UTF-8 encoding");
  }
  return new TextEncoder().encode(text);
}

// --- UUIDs -------------------------------------------------------------------------------------------------------

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

function format(bytes: Uint8Array): string {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A UUID in its canonical form (lower case, hyphenated), read as Python's `uuid.UUID(text)` reads it: any case,
 * with or without hyphens, braces or a `urn:uuid:` prefix. Throws a TypeError for anything else (Python's int()
 * would also take some odd forms, such as `_` between digits, that no device sends). */
export function canonicalUuid(text: string): string {
  const digits = text.replaceAll("urn:", "").replaceAll("uuid:", "").replace(/^[{}]+|[{}]+$/g, "").replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(digits)) throw new TypeError(`badly formed hexadecimal UUID string: ${text}`);
  return format(bytesOf(digits.toLowerCase()));
}

function bytesOf(digits: string): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The UUIDv5 (RFC 9562 section 5.5) of `name` (UTF-8 encoded, as Python's uuid.uuid5) in `namespace`. */
export function uuidv5(namespace: string, name: string | Uint8Array): string {
  const ns = bytesOf(canonicalUuid(namespace).replaceAll("-", ""));
  const nameBytes = typeof name === "string" ? utf8(name) : name;
  const message = new Uint8Array(16 + nameBytes.length);
  message.set(ns);
  message.set(nameBytes, 16);
  const bytes = sha1(message).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  return format(bytes);
}

/** The id of the item for `productId` in `inspectionId` (backend/inspections/ids.py `item_id`): the UUIDv5 of
 * "<inspection id>/<product id>", both in canonical form, in ITEM_NAMESPACE. */
export function itemId(inspectionId: string, productId: string): string {
  return uuidv5(ITEM_NAMESPACE, `${canonicalUuid(inspectionId)}/${canonicalUuid(productId)}`);
}

// --- UUIDv7 ------------------------------------------------------------------------------------------------------

const TWO_30 = 2 ** 30;
const TWO_32 = 2 ** 32;
const COUNTER_LIMIT = 2 ** 42; // 12 bits of rand_a and the first 30 of rand_b

/** A UUIDv7 maker with its own clock and randomness (tests give fakes). Ids are in strictly increasing order:
 * the 48-bit Unix time in milliseconds, then a 42-bit counter (RFC 9562 section 6.2, method 1) seeded at random
 * each millisecond with its top bit clear and incremented for each further id in the same millisecond, then 32
 * random bits. Should the clock step back, the last time is kept until the clock passes it; should the counter
 * run out, the time moves on a millisecond. */
export function createUuidv7(
  now: () => number = () => Date.now(),
  fillRandom: (bytes: Uint8Array) => void = (bytes) => {
    globalThis.crypto.getRandomValues(bytes);
  },
): () => string {
  let lastMs = -Infinity;
  let counter = 0;
  return () => {
    const random = new Uint8Array(10);
    fillRandom(random);
    // 41 random bits: the counter's top bit stays clear, so a millisecond has room for 2^41 more ids.
    const seedHigh = ((random[0]! & 0x07) << 8) | random[1]!; // 11 bits
    const seedLow = ((random[2]! << 22) | (random[3]! << 14) | (random[4]! << 6) | (random[5]! >> 2)) >>> 0; // 30 bits
    const seed = seedHigh * TWO_30 + seedLow;
    const ms = Math.floor(now());
    if (ms > lastMs) {
      lastMs = ms;
      counter = seed;
    } else {
      counter += 1;
      if (counter >= COUNTER_LIMIT) {
        lastMs += 1;
        counter = seed;
      }
    }
    if (!(lastMs >= 0 && lastMs < 2 ** 48)) throw new RangeError("the clock is outside UUIDv7's 48-bit range");
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, Math.floor(lastMs / TWO_32));
    view.setUint32(2, lastMs % TWO_32);
    const high = Math.floor(counter / TWO_30); // 12 bits
    const low = counter % TWO_30; // 30 bits
    bytes[6] = 0x70 | (high >> 8); // version 7
    bytes[7] = high & 0xff;
    bytes[8] = 0x80 | (low >>> 24); // variant 10
    bytes[9] = (low >>> 16) & 0xff;
    bytes[10] = (low >>> 8) & 0xff;
    bytes[11] = low & 0xff;
    bytes.set(random.subarray(6, 10), 12);
    return format(bytes);
  };
}

/** A new UUIDv7 (RFC 9562): time-ordered, increasing within this page even within one millisecond. */
export const uuidv7: () => string = createUuidv7();
