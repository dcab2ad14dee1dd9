// Checks the built page before it is committed and embedded by the Go module:
// one self-contained HTML file, one </head> (caddy-cpam injects its
// <meta name="cpam-config"> right before the first one, so a second one
// inside inlined code would corrupt the page), nothing loaded from elsewhere,
// and within the size budget. Prints the raw and gzip sizes.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP = 600 * 1024;
const dir = new URL('../dist/', import.meta.url);
const problems = [];

const files = readdirSync(dir);
if (files.length !== 1 || files[0] !== 'management.html') {
  problems.push(`dist/ must hold management.html only, found: ${files.join(', ')}`);
}

const html = readFileSync(new URL('management.html', dir));
const text = html.toString('utf8');
const heads = text.toLowerCase().split('</head>').length - 1;
if (heads !== 1) problems.push(`expected exactly one </head>, found ${heads}`);

// External resources: <script src>, <link href>, CSS url() and @import of anything but data: URIs.
const external = [
  ...text.matchAll(/<script\b[^>]*\ssrc\s*=\s*["']?([^"'\s>]+)/gi),
  ...text.matchAll(/<link\b[^>]*\shref\s*=\s*["']?([^"'\s>]+)/gi),
  ...text.matchAll(/@import\s+(?:url\()?["']?([^"')\s;]+)/gi),
  ...text.matchAll(/url\(\s*["']?(?!data:|#)([a-z]+:[^"')\s]*|\/\/[^"')\s]*)/gi),
].map((m) => m[1]);
if (external.length > 0) problems.push(`the page loads external resources: ${[...new Set(external)].join(', ')}`);

const gzip = gzipSync(html, { level: 9 }).length;
if (gzip > BUDGET_GZIP) problems.push(`gzip size ${gzip} B is over the ${BUDGET_GZIP} B budget`);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`dist/management.html: ${kib(html.length)} raw, ${kib(gzip)} gzip (budget ${kib(BUDGET_GZIP)} gzip)`);
if (problems.length > 0) {
  for (const p of problems) console.error(`check-dist: ${p}`);
  process.exit(1);
}
