// Follow-up times are entered in the user's (or organisation's) time zone, whatever the phone's zone is.
import { describe, expect, it } from "vitest";
import { zonedInput, zonedInstant } from "../src/data";

describe("zoned times", () => {
  it("reads a wall-clock time in Shanghai", () => {
    expect(zonedInstant("2026-11-24T09:00", "Asia/Shanghai")!.toISOString()).toBe("2026-11-24T01:00:00.000Z");
  });
  it("follows daylight saving time in Berlin", () => {
    expect(zonedInstant("2026-07-01T09:00", "Europe/Berlin")!.toISOString()).toBe("2026-07-01T07:00:00.000Z");
    expect(zonedInstant("2026-12-01T09:00", "Europe/Berlin")!.toISOString()).toBe("2026-12-01T08:00:00.000Z");
  });
  it("moves a time in the spring gap forward, as clocks do", () => {
    // 2026-03-29 02:30 does not exist in Berlin (02:00 -> 03:00).
    expect(zonedInstant("2026-03-29T02:30", "Europe/Berlin")!.toISOString()).toBe("2026-03-29T01:30:00.000Z");
  });
  it("refuses what is not a datetime-local value", () => {
    expect(zonedInstant("", "Asia/Shanghai")).toBeNull();
    expect(zonedInstant("tomorrow", "Asia/Shanghai")).toBeNull();
  });
  it("makes tomorrow 09:00 in the zone, not on the phone's calendar", () => {
    // 17:30 UTC on Nov 23 is already Nov 24 in Shanghai: tomorrow there is Nov 25.
    expect(zonedInput(1, "09:00", "Asia/Shanghai", new Date("2026-11-23T17:30:00Z"))).toBe("2026-11-25T09:00");
    expect(zonedInput(1, "09:00", "America/New_York", new Date("2026-11-23T17:30:00Z"))).toBe("2026-11-24T09:00");
  });
});
