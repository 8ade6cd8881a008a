// The phone's position for check-ins: one fresh fix, with its accuracy and age.
export interface PositionFix {
  lat: number;
  lng: number;
  accuracy: number;
  /** Seconds since the fix was taken (0 for a fresh one; a cached fix is older). */
  ageS: number;
  at: number;
}

export class PositionError extends Error {
  constructor(readonly reason: "denied" | "unavailable" | "timeout" | "unsupported") {
    super(reason);
  }
}

export function toFix(position: GeolocationPosition): PositionFix {
  return {
    lat: position.coords.latitude,
    lng: position.coords.longitude,
    accuracy: position.coords.accuracy,
    ageS: Math.max(0, Math.round((Date.now() - position.timestamp) / 1000)),
    at: position.timestamp,
  };
}

function reason(err: GeolocationPositionError): PositionError {
  if (err.code === err.PERMISSION_DENIED) return new PositionError("denied");
  if (err.code === err.TIMEOUT) return new PositionError("timeout");
  return new PositionError("unavailable");
}

export function currentFix(options: { timeoutMs?: number } = {}): Promise<PositionFix> {
  return new Promise((resolve, reject) => {
    if (!("geolocation" in navigator)) return reject(new PositionError("unsupported"));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(toFix(p)),
      (e) => reject(reason(e)),
      { enableHighAccuracy: true, timeout: options.timeoutMs ?? 20000, maximumAge: 0 },
    );
  });
}

/** Follow the position while a screen waits for a better fix; returns a stop function. */
export function watchFix(onFix: (fix: PositionFix) => void, onError: (err: PositionError) => void): () => void {
  if (!("geolocation" in navigator)) {
    onError(new PositionError("unsupported"));
    return () => undefined;
  }
  const id = navigator.geolocation.watchPosition(
    (p) => onFix(toFix(p)),
    (e) => onError(reason(e)),
    { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 },
  );
  return () => navigator.geolocation.clearWatch(id);
}
