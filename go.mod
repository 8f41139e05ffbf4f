module github.com/crucible-network/crucible

go 1.26.5

require (
	cosmossdk.io/client/v2 v2.11.0 // indirect
	github.com/NVIDIA/go-nvml v0.13.4-1 // indirect
	github.com/cosmos/cosmos-sdk v0.54.4 // indirect
	github.com/cosmos/gogoproto v1.7.2 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
)
