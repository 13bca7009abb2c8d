// Package policydomain parses PolicyDomain documents: a named domain holding
// policies, each a boolean rule over request attributes.
//
// The format is line based:
//
//	domain: acme
//	policy read-docs:
//	  rule: subject.role == "reader" && action == "read"
//	  effect: allow
package policydomain

import (
	"fmt"
	"strings"
)

// Policy is one named rule with the effect it has when the rule holds.
type Policy struct {
	Name   string
	Rule   string
	Effect string
}

// Domain is a parsed PolicyDomain.
type Domain struct {
	Name     string
	Policies []Policy
}

// Parse reads a PolicyDomain document.
func Parse(src string) (*Domain, error) {
	d := &Domain{}
	var cur *Policy
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key: value", i+1)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch {
		case key == "domain":
			d.Name = val
		case strings.HasPrefix(key, "policy "):
			d.Policies = append(d.Policies, Policy{Name: strings.TrimSpace(key[len("policy "):]), Effect: "allow"})
			cur = &d.Policies[len(d.Policies)-1]
		case key == "rule" && cur != nil:
			cur.Rule = val
		case key == "effect" && cur != nil:
			if val != "allow" && val != "deny" {
				return nil, fmt.Errorf("line %d: effect must be allow or deny", i+1)
			}
			cur.Effect = val
		default:
			return nil, fmt.Errorf("line %d: unexpected key %q", i+1, key)
		}
	}
	if d.Name == "" {
		return nil, fmt.Errorf("missing domain name")
	}
	return d, nil
}
