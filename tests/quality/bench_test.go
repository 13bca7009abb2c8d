package quality

import "testing"

var sink uint64

func BenchmarkSteadyA(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(steadyA)
	}
}

func BenchmarkSteadyB(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(steadyB)
	}
}

func BenchmarkSteadyC(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(steadyC)
	}
}

func BenchmarkSlower12(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(slower12)
	}
}

func BenchmarkSlower18(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(slower18)
	}
}

func BenchmarkSlower25(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(slower25)
	}
}

func BenchmarkFaster(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += Spin(faster)
	}
}

func BenchmarkAlloc(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sink += Alloc(2000)
	}
}
