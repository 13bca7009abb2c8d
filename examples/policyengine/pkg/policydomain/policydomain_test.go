package policydomain

import "testing"

func TestParse(t *testing.T) {
	d, err := Parse(Sample(8))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "acme" || len(d.Policies) != 8 || d.Policies[3].Effect != "deny" {
		t.Fatalf("unexpected domain: %+v", d)
	}
	if _, err := Parse("policy x:\n  bogus line"); err == nil {
		t.Fatal("expected an error")
	}
}

func BenchmarkParse(b *testing.B) {
	src := Sample(64)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
