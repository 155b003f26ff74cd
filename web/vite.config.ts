/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The twin server serves dist/ and maps /wall to wall.html and so on; in development Vite
// forwards the API and the live socket to a twin server on the usual port.
const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const server = process.env.TWIN_SERVER ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: {
        main: page("index.html"),
        wall: page("wall.html"),
        inspect: page("inspect.html"),
        respond: page("respond.html"),
      },
    },
  },
  server: {
    proxy: {
      "/api": server,
      "/ws": { target: server.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
  },
});
