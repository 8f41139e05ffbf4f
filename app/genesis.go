package app

import "encoding/json"

// GenesisState is the application genesis state: one raw JSON message per
// module, keyed by module name.
type GenesisState map[string]json.RawMessage
