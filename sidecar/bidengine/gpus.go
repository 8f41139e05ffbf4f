package bidengine

import (
	"strings"

	"github.com/crucible-network/crucible/sidecar/inventory"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// UnknownClass is the class registered for a GPU whose model
// inventory.Class does not recognise (the chain requires a class).
const UnknownClass = "UNKNOWN"

// RegistrationGPUs is the GPU inventory a provider registers on chain for a
// snapshot: uuid, model name, class and total memory of every GPU. Classes
// with spaces ("RTX 4090") are joined with '-' since the chain refuses
// spaces in a class.
func RegistrationGPUs(snap inventory.Snapshot) []providertypes.GPU {
	out := make([]providertypes.GPU, 0, len(snap.GPUs))
	for _, g := range snap.GPUs {
		class := g.Class
		if class == "" {
			class = inventory.Class(g.Name)
		}
		if class == "" {
			class = UnknownClass
		}
		out = append(out, providertypes.GPU{
			Uuid:      g.UUID,
			Model:     g.Name,
			Class:     strings.ReplaceAll(class, " ", "-"),
			MemoryMib: g.MemoryTotalMiB,
		})
	}
	return out
}
