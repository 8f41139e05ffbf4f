package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	sdk "github.com/cosmos/cosmos-sdk/types"
	signingtypes "github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

var updateAminoVectors = flag.Bool("update-amino-vectors", false, "rewrite clients/ts/test/testdata/amino-vectors.json")

// aminoVectorsFile is read by the TypeScript client's tests: its amino
// converters must turn each vector's protobuf bytes into exactly the JSON the
// chain signs over (SIGN_MODE_LEGACY_AMINO_JSON), and back.
const aminoVectorsFile = "../clients/ts/test/testdata/amino-vectors.json"

type aminoVector struct {
	TypeURL string          `json:"type_url"`
	Variant string          `json:"variant"` // "empty": every field unset; "filled": every field set
	Proto   string          `json:"proto"`   // base64 of the message's protobuf bytes
	Amino   json.RawMessage `json:"amino"`   // the message as it appears in the amino-JSON sign doc
}

type noAppOpts struct{}

func (noAppOpts) Get(string) any { return nil }

// TestAminoJSONVectors derives, with the chain's own sign-mode handler, the
// amino-JSON of every Crucible message with all fields empty and with all
// fields set, and checks it against the vectors committed for the clients
// (go test ./app -run TestAminoJSONVectors -update-amino-vectors rewrites them).
// Empty repeated fields marked dont_omitempty must appear as [] (never null):
// that is what every hand-written and generated client converter produces.
func TestAminoJSONVectors(t *testing.T) {
	a := New(log.NewNopLogger(), dbm.NewMemDB(), true, noAppOpts{})
	var typeURLs []string
	for _, u := range a.InterfaceRegistry().ListImplementations(sdk.MsgInterfaceProtoName) {
		if strings.HasPrefix(u, "/crucible.") {
			typeURLs = append(typeURLs, u)
		}
	}
	sort.Strings(typeURLs)
	if len(typeURLs) < 20 {
		t.Fatalf("only %d Crucible messages registered", len(typeURLs))
	}
	signer := sdk.AccAddress(bytes.Repeat([]byte{1}, 20)).String()
	var vectors []aminoVector
	for _, u := range typeURLs {
		d, err := gogoproto.HybridResolver.FindDescriptorByName(protoreflect.FullName(u[1:]))
		if err != nil {
			t.Fatal(err)
		}
		for _, variant := range []string{"empty", "filled"} {
			dyn := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
			if variant == "filled" {
				fillMessage(dyn, signer, 0)
			}
			bz, err := proto.MarshalOptions{Deterministic: true}.Marshal(dyn)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := a.InterfaceRegistry().Resolve(u)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.AppCodec().Unmarshal(bz, msg); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			// The vector carries the bytes the chain re-encodes (gogoproto writes non-nullable
			// messages and a zero cosmos.Int as "0"), which is what its sign doc is built from.
			if bz, err = a.AppCodec().Marshal(msg); err != nil {
				t.Fatal(err)
			}
			txb := a.TxConfig().NewTxBuilder()
			if err := txb.SetMsgs(msg); err != nil {
				t.Fatal(err)
			}
			txb.SetGasLimit(200000)
			signBytes, err := authsigning.GetSignBytesAdapter(context.Background(), a.TxConfig().SignModeHandler(),
				signingtypes.SignMode_SIGN_MODE_LEGACY_AMINO_JSON,
				authsigning.SignerData{Address: signer, ChainID: "vectors", AccountNumber: 1, Sequence: 0}, txb.GetTx())
			if err != nil {
				t.Fatalf("%s (%s): sign bytes: %v", u, variant, err)
			}
			var doc struct {
				Msgs []json.RawMessage `json:"msgs"`
			}
			if err := json.Unmarshal(signBytes, &doc); err != nil || len(doc.Msgs) != 1 {
				t.Fatalf("%s: sign doc %s: %v", u, signBytes, err)
			}
			if bytes.Contains(doc.Msgs[0], []byte(":null")) {
				t.Errorf("%s (%s): a null in the amino-JSON sign doc: %s", u, variant, doc.Msgs[0])
			}
			vectors = append(vectors, aminoVector{u, variant, base64.StdEncoding.EncodeToString(bz), doc.Msgs[0]})
		}
	}
	got, err := json.MarshalIndent(vectors, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updateAminoVectors {
		if err := os.MkdirAll(filepath.Dir(aminoVectorsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(aminoVectorsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(aminoVectorsFile)
	if err != nil {
		t.Fatalf("%v (run go test ./app -run TestAminoJSONVectors -update-amino-vectors)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./app -run TestAminoJSONVectors -update-amino-vectors and commit it", aminoVectorsFile)
	}
}

// fillMessage sets every field of m to a deterministic non-default value;
// lists get two elements. Strings are a valid address (signer fields must
// decode); coins are 123ucru.
func fillMessage(m protoreflect.Message, addr string, depth int) {
	d := m.Descriptor()
	if d.FullName() == "cosmos.base.v1beta1.Coin" {
		m.Set(d.Fields().ByName("denom"), protoreflect.ValueOfString("ucru"))
		m.Set(d.Fields().ByName("amount"), protoreflect.ValueOfString("123"))
		return
	}
	fields := d.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		switch {
		case f.IsMap():
			continue
		case f.IsList():
			l := m.Mutable(f).List()
			for j := 0; j < 2; j++ {
				if f.Kind() == protoreflect.MessageKind {
					e := l.NewElement()
					fillMessage(e.Message(), addr, depth+1)
					l.Append(e)
				} else {
					l.Append(scalarValue(f, addr, j))
				}
			}
		case f.Kind() == protoreflect.MessageKind:
			if depth < 4 {
				fillMessage(m.Mutable(f).Message(), addr, depth+1)
			}
		default:
			m.Set(f, scalarValue(f, addr, 0))
		}
	}
}

func scalarValue(f protoreflect.FieldDescriptor, addr string, j int) protoreflect.Value {
	n := uint64(f.Number()) + uint64(j)
	switch f.Kind() {
	case protoreflect.StringKind:
		if j == 0 {
			return protoreflect.ValueOfString(addr)
		}
		return protoreflect.ValueOfString(string(f.Name()))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(n), 2, 3})
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(n) * 1000)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(n * 1000)
	}
	panic("unsupported kind " + f.Kind().String())
}
