package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/runner/devimage"
)

// newDevRegistryCmd is `crucible-sidecar dev-registry`: an OCI registry on
// a loopback address holding a busybox image built from the host's static
// busybox, for demos and trying the container backend without a registry.
func newDevRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev-registry",
		Short: "Development: serve a busybox image (built from the host's busybox-static) from a registry on 127.0.0.1",
		Long: `Builds an OCI image holding the host's static busybox (/bin/busybox, from
busybox-static) with its applets, pushes it to an OCI registry served in this
process on --listen (loopback only), prints the image pinned by digest, and
serves until interrupted. make demo runs its tenant job from it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			listen, _ := cmd.Flags().GetString("listen")
			repo, _ := cmd.Flags().GetString("repo")
			bb, _ := cmd.Flags().GetString("busybox")
			if bb == "" {
				if bb = devimage.StaticBusybox(); bb == "" {
					return errors.New("no static busybox found (apt-get install busybox-static)")
				}
			}
			img, err := devimage.Busybox(bb)
			if err != nil {
				return err
			}
			reg, err := devimage.ServeRegistry(listen)
			if err != nil {
				return err
			}
			defer reg.Close()
			ref, err := reg.Push(repo, img)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "image %s\n", ref)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().String("listen", "127.0.0.1:5000", "loopback address to serve the registry on")
	cmd.Flags().String("repo", "demo/busybox:1", "repository and tag to push the image as")
	cmd.Flags().String("busybox", "", "static busybox binary (default: found in /bin or /usr/bin)")
	return cmd
}
