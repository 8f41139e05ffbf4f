package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/types/bech32"
)

// Request signing.
//
// Every request carries five headers:
//
//	X-Crucible-Address    the tenant's bech32 account address (cru1...)
//	X-Crucible-Pubkey     base64 (standard, padded) of its 33-byte compressed secp256k1 key
//	X-Crucible-Timestamp  unix seconds, decimal
//	X-Crucible-Nonce      16 to 64 random bytes, lowercase hex
//	X-Crucible-Signature  base64 of the 64-byte (r || s) secp256k1 signature
//
// The signed message is the 32-byte digest
//
//	SHA256("crucible-tenant-api/v1\n" + method + "\n" + target + "\n" +
//	       timestamp + "\n" + nonce + "\n" + hex(SHA256(body)))
//
// where target is the request target as sent (escaped path, plus "?query"
// when there is one) and timestamp and nonce are the header texts. It is
// signed the way Cosmos SDK keys sign anything (PrivKey.Sign and
// Keyring.Sign hash it once more with SHA256 before ECDSA), so a keyring key
// signs requests unchanged.
const (
	HeaderAddress   = "X-Crucible-Address"
	HeaderPubKey    = "X-Crucible-Pubkey"
	HeaderTimestamp = "X-Crucible-Timestamp"
	HeaderNonce     = "X-Crucible-Nonce"
	HeaderSignature = "X-Crucible-Signature"
	// HeaderFileSHA256 carries the hex SHA256 of a downloaded result file.
	HeaderFileSHA256 = "X-Crucible-File-Sha256"

	// SignDomain starts every signed message.
	SignDomain = "crucible-tenant-api/v1"
	// AddressPrefix is the bech32 prefix of tenant addresses.
	AddressPrefix = "cru"

	minNonceHex = 32
	maxNonceHex = 128
)

// SignBytes returns the digest a tenant signs for a request.
func SignBytes(method, target, timestamp, nonce string, body []byte) []byte {
	bh := sha256.Sum256(body)
	var b strings.Builder
	b.Grow(len(SignDomain) + len(method) + len(target) + len(timestamp) + len(nonce) + 70)
	b.WriteString(SignDomain)
	b.WriteByte('\n')
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(target)
	b.WriteByte('\n')
	b.WriteString(timestamp)
	b.WriteByte('\n')
	b.WriteString(nonce)
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(bh[:]))
	d := sha256.Sum256([]byte(b.String()))
	return d[:]
}

// Address returns the bech32 account address (prefix "cru") of a key.
func Address(pub *secp256k1.PubKey) (string, error) {
	return bech32.ConvertAndEncode(AddressPrefix, pub.Address())
}

// credentials are the parsed signing headers of a request.
type credentials struct {
	address   string
	pub       *secp256k1.PubKey
	timestamp int64
	tsText    string
	nonce     string
	sig       []byte
}

// parseCredentials reads the signing headers. A request without any of them
// is unauthenticated (401); malformed values are a bad request (400).
func parseCredentials(h http.Header) (credentials, *Error) {
	var c credentials
	names := []string{HeaderAddress, HeaderPubKey, HeaderTimestamp, HeaderNonce, HeaderSignature}
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		vs := h.Values(n)
		switch {
		case len(vs) == 0 || vs[0] == "":
			missing = append(missing, n)
		case len(vs) > 1:
			return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "header %s appears %d times", n, len(vs))
		default:
			vals[i] = vs[0]
		}
	}
	if len(missing) > 0 {
		return c, errorf(http.StatusUnauthorized, CodeUnauthenticated, "request is not signed: missing %s", strings.Join(missing, ", "))
	}
	c.address, c.tsText, c.nonce = vals[0], vals[2], vals[3]

	if len(c.address) > 128 {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s is too long", HeaderAddress)
	}
	hrp, _, err := bech32.DecodeAndConvert(c.address)
	if err != nil || hrp != AddressPrefix {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s is not a %s... bech32 address", HeaderAddress, AddressPrefix)
	}
	pk, err := base64.StdEncoding.DecodeString(vals[1])
	if err != nil || len(pk) != secp256k1.PubKeySize || (pk[0] != 2 && pk[0] != 3) {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s must be base64 of a 33-byte compressed secp256k1 key", HeaderPubKey)
	}
	c.pub = &secp256k1.PubKey{Key: pk}
	ts, err := strconv.ParseInt(c.tsText, 10, 64)
	if err != nil || ts < 0 || strconv.FormatInt(ts, 10) != c.tsText {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s must be unix seconds in decimal", HeaderTimestamp)
	}
	c.timestamp = ts
	if n := len(c.nonce); n < minNonceHex || n > maxNonceHex || n%2 != 0 || !isLowerHex(c.nonce) {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s must be %d to %d lowercase hex digits", HeaderNonce, minNonceHex, maxNonceHex)
	}
	sig, err := base64.StdEncoding.DecodeString(vals[4])
	if err != nil || len(sig) != 64 {
		return c, errorf(http.StatusBadRequest, CodeMalformedAuth, "%s must be base64 of a 64-byte signature", HeaderSignature)
	}
	c.sig = sig
	return c, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// verify checks that the key belongs to the claimed address and signed the
// request. It does not check time or nonce.
func (c credentials) verify(method, target string, body []byte) *Error {
	addr, err := Address(c.pub)
	if err != nil || addr != c.address {
		return errorf(http.StatusUnauthorized, CodeAddressMismatch, "%s is not the address of %s", HeaderAddress, HeaderPubKey)
	}
	if !c.pub.VerifySignature(SignBytes(method, target, c.tsText, c.nonce, body), c.sig) {
		return errorf(http.StatusUnauthorized, CodeBadSignature, "signature does not verify")
	}
	return nil
}

// requestTarget is the target a request was signed over.
func requestTarget(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// String implements fmt.Stringer for logs (no secrets here, but keep it short).
func (c credentials) String() string { return fmt.Sprintf("%s@%d", c.address, c.timestamp) }
