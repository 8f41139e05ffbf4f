package fuzzcorpus_test

import (
	"testing"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
)

func TestEncode(t *testing.T) {
	got, err := fuzzcorpus.Encode(uint8(2), uint32(4096), "a\"b", []byte{0, 'x', 0xff})
	if err != nil {
		t.Fatal(err)
	}
	want := "go test fuzz v1\nbyte('\\x02')\nuint32(4096)\nstring(\"a\\\"b\")\n[]byte(\"\\x00x\\xff\")\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := fuzzcorpus.Encode(1.5); err == nil {
		t.Fatal("a float64 argument was accepted")
	}
}
