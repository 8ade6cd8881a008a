// The phone's fence verdicts against the server's shared vectors (backend/visits/vectors/fences.json, format in the
// README beside it): every case must give the same verdict and reason, and the distance within the case's margin.
import { describe, expect, it } from "vitest";

import { distanceM, geodesicInverse, judge, verdictFor, type FencedStore, type Fix, type Verdict } from "../../src/geo/fence";

// node:fs without @types/node (not a dependency of the PWA): a specifier TypeScript does not resolve.
const fsModule = "node:fs";
const { readFileSync } = (await import(/* @vite-ignore */ fsModule)) as {
  readFileSync(path: URL, encoding: "utf8"): string;
};

interface Case {
  name: string;
  note?: string;
  fence: FencedStore;
  // The vectors name the tolerance as fences.py does (FenceRules.tolerance_m); the organisation's visit rules,
  // which the phone holds, call it fence_tolerance_m.
  rules: { tolerance_m: number; max_accuracy_m: number };
  fix: Fix;
  expected: Verdict & { allowed_error_m: number };
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../backend/visits/vectors/fences.json", import.meta.url), "utf8"),
) as { cases: Case[] };

describe("fence vectors", () => {
  it("has cases", () => {
    expect(vectors.cases.length).toBeGreaterThan(0);
  });

  for (const c of vectors.cases) {
    it(c.name, () => {
      const verdict = judge(c.fence, c.fix, {
        fence_tolerance_m: c.rules.tolerance_m,
        max_accuracy_m: c.rules.max_accuracy_m,
      });
      expect({ verdict: verdict.verdict, reason: verdict.reason }).toEqual({
        verdict: c.expected.verdict,
        reason: c.expected.reason,
      });
      expect(Math.abs(verdict.distance_m - c.expected.distance_m)).toBeLessThanOrEqual(c.expected.allowed_error_m);
      // Distances are rounded to the centimetre, as the server's.
      expect(Math.round(verdict.distance_m * 100) / 100).toBe(verdict.distance_m);
    });
  }
});

describe("geodesic", () => {
  // Expected values from pyproj's Geod(ellps="WGS84").inv, what the server runs.
  const known: [string, [number, number, number, number], number, number][] = [
    ["Wellington to Salamanca (GeographicLib's example)", [-41.32, 174.81, 40.96, -5.5], 19959679.26735382, 161.06766998616015],
    ["JFK to Heathrow", [40.6413, -73.7781, 51.47, -0.4543], 5554908.7905475, 51.38164785836946],
    ["nearly antipodal on the equator", [0, 0, 0.5, 179.5], 19936288.578965314, 25.67187286829188],
    ["Shanghai to Sydney", [31.2304, 121.4737, -33.8688, 151.2093], 7852844.419281181, 154.03337072019153],
  ];
  for (const [name, [lat1, lng1, lat2, lng2], metres, azimuth] of known) {
    it(name, () => {
      const a = { lat: lat1, lng: lng1 };
      const b = { lat: lat2, lng: lng2 };
      expect(Math.abs(distanceM(a, b) - metres)).toBeLessThan(1e-6);
      expect(Math.abs(distanceM(b, a) - metres)).toBeLessThan(1e-6);
      expect(Math.abs(geodesicInverse(a, b).azimuth1 - azimuth)).toBeLessThan(1e-9);
    });
  }

  it("is 0 from a point to itself, and across the antimeridian the short way", () => {
    expect(distanceM({ lat: 31.2304, lng: 121.4737 }, { lat: 31.2304, lng: 121.4737 })).toBe(0);
    expect(distanceM({ lat: 0, lng: 179.9995 }, { lat: 0, lng: -179.9995 })).toBeCloseTo(111.32, 1);
  });
});

describe("verdict rules", () => {
  const rules = { fence_tolerance_m: 25, max_accuracy_m: 150 };

  it("applies them in the server's order", () => {
    expect(verdictFor(0, 0, rules).reason).toBe("within_fence");
    expect(verdictFor(25, 0, rules).reason).toBe("within_tolerance");
    expect(verdictFor(25.01, 0, rules).reason).toBe("beyond_fence");
    expect(verdictFor(25.01, 0.01, rules).reason).toBe("accuracy_overlaps_edge");
    expect(verdictFor(0, 150.5, rules).reason).toBe("accuracy_too_poor");
    expect(verdictFor(1000, 150.5, rules).reason).toBe("beyond_fence");
  });

  it("refuses what the server refuses", () => {
    const store: FencedStore = { lat: 31.2304, lng: 121.4737, geofence: { kind: "circle", radius_m: 100 } };
    expect(() => judge(store, { lat: 91, lng: 0, accuracy_m: 5 }, rules)).toThrow(RangeError);
    expect(() => judge(store, { lat: 31, lng: 121, accuracy_m: -1 }, rules)).toThrow(RangeError);
    expect(() => judge(store, { lat: 31, lng: 121, accuracy_m: Number.NaN }, rules)).toThrow(RangeError);
    expect(() => judge(store, { lat: 31, lng: 121, accuracy_m: 5 }, { fence_tolerance_m: -1, max_accuracy_m: 150 })).toThrow(
      RangeError,
    );
  });
});
