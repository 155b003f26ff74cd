/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// The twin server serves dist/ and maps /wall to wall.html and so on; in development Vite
// forwards the API and the live socket to a twin server on the usual port.
const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const server = process.env.TWIN_SERVER ?? "http://127.0.0.1:8000";

// The API's own documentation pages (/docs, /redoc) load these from the server, not from a CDN:
// they work without internet and under the server's Content-Security-Policy.
const DOCS_ASSETS: Record<string, string> = {
  "swagger-ui-bundle.js": "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
  "swagger-ui.css": "node_modules/swagger-ui-dist/swagger-ui.css",
  "favicon-32x32.png": "node_modules/swagger-ui-dist/favicon-32x32.png",
  "redoc.standalone.js": "node_modules/redoc/bundles/redoc.standalone.js",
  "swagger-init.js": "docs/swagger-init.js",
};

// ReDoc's sidebar shows its maker's logo from their CDN: the policy would block it and report a
// violation, so the copy shows an empty image instead.
const OFFLINE: Record<string, [string, string]> = {
  "redoc.standalone.js": ["https://cdn.redoc.ly/redoc/logo-mini.svg", "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"],
};

function docsAssets(): Plugin {
  return {
    name: "twin-docs-assets",
    apply: "build",
    generateBundle() {
      for (const [name, source] of Object.entries(DOCS_ASSETS)) {
        let content: string | Buffer = readFileSync(page(source));
        const swap = OFFLINE[name];
        if (swap) content = content.toString("utf8").replaceAll(swap[0], swap[1]);
        this.emitFile({ type: "asset", fileName: `assets/docs/${name}`, source: content });
      }
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [docsAssets()],
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
