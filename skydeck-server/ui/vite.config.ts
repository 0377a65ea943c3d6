/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Built by Maven into the server's classes (skydeck-ui/ on the classpath); `npm run dev` proxies /api.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../target/classes/skydeck-ui',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // Mantine and TanStack mark their modules 'use client' for React Server Components; a client-only
      // bundle drops the directive, which Rolldown reports once per module (850 warnings that read like a
      // broken build). Every other warning is still printed.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && /['"]use client['"]/.test(warning.message)) return;
        warn(warning);
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: { environment: 'node', include: ['test/**/*.test.ts'] },
});
