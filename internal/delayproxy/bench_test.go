package delayproxy

import (
	"io"
	"testing"
)

// BenchmarkPing is one one-byte round trip to an echo server on loopback:
// direct, through the proxy without delay (its floor: the difference is
// what the two extra hops cost), and with the default delay (ns/op minus
// twice the delay is the floor plus the timer's lateness).
func BenchmarkPing(b *testing.B) {
	addr := upstream(b, echo)
	for _, v := range []struct {
		name string
		addr func() string
	}{
		{"direct", func() string { return addr }},
		{"delay=0", func() string { return startProxy(b, addr, 0).Addr() }},
		{"delay=250us", func() string { return startProxy(b, addr, DefaultDelay).Addr() }},
	} {
		b.Run(v.name, func(b *testing.B) {
			c := dial(b, v.addr())
			buf := []byte{0}
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
