package config

import (
	"errors"
	"fmt"
	"strings"
)

// AccountAddressPrefix is the bech32 human-readable part of Crucible account
// addresses. It mirrors app.AccountAddressPrefix; the sidecar does not import
// the app (and with it the Cosmos SDK) only to read it.
const AccountAddressPrefix = "cru"

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// validateBech32Address checks that addr is a bech32 account address with the
// given human-readable part and a 20- or 32-byte payload (BIP-173 checksum).
func validateBech32Address(addr, hrp string) error {
	if len(addr) < 8 || len(addr) > 1023 {
		return fmt.Errorf("invalid bech32 length %d", len(addr))
	}
	if strings.ToLower(addr) != addr && strings.ToUpper(addr) != addr {
		return errors.New("bech32 address mixes upper and lower case")
	}
	addr = strings.ToLower(addr)
	sep := strings.LastIndexByte(addr, '1')
	if sep < 1 || sep+7 > len(addr) {
		return errors.New("bech32 separator '1' missing or misplaced")
	}
	gotHRP, dataPart := addr[:sep], addr[sep+1:]
	if gotHRP != hrp {
		return fmt.Errorf("address prefix is %q, want %q", gotHRP, hrp)
	}
	data := make([]byte, len(dataPart))
	for i := 0; i < len(dataPart); i++ {
		idx := strings.IndexByte(bech32Charset, dataPart[i])
		if idx < 0 {
			return fmt.Errorf("invalid bech32 character %q", dataPart[i])
		}
		data[i] = byte(idx)
	}
	if bech32Polymod(append(bech32HRPExpand(gotHRP), data...)) != 1 {
		return errors.New("invalid bech32 checksum")
	}
	payload := data[:len(data)-6]
	// Convert 5-bit groups to bytes; leftover bits must be zero padding.
	n := len(payload) * 5 / 8
	if rem := len(payload) * 5 % 8; rem >= 5 {
		return errors.New("invalid bech32 padding")
	}
	if n != 20 && n != 32 {
		return fmt.Errorf("address payload is %d bytes, want 20 or 32", n)
	}
	var acc, bits uint32
	for _, v := range payload {
		acc = acc<<5 | uint32(v)
		bits += 5
		for bits >= 8 {
			bits -= 8
		}
	}
	if acc&(1<<bits-1) != 0 {
		return errors.New("invalid bech32 padding")
	}
	return nil
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
