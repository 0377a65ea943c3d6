import { defineConfig } from 'vite';

// Built by Maven into the server's classes (skydeck-ui/ on the classpath); `npm run dev` proxies /api.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../target/classes/skydeck-ui',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
} as never);
