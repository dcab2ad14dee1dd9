// Package web holds the built panel, a single self-contained HTML file that
// the cpam_panel handler serves.
package web

import _ "embed"

// ManagementHTML is the built panel (web/dist/management.html).
//
//go:embed dist/management.html
var ManagementHTML []byte
