// The dashboard's build: `web/` is the Vite root, the output goes to web/dist, which `writ server` serves.
// In development (`npx vite web`) API, auth and push requests go to a local `writ server`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const server = process.env.WRIT_SERVER ?? 'http://127.0.0.1:7070';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/v1': server, '/auth': server } },
});
