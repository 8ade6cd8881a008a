// Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks", 2014), as docs/sync-protocol.md 2.2 pins
// them; the TypeScript port of sync/clock.py.
//
// A stamp is `WWWWWWWWWWWW-CCCC`: 12 lowercase hex digits of wall time in milliseconds since the Unix epoch and
// 4 of counter, so stamps sort as strings like the clock. The node travels beside the stamp and breaks ties.
// Pure: no DOM, no storage. The caller persists `state()` and passes it back to the constructor.

/** The largest wall time a stamp can carry (48 bits: the year 10889). */
export const MAX_WALL = 2 ** 48 - 1;
/** The largest counter a stamp can carry (16 bits). */
export const MAX_COUNTER = 0xffff;

/** The whole string must match: `$` in a JavaScript regex without the `m` flag does not accept a final newline. */
export const STAMP_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{4}$/;
const NODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A string is not a stamp (`WWWWWWWWWWWW-CCCC`, lowercase hex, nothing before or after). */
export class InvalidStamp extends Error {
  override readonly name = "InvalidStamp";
  constructor(readonly stamp: unknown) {
    super(`${JSON.stringify(stamp) ?? String(stamp)} is not an HLC stamp like 0193c2d4e5f6-0000`);
  }
}

/** The clock cannot give a stamp. The clock is left as it was. */
export class ClockError extends Error {
  override readonly name: string = "ClockError";
}

/** 65,536 events in one millisecond, or a remote far ahead: the replica must wait for its physical clock. */
export class ClockOverflow extends ClockError {
  override readonly name = "ClockOverflow";
  constructor() {
    super("HLC counter overflow");
  }
}

/** A remote stamp is further ahead of physical time than the clock allows. */
export class ClockSkew extends ClockError {
  override readonly name = "ClockSkew";
  constructor(
    readonly remoteWall: number,
    readonly physical: number,
    readonly boundMs: number,
  ) {
    super(`remote clock is ${remoteWall - physical} ms ahead (at most ${boundMs} ms allowed)`);
  }
}

/** The time part of a hybrid logical timestamp. */
export interface StampParts {
  wall: number;
  counter: number;
}
export type Stamp = StampParts;

/** A stamp with the node that made it: what `now()` and `receive()` return, and what `receive()` takes. */
export interface Timestamp {
  stamp: string;
  node: string;
}

/** The persisted state of a clock. */
export type ClockState = StampParts;

export function parseStamp(stamp: string): StampParts {
  if (typeof stamp !== "string" || !STAMP_PATTERN.test(stamp)) throw new InvalidStamp(stamp);
  return { wall: Number.parseInt(stamp.slice(0, 12), 16), counter: Number.parseInt(stamp.slice(13), 16) };
}

export function formatStamp(wall: number, counter: number): string {
  checkParts(wall, counter);
  return `${wall.toString(16).padStart(12, "0")}-${counter.toString(16).padStart(4, "0")}`;
}

export function isStamp(value: unknown): value is string {
  return typeof value === "string" && STAMP_PATTERN.test(value);
}

/** `Stamp.parse` / `Stamp.format`, beside the `Stamp` type. */
export const Stamp = { parse: parseStamp, format: formatStamp, isValid: isStamp, pattern: STAMP_PATTERN } as const;

function checkParts(wall: number, counter: number): void {
  if (!Number.isSafeInteger(wall) || wall < 0 || wall > MAX_WALL) throw new RangeError(`wall ${wall} out of range`);
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new RangeError(`counter ${counter} out of range`);
  }
}

function next(counter: number): number {
  if (counter >= MAX_COUNTER) throw new ClockOverflow();
  return counter + 1;
}

/**
 * One replica's clock. `now()` stamps a local event; `receive()` moves past a remote stamp first.
 * Each step computes the new state before committing it, so a step that throws leaves the clock unchanged.
 */
export class HybridClock {
  private wall: number;
  private counter: number;

  /**
   * @param node the replica's id (`^[A-Za-z0-9_-]{1,64}$`); every stamp this clock returns carries it.
   * @param maxDriftMs how far (ms) a remote stamp may be ahead of physical time in `receive()`; null: no bound.
   * @param physical physical time in milliseconds since the Unix epoch (an integer).
   * @param state the state saved by `state()`; a new clock starts at wall 0, counter 0.
   */
  constructor(
    readonly node: string,
    private readonly maxDriftMs: number | null,
    private readonly physicalMs: () => number,
    state?: ClockState,
  ) {
    if (typeof node !== "string" || !NODE_PATTERN.test(node)) {
      throw new RangeError(`node ${JSON.stringify(node)} must be 1-64 characters of A-Z a-z 0-9 _ -`);
    }
    if (maxDriftMs !== null && !(maxDriftMs >= 0)) throw new RangeError(`max drift ${maxDriftMs} must be >= 0`);
    const { wall, counter } = state ?? { wall: 0, counter: 0 };
    checkParts(wall, counter);
    this.wall = wall;
    this.counter = counter;
  }

  /** Physical time in whole milliseconds, as this clock reads it (a fraction, e.g. from an offset, is dropped). */
  physical(): number {
    const pt = Math.floor(this.physicalMs());
    if (!Number.isSafeInteger(pt) || pt < 0 || pt > MAX_WALL) throw new RangeError(`physical time ${pt} out of range`);
    return pt;
  }

  /** The state to persist (and to pass back to the constructor). */
  state(): ClockState {
    return { wall: this.wall, counter: this.counter };
  }

  /** The last stamp given out (or the initial state), with this clock's node. */
  last(): Timestamp {
    return { stamp: formatStamp(this.wall, this.counter), node: this.node };
  }

  /** Stamp a local event: `(pt, 0)` when physical time is ahead of the wall, else `(wall, counter + 1)`. */
  now(): Timestamp {
    const pt = this.physical();
    if (pt > this.wall) return this.commit(pt, 0);
    return this.commit(this.wall, next(this.counter));
  }

  /**
   * Move past a remote stamp (docs/sync-protocol.md 2.2). Throws `ClockSkew` when the remote wall is more than
   * `maxDriftMs` ahead of physical time (not of this clock's wall), `ClockOverflow` when the counter would pass
   * 65,535, `InvalidStamp` for a malformed stamp; the clock is unchanged in each case.
   */
  receive(remote: Timestamp): Timestamp {
    const { wall: remoteWall, counter: remoteCounter } = parseStamp(remote.stamp);
    const pt = this.physical();
    if (this.maxDriftMs !== null && remoteWall - pt > this.maxDriftMs) {
      throw new ClockSkew(remoteWall, pt, this.maxDriftMs);
    }
    const wall = Math.max(this.wall, remoteWall, pt);
    let counter: number;
    if (wall === this.wall && wall === remoteWall) counter = next(Math.max(this.counter, remoteCounter));
    else if (wall === this.wall) counter = next(this.counter);
    else if (wall === remoteWall) counter = next(remoteCounter);
    else counter = 0;
    return this.commit(wall, counter);
  }

  private commit(wall: number, counter: number): Timestamp {
    const stamp = formatStamp(wall, counter);
    this.wall = wall;
    this.counter = counter;
    return { stamp, node: this.node };
  }
}
