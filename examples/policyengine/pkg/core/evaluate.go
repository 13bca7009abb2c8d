package core

import (
	"crypto/sha256"
	"os"
	"sort"
)

// auditDefault turns decision auditing on without the environment variable;
// flipping it in a commit makes a real, committed regression.
const auditDefault = false

// auditEnabled is the example's regression switch: POLICYENGINE_SLOW=1 makes
// every decision also compute an audit digest of the request (see
// auditDecision), which is genuine extra work.
var auditEnabled = auditDefault || os.Getenv("POLICYENGINE_SLOW") == "1"

// Decision is the outcome of evaluating a request.
type Decision struct {
	Allow  bool
	Digest [32]byte
}

// Evaluate decides a request: allowed when some allow policy holds and no
// deny policy does.
func (c *Compiled) Evaluate(r Request) Decision {
	var d Decision
	for _, p := range c.deny {
		if p.root.eval(r) {
			return c.finish(r, d)
		}
	}
	for _, p := range c.allow {
		if p.root.eval(r) {
			d.Allow = true
			break
		}
	}
	return c.finish(r, d)
}

func (c *Compiled) finish(r Request, d Decision) Decision {
	if auditEnabled {
		d.Digest = auditDecision(r, d.Allow)
	}
	return d
}

// auditDecision hashes the request's attributes in a canonical order, as a
// tamper-evident audit log would.
func auditDecision(r Request, allow bool) [32]byte {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for round := 0; round < 1; round++ {
		for _, k := range keys {
			h.Write([]byte(k))
			h.Write([]byte(r[k].Str))
		}
	}
	if allow {
		h.Write([]byte{1})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
