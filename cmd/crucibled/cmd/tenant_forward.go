package cmd

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"
)

// tenantForwardCmd is `crucibled tenant forward <lease-id> <port>`: a local
// listener whose every request (or, with --tcp, connection) reaches the
// lease's exposed port through the provider sidecar's proxy, signed with
// --from.
func tenantForwardCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "forward <lease-id> <port>",
		Short: "Serve a lease's exposed port on a local address, through the provider's authenticated proxy",
		Long: `Listens on --listen (default 127.0.0.1:<port>) and forwards every HTTP request
(websockets included) to the lease's container port through the provider
sidecar's proxy, each one signed with the --from key; only the lease's tenant is
let through. With --tcp, every connection is tunnelled as a raw TCP stream.
Runs until interrupted.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, id, err := sidecarClient(cmd, args[0])
			if err != nil {
				return err
			}
			p, err := strconv.ParseUint(args[1], 10, 16)
			if err != nil || p == 0 {
				return fmt.Errorf("port %q: want 1 to 65535", args[1])
			}
			port := uint16(p)
			listen, _ := cmd.Flags().GetString("listen")
			if listen == "" {
				listen = net.JoinHostPort("127.0.0.1", args[1])
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			tcp, _ := cmd.Flags().GetBool("tcp")
			kind := "http"
			if tcp {
				kind = "tcp"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "forwarding %s://%s -> lease %d port %d\n", kind, ln.Addr(), id, port)
			ctx := cmd.Context()
			if tcp {
				return c.ForwardTCP(ctx, ln, id, port)
			}
			srv := &http.Server{Handler: c.ForwardHTTP(id, port), ReadHeaderTimeout: 30 * time.Second}
			go func() { <-ctx.Done(); _ = srv.Close() }()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().String("listen", "", "local address to serve on (default 127.0.0.1:<port>)")
	cmd.Flags().Bool("tcp", false, "tunnel raw TCP connections instead of HTTP requests")
	flags.AddTxFlagsToCmd(cmd) // --from, --keyring-backend, --node ...
	return cmd
}
