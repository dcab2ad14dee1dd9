// Package cpam is caddy-cpam: a management panel, a persistent usage store
// and an authenticated management proxy for CLIProxyAPI, as Caddy modules.
//
// Importing this package registers everything:
//
//	xcaddy build --with github.com/cpam-caddy/cpam
//
// registers the "cpam" app and global option and the cpam_panel, cpam_api
// and cpam_management HTTP handlers and directives.
package cpam

import (
	_ "github.com/cpam-caddy/cpam/handlers" // http.handlers.cpam_panel, cpam_api, cpam_management
	_ "github.com/cpam-caddy/cpam/module"   // the cpam app and global option
)
