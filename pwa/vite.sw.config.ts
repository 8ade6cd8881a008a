// Builds the service worker after the app: dist/sw.js, not hashed (its URL must stay the same), with the list of
// files to precache and their content hashes compiled in, so every new app build is a new worker.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { defineConfig } from "vite";

const dist = "dist";

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const entries = walk(dist)
  .filter((path) => !path.endsWith("sw.js") && !path.includes(".vite") && !path.endsWith(".map"))
  .map((path) => ({
    url: "/" + relative(dist, path).split("\\").join("/"),
    revision: createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16),
  }))
  .sort((a, b) => a.url.localeCompare(b.url));

const version = createHash("sha256").update(JSON.stringify(entries)).digest("hex").slice(0, 12);

export default defineConfig({
  define: {
    __PRECACHE__: JSON.stringify(entries),
    __VERSION__: JSON.stringify(version),
  },
  build: {
    outDir: dist,
    emptyOutDir: false,
    target: "es2022",
    lib: { entry: "src/sw.ts", formats: ["iife"], name: "fieldbookServiceWorker", fileName: () => "sw.js" },
  },
});
