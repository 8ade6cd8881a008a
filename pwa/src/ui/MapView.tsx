// A Leaflet map of stores and the day's route. Leaflet is bundled; the tile URL is configurable
// (VITE_TILE_URL at build time, OpenStreetMap by default) and the map still draws markers and lines with no
// tiles at all (offline, or a closed network).
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef } from "preact/hooks";

export const TILE_URL: string =
  (import.meta.env.VITE_TILE_URL as string | undefined) ?? "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

export interface MapPoint {
  lat: number;
  lng: number;
  label: string;
  title: string;
  done?: boolean;
  onClick?: () => void;
}

export function MapView(props: { points: MapPoint[]; route?: boolean; me?: { lat: number; lng: number; accuracy: number } | null }) {
  const element = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const fitted = useRef<string>("");
  useEffect(() => {
    if (!element.current) return;
    const m = L.map(element.current, { zoomControl: true, attributionControl: true });
    L.tileLayer(TILE_URL, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(m);
    map.current = m;
    layer.current = L.layerGroup().addTo(m);
    return () => {
      m.remove();
      map.current = null;
    };
  }, []);
  useEffect(() => {
    const m = map.current;
    const group = layer.current;
    if (!m || !group) return;
    group.clearLayers();
    const latlngs: L.LatLngExpression[] = [];
    for (const p of props.points) {
      const icon = L.divIcon({ className: `store-marker${p.done ? " done" : ""}`, html: p.label, iconSize: [30, 30] });
      const marker = L.marker([p.lat, p.lng], { icon, title: p.title }).addTo(group);
      if (p.onClick) marker.on("click", p.onClick);
      latlngs.push([p.lat, p.lng]);
    }
    if (props.route && latlngs.length > 1) L.polyline(latlngs, { color: "#0b5fff", weight: 4, opacity: 0.7 }).addTo(group);
    if (props.me) {
      L.circle([props.me.lat, props.me.lng], { radius: props.me.accuracy, color: "#0a7a33", weight: 1 }).addTo(group);
      latlngs.push([props.me.lat, props.me.lng]);
    }
    // Keep the rep's zoom and pan when a sync redraws the same places; fit again when they change.
    const key = latlngs.map((p) => String(p)).join(";");
    if (key === fitted.current) return;
    fitted.current = key;
    if (latlngs.length === 1) m.setView(latlngs[0]!, 16);
    else if (latlngs.length > 1) m.fitBounds(L.latLngBounds(latlngs), { padding: [24, 24] });
    else m.setView([0, 0], 2);
  }, [props.points, props.me]);
  return <div class="map" ref={element} data-testid="map" />;
}
