// Package quality has benchmarks whose cost per op is set exactly.
package quality

const (
	steadyA  = 2000
	steadyB  = 2000
	steadyC  = 2000
	slower12 = 2000
	slower18 = 2000
	slower25 = 2000
	faster   = 2000
)

// Spin does n xorshift steps.
func Spin(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// Alloc spins n steps.
func Alloc(n int) uint64 {
	return Spin(n)
}
