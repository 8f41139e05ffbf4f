package inventory

import (
	"regexp"
	"strings"
)

// datacenterClass matches the family token of data-center GPU names:
// H100, A100, L40S, T4, V100, A10G, GB200, GH200, B200, H20, L4, K80.
var datacenterClass = regexp.MustCompile(`^(GB|GH|[ABHLTVPKM])[0-9]{1,3}[A-Z]?$`)

// Class maps a GPU model name to its family, which pricing rules may name
// instead of every variant: "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe" and
// "NVIDIA H100 NVL" are all "H100"; "NVIDIA A100-SXM4-40GB" is "A100";
// "NVIDIA GeForce RTX 4090" is "RTX 4090"; "NVIDIA RTX A6000" is "RTX A6000".
// It returns "" for a name it does not recognise.
func Class(model string) string {
	tokens := strings.FieldsFunc(strings.ToUpper(model), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_' || r == '/'
	})
	for i, t := range tokens {
		switch t {
		case "NVIDIA", "TESLA", "GEFORCE", "QUADRO":
			continue
		case "RTX", "GTX":
			if i+1 < len(tokens) {
				return t + " " + tokens[i+1]
			}
			return ""
		}
		if datacenterClass.MatchString(t) {
			return t
		}
	}
	return ""
}
