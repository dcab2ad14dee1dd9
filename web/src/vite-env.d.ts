/// <reference types="vite/client" />

/** The panel's version (package.json), set by Vite's define. */
declare const __PANEL_VERSION__: string;
