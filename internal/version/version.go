// Package version reports the version of the caddy-cpam module compiled into
// the running binary.
package version

import (
	"runtime/debug"
	"sync"
)

// ModulePath is the Go module path of caddy-cpam.
const ModulePath = "github.com/cpam-caddy/cpam"

var (
	once    sync.Once
	current string
)

// String returns the module version recorded by the Go toolchain ("v1.2.3"
// when built with xcaddy from a tagged release), or "devel" for a build from
// a working tree.
func String() string {
	once.Do(func() { current = fromBuildInfo() })
	return current
}

func fromBuildInfo() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Path == ModulePath && validVersion(info.Main.Version) {
		return info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path != ModulePath {
			continue
		}
		if dep.Replace != nil && validVersion(dep.Replace.Version) {
			return dep.Replace.Version
		}
		if validVersion(dep.Version) {
			return dep.Version
		}
	}
	return "devel"
}

func validVersion(v string) bool { return v != "" && v != "(devel)" }
