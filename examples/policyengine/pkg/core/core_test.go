package core

import (
	"runtime"
	"sort"
	"testing"
	"time"

	"example.com/policyengine/pkg/policydomain"
)

func mustCompile(tb testing.TB, n int) *Compiled {
	tb.Helper()
	d, err := policydomain.Parse(policydomain.Sample(n))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := Compile(d)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func request(role, action string, level float64) Request {
	return Request{
		"subject.role":   {Str: role},
		"subject.id":     {Str: "u42"},
		"action":         {Str: action},
		"resource.owner": {Str: "u7"},
		"resource.level": {Num: level, IsNum: true, Str: "x"},
	}
}

func TestEvaluate(t *testing.T) {
	c := mustCompile(t, 8)
	if !c.Evaluate(request("reader", "read", 0)).Allow {
		t.Fatal("reader should be allowed to read")
	}
	if c.Evaluate(request("nobody", "read", 0)).Allow {
		t.Fatal("unknown role should be denied")
	}
	if _, err := CompileRule("a == "); err == nil {
		t.Fatal("expected compile error")
	}
}

// latencies keeps a bounded sample of per-decision latencies.
type latencies struct{ ns []int64 }

func (l *latencies) add(d time.Duration) {
	if len(l.ns) < 200000 {
		l.ns = append(l.ns, int64(d))
	}
}

// report adds p50/p95/p99 per-decision latency and throughput metrics.
func (l *latencies) report(b *testing.B) {
	if len(l.ns) == 0 {
		return
	}
	sort.Slice(l.ns, func(i, j int) bool { return l.ns[i] < l.ns[j] })
	q := func(p float64) float64 { return float64(l.ns[int(p*float64(len(l.ns)-1))]) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.95), "p95-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "decisions/s")
	}
}

func benchEvaluate(b *testing.B, policies int, req Request) {
	c := mustCompile(b, policies)
	lat := &latencies{ns: make([]int64, 0, min(b.N, 200000))}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		c.Evaluate(req)
		lat.add(time.Since(t0))
	}
	b.StopTimer()
	lat.report(b)
}

func BenchmarkCompile(b *testing.B) {
	d, err := policydomain.Parse(policydomain.Sample(64))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	benchEvaluate(b, 4, request("reader", "read", 0))
}

func BenchmarkEvaluateComplex(b *testing.B) {
	benchEvaluate(b, 64, request("nobody", "write", 3))
}

func BenchmarkEvaluateParallel(b *testing.B) {
	c := mustCompile(b, 16)
	req := request("writer", "read", 1)
	// One latency buffer per goroutine, allocated before the timer starts,
	// so that B/op and allocs/op measure the evaluator alone.
	workers := runtime.GOMAXPROCS(0)
	free := make(chan *latencies, workers)
	for i := 0; i < workers; i++ {
		free <- &latencies{ns: make([]int64, 0, min(b.N, 200000))}
	}
	var all []*latencies
	ch := make(chan *latencies, workers)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		lat := <-free
		for pb.Next() {
			t0 := time.Now()
			c.Evaluate(req)
			lat.add(time.Since(t0))
		}
		ch <- lat
	})
	b.StopTimer()
	close(ch)
	merged := &latencies{}
	for l := range ch {
		all = append(all, l)
		merged.ns = append(merged.ns, l.ns...)
	}
	merged.report(b)
}
