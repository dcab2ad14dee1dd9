package module

import (
	"context"
	"fmt"
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/cpam-caddy/cpam/api"
	"github.com/cpam-caddy/cpam/store"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "cpam",
		Usage: "reset-admin-key [--database <path>]",
		Short: "Manages caddy-cpam",
		Long: `Manages caddy-cpam.

reset-admin-key generates a new admin key, stores only its hash in the
database, signs out every session and prints the key once to stdout. It works
while Caddy runs. A key set by admin_key in the cpam global option takes
precedence over the stored one.`,
		CobraFunc: func(cmd *cobra.Command) {
			reset := &cobra.Command{
				Use:   "reset-admin-key [--database <path>]",
				Short: "Generates a new admin key and signs out every session",
				Args:  cobra.NoArgs,
				RunE: func(c *cobra.Command, _ []string) error {
					db, err := c.Flags().GetString("database")
					if err != nil {
						return fmt.Errorf("reading --database: %w", err)
					}
					return ResetAdminKeyCommand(c.Context(), db, c.OutOrStdout(), c.ErrOrStderr())
				},
			}
			reset.Flags().String("database", "", "the cpam SQLite database (default: cpam/cpam.db under Caddy's data directory)")
			cmd.AddCommand(reset)
		},
	})
}

// ResetAdminKeyCommand is `caddy cpam reset-admin-key`: it opens the
// database at dbPath (DefaultDatabasePath when empty), replaces the stored
// admin key hash with a new key's, deletes every session and prints the new
// key to out once. Notes go to errOut.
func ResetAdminKeyCommand(ctx context.Context, dbPath string, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if dbPath == "" {
		dbPath = DefaultDatabasePath()
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("the cpam database %s: %w (pass the path of the cpam database option with --database)", dbPath, err)
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("opening the cpam database: %w", err)
	}
	key, err := api.ResetAdminKey(ctx, st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the cpam database: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("resetting the admin key: %w", err)
	}
	if _, err := fmt.Fprintln(out, key); err != nil {
		return fmt.Errorf("printing the new key: %w", err)
	}
	_, _ = fmt.Fprintf(errOut, "The line above is the new caddy-cpam admin key; it is shown only once. Every session was signed out.\n"+
		"A running Caddy accepts it at once. If admin_key is set in the cpam global option, that key still takes precedence.\n")
	return nil
}
