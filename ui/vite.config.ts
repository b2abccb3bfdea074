// Vite config for the Capsmith webview. The Tauri shell loads `dist/` (relative paths, so it
// works from `tauri://localhost`) and points its dev server at port 1420.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  plugins: [react()],
  // Keep Rust/Tauri output visible in the same terminal.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.50 (Linux) and WKWebView are modern; Safari 15 is a safe floor.
    target: ["es2022", "safari15"],
    sourcemap: false,
  },
});
