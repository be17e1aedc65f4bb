// Builds the dashboard's page: src/web/main.ts bundled (with the types it shares with the
// server erased) into dist/dashboard/app.js, beside a copy of src/web/index.html. No CDN:
// the page and its script are everything the browser loads.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'dashboard');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'src', 'web', 'main.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(path.join(root, 'src', 'web', 'index.html'), path.join(out, 'index.html'));
const size = ['index.html', 'app.js'].reduce((sum, f) => sum + statSync(path.join(out, f)).size, 0);
console.log(`dist/dashboard: page and script ${(size / 1024).toFixed(1)} KB`);
