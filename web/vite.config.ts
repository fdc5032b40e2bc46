import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

/** The server the dev server forwards the API and the gateway to (`npm run dev -w web`). */
const api = process.env.EASY_CHAT_URL ?? 'http://localhost:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // The SDK is a workspace package: bundle its TypeScript source.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      '/v1': api,
      '/ws': { target: api.replace(/^http/, 'ws'), ws: true },
    },
  },
});
