/**
 * Geofence verdicts: was a rep's GPS fix at the store? A port of backend/visits/fences.py, so the phone reaches the
 * verdict the server will reach. Pure functions: no DOM, no storage.
 *
 * The rules (docs/api.md, "Visits"). The distance from a fix to a store's fence is 0 when the fix is inside the
 * fence, otherwise the WGS84 geodesic distance in metres to the nearest point of the fence (the circle of
 * `radius_m` around the store, or the boundary of the polygon, whose edges are straight in longitude/latitude as
 * RFC 7946 says), rounded to the centimetre. With the organisation's `fence_tolerance_m` and `max_accuracy_m`, and
 * the fix's accuracy radius, in this order:
 *
 * 1. `outside` (`beyond_fence`) when distance - accuracy > tolerance, whatever the accuracy;
 * 2. `uncertain` (`accuracy_too_poor`) when accuracy > max_accuracy_m (never `inside`);
 * 3. `inside` when distance <= tolerance: `within_fence` at distance 0, else `within_tolerance`;
 * 4. `uncertain` (`accuracy_overlaps_edge`) otherwise.
 *
 * How the distance is computed, exactly as the server does it: for a circle, the geodesic distance from the store
 * minus the radius (at least 0). For a polygon, in the azimuthal equidistant projection centred on the store built
 * from the geodesic (a point's x, y are its geodesic distance from the store along its azimuth, as PROJ's `aeqd`):
 * every ring is taken with longitudes within 180 degrees of the store, cut into pieces of at most EDGE_STEP_DEG
 * degrees in longitude/latitude (as shapely's `segmentize`), projected, and the planar distance from the projected
 * fix to the polygon is taken (0 inside, as GEOS). The geodesic is Karney's (a port of GeographicLib's inverse
 * problem, the algorithm PROJ runs for pyproj on the server), so distances agree to far below the centimetre.
 */

export type Position = readonly number[]; // [longitude, latitude] (an altitude after them is ignored)
export type GeoJsonPolygon = { type: "Polygon"; coordinates: readonly (readonly Position[])[] };
export type GeoJsonMultiPolygon = { type: "MultiPolygon"; coordinates: readonly (readonly (readonly Position[])[])[] };

export type CircleGeofence = { kind: "circle"; radius_m: number };
export type PolygonGeofence = { kind: "polygon"; polygon: GeoJsonPolygon | GeoJsonMultiPolygon };
/** A store's geofence exactly as the store API returns it. */
export type Geofence = CircleGeofence | PolygonGeofence;

/** The store's location (WGS84 degrees) and its geofence. */
export type FencedStore = { lat: number; lng: number; geofence: Geofence };

/** A position the phone reported: WGS84 degrees and the radius of its accuracy circle in metres. */
export type Fix = { lat: number; lng: number; accuracy_m: number };

/** The organisation's thresholds, as `GET /api/v1/visit-rules` returns them (other fields are ignored). */
export type FenceRules = { fence_tolerance_m: number; max_accuracy_m: number };

export type VerdictName = "inside" | "outside" | "uncertain";
export type Reason =
  | "within_fence"
  | "within_tolerance"
  | "beyond_fence"
  | "accuracy_overlaps_edge"
  | "accuracy_too_poor";

export type Verdict = { verdict: VerdictName; reason: Reason; distance_m: number };

export const MAX_TOLERANCE_M = 1_000;
export const MAX_ACCURACY_LIMIT_M = 5_000;
/** Polygon edges are cut into pieces of at most this many degrees before projecting (as the server does). */
export const EDGE_STEP_DEG = 0.0005;

// --- verdicts ----------------------------------------------------------------------------------------------------

/** The verdict for a fix `distanceM` (already rounded to the centimetre) from the fence with accuracy `accuracyM`. */
export function verdictFor(distanceM: number, accuracyM: number, rules: FenceRules): Verdict {
  const tolerance = rules.fence_tolerance_m;
  if (distanceM - accuracyM > tolerance) return { verdict: "outside", reason: "beyond_fence", distance_m: distanceM };
  if (accuracyM > rules.max_accuracy_m) {
    return { verdict: "uncertain", reason: "accuracy_too_poor", distance_m: distanceM };
  }
  if (distanceM <= tolerance) {
    return { verdict: "inside", reason: distanceM === 0 ? "within_fence" : "within_tolerance", distance_m: distanceM };
  }
  return { verdict: "uncertain", reason: "accuracy_overlaps_edge", distance_m: distanceM };
}

/** The verdict of one fix against one store's fence under the organisation's rules. Throws a RangeError for a
 * coordinate out of range, an accuracy below 0 or not a number, rules out of range, or a fence that is not a
 * GeoJSON Polygon or MultiPolygon (the server gives no verdict then). */
export function judge(store: FencedStore, fix: Fix, rules: FenceRules): Verdict {
  checkRules(rules);
  if (!(fix.accuracy_m >= 0 && Number.isFinite(fix.accuracy_m))) {
    throw new RangeError("accuracy_m must be a number of metres, 0 or more");
  }
  return verdictFor(fenceDistanceM(store, fix.lat, fix.lng), fix.accuracy_m, rules);
}

/** Metres from (lat, lng) to the store's fence, rounded to the centimetre: 0 inside, else to the nearest point of
 * the circle or of the polygon's boundary. */
export function fenceDistanceM(store: FencedStore, lat: number, lng: number): number {
  checkPoint(lat, lng);
  checkPoint(store.lat, store.lng);
  const fix = project(store.lat, store.lng, lat, lng);
  const geofence = store.geofence;
  if (geofence.kind === "circle") {
    if (!(geofence.radius_m >= 0)) throw new RangeError("radius_m must be a number of metres");
    return roundCentimetre(Math.max(fix.distance - geofence.radius_m, 0));
  }
  if (geofence.kind !== "polygon") throw new RangeError("the geofence must be a circle or a polygon");
  let best = Infinity;
  for (const rings of projectedPolygons(geofence.polygon, store.lat, store.lng)) {
    best = Math.min(best, polygonDistance(rings, fix.x, fix.y));
  }
  return roundCentimetre(best);
}

/** Geodesic distance on WGS84 in metres between two points (Karney's algorithm, as backend/geo.py `distance_m`). */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  return inverse(a.lat, a.lng, b.lat, b.lng).s12;
}

/** Geodesic distance in metres and the azimuths (degrees clockwise from north) at both ends, from a to b. */
export function geodesicInverse(
  a: { lat: number; lng: number },
  b: { lat: number; lng: number },
): { distance_m: number; azimuth1: number; azimuth2: number } {
  const r = inverse(a.lat, a.lng, b.lat, b.lng);
  return { distance_m: r.s12, azimuth1: r.azi1, azimuth2: r.azi2 };
}

function checkRules(rules: FenceRules): void {
  if (!(rules.fence_tolerance_m >= 0 && rules.fence_tolerance_m <= MAX_TOLERANCE_M)) {
    throw new RangeError(`fence_tolerance_m must be between 0 and ${MAX_TOLERANCE_M}`);
  }
  if (!(rules.max_accuracy_m > 0 && rules.max_accuracy_m <= MAX_ACCURACY_LIMIT_M)) {
    throw new RangeError(`max_accuracy_m must be above 0 and at most ${MAX_ACCURACY_LIMIT_M}`);
  }
}

function checkPoint(lat: number, lng: number): void {
  if (!(lat >= -90 && lat <= 90)) throw new RangeError("lat must be between -90 and 90");
  if (!(lng >= -180 && lng <= 180)) throw new RangeError("lng must be between -180 and 180");
}

/** numpy's `round(2)`: x * 100, rounded half to even, / 100. */
function roundCentimetre(x: number): number {
  return rint(x * 100) / 100;
}

function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

// --- the projection and the planar geometry ----------------------------------------------------------------------

type XY = { x: number; y: number };
type Ring = XY[];

/** (x east, y north, distance) in metres of the point in the azimuthal equidistant projection of the centre. */
function project(cLat: number, cLng: number, lat: number, lng: number): XY & { distance: number } {
  const { s12, azi1 } = inverse(cLat, cLng, lat, lng);
  const radians = azi1 * (Math.PI / 180);
  return { x: s12 * Math.sin(radians), y: s12 * Math.cos(radians), distance: s12 };
}

function projectedPolygons(polygon: GeoJsonPolygon | GeoJsonMultiPolygon, lat: number, lng: number): Ring[][] {
  let parts: readonly (readonly (readonly Position[])[])[];
  if (polygon?.type === "Polygon") parts = [polygon.coordinates];
  else if (polygon?.type === "MultiPolygon") parts = polygon.coordinates;
  else throw new RangeError("the fence polygon must be a GeoJSON Polygon or MultiPolygon");
  if (!Array.isArray(parts) || parts.length === 0) throw new RangeError("the fence polygon has no coordinates");
  return parts.map((rings) => {
    if (!Array.isArray(rings) || rings.length === 0) throw new RangeError("the fence polygon has a part without rings");
    return rings.map((ring) => projectedRing(ring, lat, lng));
  });
}

function projectedRing(coords: readonly Position[], lat: number, lng: number): Ring {
  const lngLat: [number, number][] = coords.map((position) => {
    const x = position[0];
    const y = position[1];
    if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError("each position of the fence polygon is [longitude, latitude]");
    }
    // Longitudes within 180 degrees of the store, so an edge crossing the antimeridian stays short.
    return [lng + pyMod(x - lng + 180.0, 360.0) - 180.0, y];
  });
  const first = lngLat[0];
  const last = lngLat[lngLat.length - 1];
  if (first === undefined || last === undefined) throw new RangeError("a ring of the fence polygon is empty");
  if (first[0] !== last[0] || first[1] !== last[1]) lngLat.push([first[0], first[1]]); // shapely closes rings
  if (lngLat.length < 4) throw new RangeError("each ring of the fence polygon needs at least 4 positions");
  return segmentize(lngLat, EDGE_STEP_DEG).map(([x, y]) => project(lat, lng, y, x));
}

/** Python's (and numpy's) `%`: the result has the sign of the divisor. */
function pyMod(a: number, n: number): number {
  const r = a % n;
  return r !== 0 && r < 0 !== n < 0 ? r + n : r;
}

/** GEOS's densifier (shapely.segmentize): each segment longer than `step` is cut into ceil(length / step) equal
 * pieces, the new points computed the way GEOS computes them. */
function segmentize(points: readonly [number, number][], step: number): [number, number][] {
  const out: [number, number][] = [];
  const add = (p: [number, number]): void => {
    const previous = out[out.length - 1];
    if (previous === undefined || previous[0] !== p[0] || previous[1] !== p[1]) out.push(p);
  };
  for (let i = 0; i + 1 < points.length; i++) {
    const p0 = points[i]!;
    const p1 = points[i + 1]!;
    add(p0);
    const dx = p1[0] - p0[0];
    const dy = p1[1] - p0[1];
    const length = Math.sqrt(dx * dx + dy * dy);
    if (length <= step) continue;
    const count = Math.ceil(length / step);
    const pieceLength = length / count;
    for (let j = 1; j < count; j++) {
      const fraction = (j * pieceLength) / length;
      add([p0[0] + fraction * (p1[0] - p0[0]), p0[1] + fraction * (p1[1] - p0[1])]);
    }
  }
  const end = points[points.length - 1];
  if (end !== undefined) add(end);
  return out;
}

/** GEOS's distance from a point to a polygon (an exterior ring and holes): 0 inside or on the boundary, else the
 * least distance to a segment of any ring. */
function polygonDistance(rings: readonly Ring[], x: number, y: number): number {
  const [exterior, ...holes] = rings;
  if (exterior === undefined) return Infinity;
  const inExterior = locateInRing(exterior, x, y);
  if (inExterior === "boundary") return 0;
  if (inExterior === "interior") {
    let inHole = false;
    for (const hole of holes) {
      const where = locateInRing(hole, x, y);
      if (where === "boundary") return 0;
      if (where === "interior") inHole = true;
    }
    if (!inHole) return 0;
  }
  let best = Infinity;
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i++) {
      best = Math.min(best, pointToSegment(x, y, ring[i]!, ring[i + 1]!));
    }
  }
  return best;
}

/** Where the point lies against a closed ring, by counting crossings of a ray to the east (GEOS's
 * RayCrossingCounter, without its robust orientation predicate: a point within rounding of an edge is at a
 * distance that rounds to 0 either way). */
function locateInRing(ring: Ring, x: number, y: number): "interior" | "boundary" | "exterior" {
  let crossings = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const p1 = ring[i]!;
    const p2 = ring[i + 1]!;
    if (p1.x === x && p1.y === y) return "boundary";
    if (p1.y === y && p2.y === y) {
      // A horizontal segment: the point is on it or not; it crosses no ray.
      if (x >= Math.min(p1.x, p2.x) && x <= Math.max(p1.x, p2.x)) return "boundary";
      continue;
    }
    if ((p1.y > y && p2.y <= y) || (p2.y > y && p1.y <= y)) {
      // The x where the segment crosses the ray's line, compared with the point's (sign of the orientation).
      const side = (p1.x - x) * (p2.y - y) - (p2.x - x) * (p1.y - y);
      if (side === 0) return "boundary";
      if (side > 0 === p2.y > p1.y) crossings++;
    }
  }
  return crossings % 2 === 1 ? "interior" : "exterior";
}

/** GEOS's Distance::pointToSegment. */
function pointToSegment(px: number, py: number, a: XY, b: XY): number {
  if (a.x === b.x && a.y === b.y) return Math.sqrt((px - a.x) ** 2 + (py - a.y) ** 2);
  const len2 = (b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y);
  const r = ((px - a.x) * (b.x - a.x) + (py - a.y) * (b.y - a.y)) / len2;
  if (r <= 0) return Math.sqrt((px - a.x) ** 2 + (py - a.y) ** 2);
  if (r >= 1) return Math.sqrt((px - b.x) ** 2 + (py - b.y) ** 2);
  const s = ((a.y - py) * (b.x - a.x) - (a.x - px) * (b.y - a.y)) / len2;
  return Math.abs(s) * Math.sqrt(len2);
}

// --- the geodesic ------------------------------------------------------------------------------------------------
//
// The inverse geodesic problem on WGS84 by Karney's algorithm: a transcription of GeographicLib's Geodesic.Inverse
// (geographiclib 2.x for Python, which the server's geopy uses; PROJ, behind pyproj, runs the C version of the same
// code). Only distance and azimuths are computed. C. F. F. Karney, Algorithms for geodesics, J. Geodesy 87, 43-55
// (2013), https://doi.org/10.1007/s00190-012-0578-z. GeographicLib is (c) Charles Karney, MIT/X11 licence.

const WGS84_A = 6378137;
const WGS84_F = 1 / 298.257223563;

const ORDER = 6; // GEOGRAPHICLIB_GEODESIC_ORDER: nA1 = nC1 = nA2 = nC2 = nA3 = nC3 = 6
const N_C3X = (ORDER * (ORDER - 1)) / 2;
const MAXIT1 = 20;
const MAXIT2 = MAXIT1 + 53 + 10; // + digits of a double's mantissa
const DBL_MIN = 2.2250738585072014e-308; // the least normal double (Python's sys.float_info.min)
const TINY = Math.sqrt(DBL_MIN);
const TOL0 = Number.EPSILON;
const TOL1 = 200 * TOL0;
const TOL2 = Math.sqrt(TOL0);
const TOLB = TOL0;
const XTHRESH = 1000 * TOL2;
const DEG_TO_RAD = Math.PI / 180;
const RAD_TO_DEG = 180 / Math.PI;

const DISTANCE = 1 << 0;
const REDUCEDLENGTH = 1 << 1;

const G = (() => {
  const a = WGS84_A;
  const f = WGS84_F;
  const f1 = 1 - f;
  const e2 = f * (2 - f);
  const ep2 = e2 / (f1 * f1);
  const n = f / (2 - f);
  const b = a * f1;
  const etol2 = (0.1 * TOL2) / Math.sqrt((Math.max(0.001, Math.abs(f)) * Math.min(1.0, 1 - f / 2)) / 2);
  return { a, f, f1, e2, ep2, n, b, etol2, A3x: a3coeff(n), C3x: c3coeff(n) };
})();

function sq(x: number): number {
  return x * x;
}

function copysign(x: number, y: number): number {
  const negative = y < 0 || Object.is(y, -0);
  return negative ? -Math.abs(x) : Math.abs(x);
}

function norm(x: number, y: number): [number, number] {
  const r = Math.hypot(x, y);
  return [x / r, y / r];
}

/** Error-free transformation of a sum: u + v = s + t exactly. */
function sum(u: number, v: number): [number, number] {
  const s = u + v;
  let up = s - v;
  let vpp = s - up;
  up -= u;
  vpp -= v;
  const t = s === 0 ? s : 0.0 - (up + vpp);
  return [s, t];
}

function polyval(N: number, p: readonly number[], s: number, x: number): number {
  let y = N < 0 ? 0 : p[s]!;
  while (N > 0) {
    N -= 1;
    s += 1;
    y = y * x + p[s]!;
  }
  return y;
}

function angRound(x: number): number {
  const z = 1 / 16;
  let y = Math.abs(x);
  if (y < z) y = z - (z - y);
  return copysign(y, x);
}

function roundHalfEven(x: number): number {
  return rint(x);
}

/** IEEE remainder of x / 360 (C's remainder, Python's math.remainder), in [-180, 180]. */
function remainder360(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  let r = x % 360; // exact, with the sign of x
  if (r > 180) r -= 360;
  else if (r < -180) r += 360;
  else if (r === 180 || r === -180) {
    // A tie: the quotient rounds to even.
    const q = (x - r) / 360;
    if (Math.abs(q) % 2 === 1) r = -r;
  }
  return r;
}

function latFix(x: number): number {
  return Math.abs(x) > 90 ? NaN : x;
}

/** y - x reduced to [-180, 180] accurately, with its rounding error. */
function angDiff(x: number, y: number): [number, number] {
  let [d, t] = sum(remainder360(-x), remainder360(y));
  [d, t] = sum(remainder360(d), t);
  if (d === 0 || Math.abs(d) === 180) d = copysign(d, t === 0 ? y - x : -t);
  return [d, t];
}

function quadrant(s: number, c: number, q: number): [number, number] {
  switch (((q % 4) + 4) % 4) {
    case 1:
      return [c, -s];
    case 2:
      return [-s, -c];
    case 3:
      return [-c, s];
    default:
      return [s, c];
  }
}

function sincosd(x: number): [number, number] {
  let r = Number.isFinite(x) ? x % 360 : NaN;
  const q = Number.isNaN(r) ? 0 : roundHalfEven(r / 90);
  r -= 90 * q;
  r *= DEG_TO_RAD;
  let [s, c] = quadrant(Math.sin(r), Math.cos(r), q);
  c = c + 0.0;
  if (s === 0) s = copysign(s, x);
  return [s, c];
}

/** sin and cos of (x + t) in degrees, x in [-180, 180]. */
function sincosde(x: number, t: number): [number, number] {
  const q = Number.isFinite(x) ? roundHalfEven(x / 90) : 0;
  let r = x - 90 * q;
  r = angRound(r + t) * DEG_TO_RAD;
  let [s, c] = quadrant(Math.sin(r), Math.cos(r), q);
  c = c + 0.0;
  if (s === 0) s = copysign(s, x);
  return [s, c];
}

function atan2d(y: number, x: number): number {
  let q = 0;
  if (Math.abs(y) > Math.abs(x)) {
    q = 2;
    [x, y] = [y, x];
  }
  if (x < 0) {
    q += 1;
    x = -x;
  }
  let ang = Math.atan2(y, x) * RAD_TO_DEG;
  if (q === 1) ang = copysign(180, y) - ang;
  else if (q === 2) ang = 90 - ang;
  else if (q === 3) ang = -90 + ang;
  return ang;
}

/** Clenshaw summation of sum(c[i] * sin(2 i x), i = 1..n) (sinp) or sum(c[i] * cos((2 i + 1) x), i = 0..n-1). */
function sinCosSeries(sinp: boolean, sinx: number, cosx: number, c: readonly number[]): number {
  let k = c.length;
  let n = k - (sinp ? 1 : 0);
  const ar = 2 * (cosx - sinx) * (cosx + sinx);
  let y0: number;
  let y1 = 0;
  if (n & 1) {
    k -= 1;
    y0 = c[k]!;
  } else {
    y0 = 0;
  }
  n = Math.trunc(n / 2);
  while (n) {
    n -= 1;
    k -= 1;
    y1 = ar * y0 - y1 + c[k]!;
    k -= 1;
    y0 = ar * y1 - y0 + c[k]!;
  }
  return sinp ? 2 * sinx * cosx * y0 : cosx * (y0 - y1);
}

function astroid(x: number, y: number): number {
  const p = sq(x);
  const q = sq(y);
  const r = (p + q - 1) / 6;
  if (q === 0 && r <= 0) return 0;
  const S = (p * q) / 4;
  const r2 = sq(r);
  const r3 = r * r2;
  const disc = S * (S + 2 * r3);
  let u = r;
  if (disc >= 0) {
    let T3 = S + r3;
    T3 += T3 < 0 ? -Math.sqrt(disc) : Math.sqrt(disc);
    const T = Math.cbrt(T3);
    u += T + (T !== 0 ? r2 / T : 0);
  } else {
    const ang = Math.atan2(Math.sqrt(-disc), -(S + r3));
    u += 2 * r * Math.cos(ang / 3);
  }
  const v = Math.sqrt(sq(u) + q);
  const uv = u < 0 ? q / (v - u) : u + v;
  const w = (uv - q) / (2 * v);
  return uv / (Math.sqrt(uv + sq(w)) + w);
}

function a1m1f(eps: number): number {
  const coeff = [1, 4, 64, 0, 256];
  const m = ORDER / 2;
  const t = polyval(m, coeff, 0, sq(eps)) / coeff[m + 1]!;
  return (t + eps) / (1 - eps);
}

function c1f(eps: number, c: number[]): void {
  const coeff = [-1, 6, -16, 32, -9, 64, -128, 2048, 9, -16, 768, 3, -5, 512, -7, 1280, -7, 2048];
  const eps2 = sq(eps);
  let d = eps;
  let o = 0;
  for (let l = 1; l <= ORDER; l++) {
    const m = Math.trunc((ORDER - l) / 2);
    c[l] = (d * polyval(m, coeff, o, eps2)) / coeff[o + m + 1]!;
    o += m + 2;
    d *= eps;
  }
}

function a2m1f(eps: number): number {
  const coeff = [-11, -28, -192, 0, 256];
  const m = ORDER / 2;
  const t = polyval(m, coeff, 0, sq(eps)) / coeff[m + 1]!;
  return (t - eps) / (1 + eps);
}

function c2f(eps: number, c: number[]): void {
  const coeff = [1, 2, 16, 32, 35, 64, 384, 2048, 15, 80, 768, 7, 35, 512, 63, 1280, 77, 2048];
  const eps2 = sq(eps);
  let d = eps;
  let o = 0;
  for (let l = 1; l <= ORDER; l++) {
    const m = Math.trunc((ORDER - l) / 2);
    c[l] = (d * polyval(m, coeff, o, eps2)) / coeff[o + m + 1]!;
    o += m + 2;
    d *= eps;
  }
}

function a3coeff(n: number): number[] {
  const coeff = [-3, 128, -2, -3, 64, -1, -3, -1, 16, 3, -1, -2, 8, 1, -1, 2, 1, 1];
  const A3x: number[] = [];
  let o = 0;
  for (let j = ORDER - 1; j >= 0; j--) {
    const m = Math.min(ORDER - j - 1, j);
    A3x.push(polyval(m, coeff, o, n) / coeff[o + m + 1]!);
    o += m + 2;
  }
  return A3x;
}

function c3coeff(n: number): number[] {
  const coeff = [
    3, 128, 2, 5, 128, -1, 3, 3, 64, -1, 0, 1, 8, -1, 1, 4, 5, 256, 1, 3, 128, -3, -2, 3, 64, 1, -3, 2, 32, 7, 512,
    -10, 9, 384, 5, -9, 5, 192, 7, 512, -14, 7, 512, 21, 2560,
  ];
  const C3x: number[] = [];
  let o = 0;
  for (let l = 1; l < ORDER; l++) {
    for (let j = ORDER - 1; j >= l; j--) {
      const m = Math.min(ORDER - j - 1, j);
      C3x.push(polyval(m, coeff, o, n) / coeff[o + m + 1]!);
      o += m + 2;
    }
  }
  if (C3x.length !== N_C3X) throw new Error("C3 coefficients");
  return C3x;
}

function a3f(eps: number): number {
  return polyval(ORDER - 1, G.A3x, 0, eps);
}

function c3f(eps: number, c: number[]): void {
  let mult = 1;
  let o = 0;
  for (let l = 1; l < ORDER; l++) {
    const m = ORDER - l - 1;
    mult *= eps;
    c[l] = mult * polyval(m, G.C3x, o, eps);
    o += m + 1;
  }
}

/** s12b (distance / b) and m12b (reduced length / b), as outmask asks. */
function lengths(
  eps: number,
  sig12: number,
  ssig1: number,
  csig1: number,
  dn1: number,
  ssig2: number,
  csig2: number,
  dn2: number,
  outmask: number,
  C1a: number[],
  C2a: number[],
): { s12b: number; m12b: number } {
  let s12b = NaN;
  let m12b = NaN;
  let m0x = NaN;
  let J12 = NaN;
  let A1 = 0;
  let A2 = 0;
  if (outmask & (DISTANCE | REDUCEDLENGTH)) {
    A1 = a1m1f(eps);
    c1f(eps, C1a);
    if (outmask & REDUCEDLENGTH) {
      A2 = a2m1f(eps);
      c2f(eps, C2a);
      m0x = A1 - A2;
      A2 = 1 + A2;
    }
    A1 = 1 + A1;
  }
  if (outmask & DISTANCE) {
    const B1 = sinCosSeries(true, ssig2, csig2, C1a) - sinCosSeries(true, ssig1, csig1, C1a);
    s12b = A1 * (sig12 + B1);
    if (outmask & REDUCEDLENGTH) {
      const B2 = sinCosSeries(true, ssig2, csig2, C2a) - sinCosSeries(true, ssig1, csig1, C2a);
      J12 = m0x * sig12 + (A1 * B1 - A2 * B2);
    }
  } else if (outmask & REDUCEDLENGTH) {
    // As GeographicLib's C and C++ (l <= nC2); nC1 >= nC2.
    for (let l = 1; l <= ORDER; l++) C2a[l] = A1 * C1a[l]! - A2 * C2a[l]!;
    J12 = m0x * sig12 + (sinCosSeries(true, ssig2, csig2, C2a) - sinCosSeries(true, ssig1, csig1, C2a));
  }
  if (outmask & REDUCEDLENGTH) {
    m12b = dn2 * (csig1 * ssig2) - dn1 * (ssig1 * csig2) - csig1 * csig2 * J12;
  }
  return { s12b, m12b };
}

function inverseStart(
  sbet1: number,
  cbet1: number,
  dn1: number,
  sbet2: number,
  cbet2: number,
  dn2: number,
  lam12: number,
  slam12: number,
  clam12: number,
): { sig12: number; salp1: number; calp1: number; salp2: number; calp2: number; dnm: number } {
  let sig12 = -1;
  let salp2 = NaN;
  let calp2 = NaN;
  let dnm = NaN;
  const sbet12 = sbet2 * cbet1 - cbet2 * sbet1;
  const cbet12 = cbet2 * cbet1 + sbet2 * sbet1;
  let sbet12a = sbet2 * cbet1;
  sbet12a += cbet2 * sbet1;
  const shortline = cbet12 >= 0 && sbet12 < 0.5 && cbet2 * lam12 < 0.5;
  let somg12: number;
  let comg12: number;
  if (shortline) {
    let sbetm2 = sq(sbet1 + sbet2);
    sbetm2 /= sbetm2 + sq(cbet1 + cbet2);
    dnm = Math.sqrt(1 + G.ep2 * sbetm2);
    const omg12 = lam12 / (G.f1 * dnm);
    somg12 = Math.sin(omg12);
    comg12 = Math.cos(omg12);
  } else {
    somg12 = slam12;
    comg12 = clam12;
  }
  let salp1 = cbet2 * somg12;
  let calp1 =
    comg12 >= 0
      ? sbet12 + (cbet2 * sbet1 * sq(somg12)) / (1 + comg12)
      : sbet12a - (cbet2 * sbet1 * sq(somg12)) / (1 - comg12);
  const ssig12 = Math.hypot(salp1, calp1);
  const csig12 = sbet1 * sbet2 + cbet1 * cbet2 * comg12;
  if (shortline && ssig12 < G.etol2) {
    salp2 = cbet1 * somg12;
    calp2 = sbet12 - cbet1 * sbet2 * (comg12 >= 0 ? sq(somg12) / (1 + comg12) : 1 - comg12);
    [salp2, calp2] = norm(salp2, calp2);
    sig12 = Math.atan2(ssig12, csig12);
  } else if (Math.abs(G.n) >= 0.1 || csig12 >= 0 || ssig12 >= 6 * Math.abs(G.n) * Math.PI * sq(cbet1)) {
    // The zeroth-order spherical approximation is good enough.
  } else {
    // Near antipodal: scale to the astroid's coordinates (f > 0 for WGS84).
    const lam12x = Math.atan2(-slam12, -clam12);
    const k2 = sq(sbet1) * G.ep2;
    const eps = k2 / (2 * (1 + Math.sqrt(1 + k2)) + k2);
    const lamscale = G.f * cbet1 * a3f(eps) * Math.PI;
    const betscale = lamscale * cbet1;
    const x = lam12x / lamscale;
    const y = sbet12a / betscale;
    if (y > -TOL1 && x > -1 - XTHRESH) {
      salp1 = Math.min(1.0, -x);
      calp1 = -Math.sqrt(1 - sq(salp1));
    } else {
      const k = astroid(x, y);
      const omg12a = lamscale * ((-x * k) / (1 + k));
      somg12 = Math.sin(omg12a);
      comg12 = -Math.cos(omg12a);
      salp1 = cbet2 * somg12;
      calp1 = sbet12a - (cbet2 * sbet1 * sq(somg12)) / (1 - comg12);
    }
  }
  if (!(salp1 <= 0)) {
    [salp1, calp1] = norm(salp1, calp1);
  } else {
    salp1 = 1;
    calp1 = 0;
  }
  return { sig12, salp1, calp1, salp2, calp2, dnm };
}

function lambda12(
  sbet1: number,
  cbet1: number,
  dn1: number,
  sbet2: number,
  cbet2: number,
  dn2: number,
  salp1: number,
  calp1: number,
  slam120: number,
  clam120: number,
  diffp: boolean,
  C1a: number[],
  C2a: number[],
  C3a: number[],
) {
  if (sbet1 === 0 && calp1 === 0) calp1 = -TINY;
  const salp0 = salp1 * cbet1;
  const calp0 = Math.hypot(calp1, salp1 * sbet1);
  let ssig1 = sbet1;
  const somg1 = salp0 * sbet1;
  let csig1 = calp1 * cbet1;
  const comg1 = csig1;
  [ssig1, csig1] = norm(ssig1, csig1);
  const salp2 = cbet2 !== cbet1 ? salp0 / cbet2 : salp1;
  const calp2 =
    cbet2 !== cbet1 || Math.abs(sbet2) !== -sbet1
      ? Math.sqrt(
          sq(calp1 * cbet1) + (cbet1 < -sbet1 ? (cbet2 - cbet1) * (cbet1 + cbet2) : (sbet1 - sbet2) * (sbet1 + sbet2)),
        ) / cbet2
      : Math.abs(calp1);
  let ssig2 = sbet2;
  const somg2 = salp0 * sbet2;
  let csig2 = calp2 * cbet2;
  const comg2 = csig2;
  [ssig2, csig2] = norm(ssig2, csig2);
  const sig12 = Math.atan2(Math.max(0.0, csig1 * ssig2 - ssig1 * csig2) + 0.0, csig1 * csig2 + ssig1 * ssig2);
  const somg12 = Math.max(0.0, comg1 * somg2 - somg1 * comg2) + 0.0;
  const comg12 = comg1 * comg2 + somg1 * somg2;
  const eta = Math.atan2(somg12 * clam120 - comg12 * slam120, comg12 * clam120 + somg12 * slam120);
  const k2 = sq(calp0) * G.ep2;
  const eps = k2 / (2 * (1 + Math.sqrt(1 + k2)) + k2);
  c3f(eps, C3a);
  const B312 = sinCosSeries(true, ssig2, csig2, C3a) - sinCosSeries(true, ssig1, csig1, C3a);
  const domg12 = -G.f * a3f(eps) * salp0 * (sig12 + B312);
  const lam12 = eta + domg12;
  let dlam12 = NaN;
  if (diffp) {
    if (calp2 === 0) {
      dlam12 = (-2 * G.f1 * dn1) / sbet1;
    } else {
      dlam12 = lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, REDUCEDLENGTH, C1a, C2a).m12b;
      dlam12 *= G.f1 / (calp2 * cbet2);
    }
  }
  return { lam12, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dlam12 };
}

/** GeographicLib's GenInverse with outmask DISTANCE | AZIMUTH: s12 in metres, azimuths in degrees. */
function inverse(lat1: number, lon1: number, lat2: number, lon2: number): { s12: number; azi1: number; azi2: number } {
  let [lon12, lon12s] = angDiff(lon1, lon2);
  let lonsign = copysign(1, lon12);
  lon12 = lonsign * lon12;
  lon12s = lonsign * lon12s;
  const lam12 = lon12 * DEG_TO_RAD;
  const [slam12, clam12] = sincosde(lon12, lon12s);
  lon12s = 180 - lon12 - lon12s; // the supplementary longitude difference

  lat1 = angRound(latFix(lat1));
  lat2 = angRound(latFix(lat2));
  const swapp = Math.abs(lat1) < Math.abs(lat2) || Number.isNaN(lat2) ? -1 : 1;
  if (swapp < 0) {
    lonsign *= -1;
    [lat1, lat2] = [lat2, lat1];
  }
  const latsign = copysign(1, -lat1);
  lat1 *= latsign;
  lat2 *= latsign;

  let [sbet1, cbet1] = sincosd(lat1);
  sbet1 *= G.f1;
  [sbet1, cbet1] = norm(sbet1, cbet1);
  cbet1 = Math.max(TINY, cbet1);
  let [sbet2, cbet2] = sincosd(lat2);
  sbet2 *= G.f1;
  [sbet2, cbet2] = norm(sbet2, cbet2);
  cbet2 = Math.max(TINY, cbet2);

  if (cbet1 < -sbet1) {
    if (cbet2 === cbet1) sbet2 = copysign(sbet1, sbet2);
  } else if (Math.abs(sbet2) === -sbet1) {
    cbet2 = cbet1;
  }

  const dn1 = Math.sqrt(1 + G.ep2 * sq(sbet1));
  const dn2 = Math.sqrt(1 + G.ep2 * sq(sbet2));

  const C1a = new Array<number>(ORDER + 1).fill(0);
  const C2a = new Array<number>(ORDER + 1).fill(0);
  const C3a = new Array<number>(ORDER).fill(0);

  let s12x = NaN;
  let salp1 = NaN;
  let calp1 = NaN;
  let salp2 = NaN;
  let calp2 = NaN;
  let sig12: number;

  let meridian = lat1 === -90 || slam12 === 0;
  if (meridian) {
    calp1 = clam12;
    salp1 = slam12;
    calp2 = 1.0;
    salp2 = 0.0;
    const ssig1 = sbet1;
    const csig1 = calp1 * cbet1;
    const ssig2 = sbet2;
    const csig2 = calp2 * cbet2;
    sig12 = Math.atan2(Math.max(0.0, csig1 * ssig2 - ssig1 * csig2) + 0.0, csig1 * csig2 + ssig1 * ssig2);
    const l = lengths(G.n, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, DISTANCE | REDUCEDLENGTH, C1a, C2a);
    s12x = l.s12b;
    let m12x = l.m12b;
    if (sig12 < TOL2 || m12x >= 0) {
      if (sig12 < 3 * TINY || (sig12 < TOL0 && (s12x < 0 || m12x < 0))) {
        sig12 = m12x = s12x = 0.0;
      }
      m12x *= G.b;
      s12x *= G.b;
    } else {
      meridian = false; // m12 < 0: prolate and too close to antipodal
    }
  }

  if (!meridian && sbet1 === 0 && (G.f <= 0 || lon12s >= G.f * 180)) {
    // Along the equator.
    calp1 = calp2 = 0.0;
    salp1 = salp2 = 1.0;
    s12x = G.a * lam12;
  } else if (!meridian) {
    const start = inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12);
    sig12 = start.sig12;
    salp1 = start.salp1;
    calp1 = start.calp1;
    if (sig12 >= 0) {
      // Short lines.
      salp2 = start.salp2;
      calp2 = start.calp2;
      s12x = sig12 * G.b * start.dnm;
    } else {
      // Newton's method on lambda12(alp1) - lam12 = 0, bracketed.
      let numit = 0;
      let tripn = false;
      let tripb = false;
      let salp1a = TINY;
      let calp1a = 1.0;
      let salp1b = TINY;
      let calp1b = -1.0;
      let last: ReturnType<typeof lambda12>;
      for (;;) {
        last = lambda12(
          sbet1,
          cbet1,
          dn1,
          sbet2,
          cbet2,
          dn2,
          salp1,
          calp1,
          slam12,
          clam12,
          numit < MAXIT1,
          C1a,
          C2a,
          C3a,
        );
        const v = last.lam12;
        const dv = last.dlam12;
        if (tripb || !(Math.abs(v) >= (tripn ? 8 : 1) * TOL0) || numit === MAXIT2) break;
        if (v > 0 && (numit > MAXIT1 || calp1 / salp1 > calp1b / salp1b)) {
          salp1b = salp1;
          calp1b = calp1;
        } else if (v < 0 && (numit > MAXIT1 || calp1 / salp1 < calp1a / salp1a)) {
          salp1a = salp1;
          calp1a = calp1;
        }
        numit += 1;
        if (numit < MAXIT1 && dv > 0) {
          const dalp1 = -v / dv;
          if (Math.abs(dalp1) < Math.PI) {
            const sdalp1 = Math.sin(dalp1);
            const cdalp1 = Math.cos(dalp1);
            const nsalp1 = salp1 * cdalp1 + calp1 * sdalp1;
            if (nsalp1 > 0) {
              calp1 = calp1 * cdalp1 - salp1 * sdalp1;
              salp1 = nsalp1;
              [salp1, calp1] = norm(salp1, calp1);
              tripn = Math.abs(v) <= 16 * TOL0;
              continue;
            }
          }
        }
        salp1 = (salp1a + salp1b) / 2;
        calp1 = (calp1a + calp1b) / 2;
        [salp1, calp1] = norm(salp1, calp1);
        tripn = false;
        tripb = Math.abs(salp1a - salp1) + (calp1a - calp1) < TOLB || Math.abs(salp1 - salp1b) + (calp1 - calp1b) < TOLB;
      }
      salp2 = last.salp2;
      calp2 = last.calp2;
      const l = lengths(
        last.eps,
        last.sig12,
        last.ssig1,
        last.csig1,
        dn1,
        last.ssig2,
        last.csig2,
        dn2,
        DISTANCE,
        C1a,
        C2a,
      );
      s12x = l.s12b * G.b;
    }
  }

  const s12 = 0.0 + s12x;
  if (swapp < 0) {
    [salp1, salp2] = [salp2, salp1];
    [calp1, calp2] = [calp2, calp1];
  }
  salp1 *= swapp * lonsign;
  calp1 *= swapp * latsign;
  salp2 *= swapp * lonsign;
  calp2 *= swapp * latsign;
  return { s12, azi1: atan2d(salp1, calp1), azi2: atan2d(salp2, calp2) };
}
