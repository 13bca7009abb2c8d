// Package quality has benchmarks whose cost per op is set exactly.
package quality

const (
	steadyA  = 2000
	steadyB  = 2000
	steadyC  = 2000
	slower12 = 2240
	slower18 = 2360
	slower25 = 2500
	faster   = 1600
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

var keep []byte

// Alloc spins n steps and allocates one 64-byte buffer that escapes.
func Alloc(n int) uint64 {
	keep = make([]byte, 64)
	return Spin(n) + uint64(len(keep))
}
