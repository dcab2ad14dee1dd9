package module

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/store"
)

// ensureAdminKey makes sure an admin key exists when the config sets none:
// on the first start it generates one, stores only its argon2id hash and
// shows the key once in the log. A configured admin_key wins and is kept in
// memory only.
func ensureAdminKey(ctx context.Context, st *store.Store, s *Settings, logger *zap.Logger) error {
	if s.AdminKey != "" {
		return nil
	}
	key, generated, err := api.EnsureAdminKey(ctx, st)
	if err != nil {
		return fmt.Errorf("setting up the admin key: %w", err)
	}
	if generated {
		logger.Warn("GENERATED ADMIN KEY, shown once: it unlocks the cpam panel and API; copy it now, only its hash is stored (set admin_key in the cpam global option to choose your own, or rotate it with: caddy cpam reset-admin-key)",
			zap.String("admin_key", key),
			zap.String("database", s.Database))
	}
	return nil
}

// authConfig is what the shared Auth needs from the settings.
func authConfig(s *Settings) api.AuthConfig {
	c := api.AuthConfig{AdminKey: s.AdminKey, SessionTTL: s.SessionTTL}
	for _, up := range s.Upstreams {
		c.CPAKeys = append(c.CPAKeys, up.ManagementKey)
	}
	return c
}
