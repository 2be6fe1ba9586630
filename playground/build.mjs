// Bundles the playground (GraphiQL, React, graphql-ws and our code) into <outdir>/playground.js
// and playground.css, and the dashboard's charts (Chart.js) into charts.js, each with a gzipped copy the server sends to browsers that accept it.
// build.rs runs it into Cargo's OUT_DIR; `npm run build` writes dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const outdir = process.argv[2] || 'dist';
await build({
  entryPoints: ['src/playground.jsx'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'eof',
  outdir,
  logLevel: 'warning',
});

// The dashboard's chart library (Chart.js) on its own: the dashboard stays plain JavaScript.
await build({
  entryPoints: ['src/charts.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'eof',
  outdir,
  logLevel: 'warning',
});

for (const file of ['playground.js', 'playground.css', 'charts.js']) {
  const path = join(outdir, file);
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
}
