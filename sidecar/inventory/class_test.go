package inventory

import "testing"

func TestClass(t *testing.T) {
	cases := map[string]string{
		"NVIDIA H100 80GB HBM3":          "H100",
		"NVIDIA H100 PCIe":               "H100",
		"NVIDIA H100 NVL":                "H100",
		"NVIDIA H200":                    "H200",
		"NVIDIA GH200 480GB":             "GH200",
		"NVIDIA B200":                    "B200",
		"NVIDIA A100-SXM4-40GB":          "A100",
		"NVIDIA A100 80GB PCIe":          "A100",
		"NVIDIA A10G":                    "A10G",
		"NVIDIA L40S":                    "L40S",
		"NVIDIA L4":                      "L4",
		"Tesla T4":                       "T4",
		"Tesla V100-SXM2-16GB":           "V100",
		"NVIDIA GeForce RTX 4090":        "RTX 4090",
		"NVIDIA RTX A6000":               "RTX A6000",
		"NVIDIA RTX 6000 Ada Generation": "RTX 6000",
		"nvidia h100 80gb hbm3":          "H100",
		"":                               "",
		"Some Other Accelerator":         "",
		"NVIDIA RTX":                     "",
	}
	for name, want := range cases {
		if got := Class(name); got != want {
			t.Errorf("Class(%q) = %q, want %q", name, got, want)
		}
	}
}
