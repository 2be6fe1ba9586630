// Bundles the playground (GraphiQL, React, graphql-ws and our code) into <outdir>/playground.js
// and playground.css. build.rs runs it into Cargo's OUT_DIR; `npm run build` writes dist/.
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
