package delayproxy_test

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tenantpath/tenantpath/internal/delayproxy"
)

// A client talks to an echo server through the proxy: the round trip
// costs at least twice the one-way delay.
func ExampleStart() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() { // the echo server
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()

	p, err := delayproxy.Start(ln.Addr().String(), delayproxy.DefaultDelay)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		panic(err)
	}
	defer c.Close()

	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		panic(err)
	}
	reply := make([]byte, 4)
	if _, err := io.ReadFull(c, reply); err != nil {
		panic(err)
	}
	fmt.Printf("%s after at least %v: %v\n", reply, 2*p.Delay(), time.Since(start) >= 2*p.Delay())
	// Output: ping after at least 500µs: true
}
