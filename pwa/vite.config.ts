/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The app: index.html and its hashed assets. The service worker is built after it by vite.sw.config.ts,
// which precaches what this build wrote.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
