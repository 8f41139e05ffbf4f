package chain

// SetSequence overwrites the signer's cached sequence (tests only).
func (s *Signer) SetSequence(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = seq
}

// Sequence is the signer's cached sequence (tests only).
func (s *Signer) Sequence() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// ExpectedSequence exposes expectedSequence to the tests.
var ExpectedSequence = expectedSequence
