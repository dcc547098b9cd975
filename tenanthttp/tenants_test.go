package tenanthttp_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpath/tenantpath/tenanthttp"
)

// registry is a tenant source that watches, as the migrator does: create
// and drop change the list and tell the watchers once done.
type registry struct {
	mu       sync.Mutex
	tenants  map[string]bool
	watchers map[int]func(string, bool)
	next     int
	lists    int
}

func newRegistry(tenants ...string) *registry {
	r := &registry{tenants: map[string]bool{}, watchers: map[int]func(string, bool){}}
	for _, id := range tenants {
		r.tenants[id] = true
	}
	return r
}

func (r *registry) List(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists++
	var ids []string
	for id := range r.tenants {
		ids = append(ids, id)
	}
	return ids, nil
}

func (r *registry) Watch(fn func(string, bool)) (stop func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.next
	r.next++
	r.watchers[id] = fn
	return func() {
		r.mu.Lock()
		delete(r.watchers, id)
		r.mu.Unlock()
	}
}

func (r *registry) set(tenant string, exists bool) {
	r.mu.Lock()
	r.tenants[tenant] = exists
	if !exists {
		delete(r.tenants, tenant)
	}
	fns := make([]func(string, bool), 0, len(r.watchers))
	for _, fn := range r.watchers {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(tenant, exists)
	}
}

func (r *registry) watching() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.watchers)
}

var (
	_ tenanthttp.TenantSource  = (*registry)(nil)
	_ tenanthttp.TenantWatcher = (*registry)(nil)
)

// A tenant created in this process is routable on the next request, and a
// dropped one refused, with no Invalidate and no wait.
func TestWithTenantsRoutesNewTenantsAtOnce(t *testing.T) {
	reg := newRegistry("acme")
	h, rec := build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithTenants(reg, time.Hour))
	if reg.watching() != 1 {
		t.Fatalf("%d watchers, want 1", reg.watching())
	}
	status := func(id string) int { return serve(h, request("/", "X-Tenant-ID", id)).Code }
	if s := status("acme"); s != 200 {
		t.Fatalf("acme: %d", s)
	}
	if s := status("globex"); s != 404 {
		t.Fatalf("globex before it exists: %d", s)
	}
	reg.set("globex", true)
	if s := status("globex"); s != 200 || rec.tenant != "globex" {
		t.Fatalf("globex just created: status %d, tenant %q; want 200", s, rec.tenant)
	}
	reg.set("acme", false)
	if s := status("acme"); s != 404 {
		t.Fatalf("acme just dropped: %d, want 404", s)
	}
}

// A New that fails after WithTenants stops the watch it started.
func TestWithTenantsReleasedWhenNewFails(t *testing.T) {
	reg := newRegistry("acme")
	for _, opts := range [][]tenanthttp.Option{
		{tenanthttp.WithTenants(reg, time.Hour), tenanthttp.WithChecker(&countingChecker{})},
		{tenanthttp.WithTenants(reg, time.Hour), nil},
		{tenanthttp.WithChecker(&countingChecker{}), tenanthttp.WithTenants(reg, time.Hour)},
	} {
		if _, err := tenanthttp.New([]tenanthttp.Resolver{tenanthttp.Header("")}, opts...); err == nil {
			t.Fatal("New succeeded")
		}
		if n := reg.watching(); n != 0 {
			t.Fatalf("%d watchers left by a failed New, want 0", n)
		}
	}
}

func TestWithTenantsErrors(t *testing.T) {
	hdr := []tenanthttp.Resolver{tenanthttp.Header("")}
	for _, tc := range []struct {
		opt  tenanthttp.Option
		want string
	}{
		{tenanthttp.WithTenants(nil, time.Minute), "nil TenantSource"},
		{tenanthttp.WithTenants(newRegistry(), 0), "TTL must be positive"},
	} {
		if _, err := tenanthttp.New(hdr, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want an error containing %q", err, tc.want)
		}
	}
}

// WithLister keeps working, and lists without watching.
func TestWithListerStillWorks(t *testing.T) {
	reg := newRegistry("acme")
	h, _ := build(t, []tenanthttp.Resolver{tenanthttp.Header("")}, tenanthttp.WithLister(reg.List, time.Hour))
	if w := serve(h, request("/", "X-Tenant-ID", "acme")); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if w := serve(h, request("/", "X-Tenant-ID", "globex")); w.Code != http.StatusNotFound {
		t.Fatalf("status %d", w.Code)
	}
	if reg.watching() != 0 {
		t.Fatal("WithLister watched its source")
	}
}
