import { defineConfig } from 'vitest/config';
import { viteSingleFile } from 'vite-plugin-singlefile';
import pkg from './package.json' with { type: 'json' };

// One self-contained page: every script and stylesheet is inlined into
// dist/management.html, which the Go module embeds (web/embed.go). The output
// must be byte-identical for identical sources, so nothing time- or
// machine-dependent goes into the build.
export default defineConfig({
  base: './',
  define: {
    __PANEL_VERSION__: JSON.stringify(pkg.version),
  },
  esbuild: {
    legalComments: 'none',
  },
  build: {
    outDir: 'dist',
    // dist/ also holds the committed page only; embed.go lives one level up.
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    assetsInlineLimit: 100_000_000,
    chunkSizeWarningLimit: 2_000,
    modulePreload: false,
    reportCompressedSize: true,
    rollupOptions: {
      input: 'management.html',
      onwarn(warning, warn) {
        // React Query marks its modules "use client" for server-component
        // bundlers; the directive means nothing in a browser bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  plugins: [viteSingleFile({ removeViteModuleLoader: true })],
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
