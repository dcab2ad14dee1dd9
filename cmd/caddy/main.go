// Command caddy is Caddy with its standard modules and caddy-cpam, for a
// plain `go build ./cmd/caddy` (what xcaddy would generate).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/cpam-caddy/cpam"
)

func main() {
	caddycmd.Main()
}
