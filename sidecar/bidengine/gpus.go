package bidengine

import (
	"slices"
	"strings"

	"github.com/crucible-network/crucible/sidecar/inventory"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// UnknownClass is the class named for a GPU whose model inventory.Class does
// not recognise; no chain defines it, so such a GPU is not registered.
const UnknownClass = "unknown"

// RegistrationGPUs is the GPU inventory a provider registers on chain for a
// snapshot: uuid, model name, class and total memory of every GPU. Classes
// are the chain's spelling: lowercase, spaces joined with '-' ("H100" ->
// "h100", "RTX 4090" -> "rtx-4090").
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
			Class:     ChainClass(class),
			MemoryMib: g.MemoryTotalMiB,
		})
	}
	return out
}

// ChainClass spells an inventory class the way the chain's classes are
// spelled: lowercase, spaces replaced by '-'.
func ChainClass(class string) string {
	return strings.ToLower(strings.ReplaceAll(class, " ", "-"))
}

// DefinedOnly splits gpus into those whose class the chain defines (classes)
// and the others: the chain refuses to register a GPU under a class it does
// not define (x/attest class_sizes).
func DefinedOnly(gpus []providertypes.GPU, classes []string) (defined, skipped []providertypes.GPU) {
	for _, g := range gpus {
		if slices.Contains(classes, g.Class) {
			defined = append(defined, g)
		} else {
			skipped = append(skipped, g)
		}
	}
	return defined, skipped
}
