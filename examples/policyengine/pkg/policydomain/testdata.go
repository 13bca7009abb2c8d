package policydomain

import (
	"fmt"
	"strings"
)

// Sample returns a generated domain document with n policies, used by
// benchmarks and examples.
func Sample(n int) string {
	var b strings.Builder
	b.WriteString("domain: acme\n")
	roles := []string{"reader", "writer", "admin", "auditor"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "policy p%d:\n", i)
		fmt.Fprintf(&b, "  rule: subject.role == %q && (action == \"read\" || resource.owner == subject.id) && !(resource.level > %d)\n", roles[i%len(roles)], i%5)
		if i%7 == 3 {
			b.WriteString("  effect: deny\n")
		}
	}
	return b.String()
}
