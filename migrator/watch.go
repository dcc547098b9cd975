package migrator

import (
	"slices"
	"sync"

	"github.com/tenantpath/tenantpath"
)

// watchers holds the functions registered with Watch.
type watchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(tenant string, exists bool)
}

// Watch registers fn to be told of every tenant this Migrator creates,
// renames or drops, and returns a function that unregisters it (calling it
// again does nothing). It makes the Migrator a tenanthttp.TenantWatcher, so
// a tenant cache built over it learns of changes at once.
//
// fn is called in the goroutine that made the change, after it:
//
//   - Create: (tenant, true) once the tenant's transaction has committed
//     (and its non-transactional migrations have run);
//   - CreateTx: (tenant, true) when CreateTx returns without error. The
//     caller's transaction may still roll back: the tenant then does not
//     exist after all, and the driver answers calls for it with
//     [tenantpath.ErrUnknownTenant], never with another tenant's data;
//   - Rename: (old, false), then (new, true), once committed;
//   - Drop: (tenant, false), once committed.
//
// Nothing is reported for a failed change. fn must be safe for concurrent
// use (changes made at once in several goroutines call it at once) and
// return quickly: the call that made the change waits for it. A nil fn is
// never called.
func (m *Migrator) Watch(fn func(tenant string, exists bool)) (stop func()) {
	if fn == nil {
		return func() {}
	}
	w := &m.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = make(map[int]func(string, bool))
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fns, id)
	}
}

// notify tells every registered function of a change, in the order they
// were registered. A tenant that went away (dropped, or renamed from) also
// makes every tenantpath connection in the process check its tenant's
// schema before its next call, so none keeps reading through a path whose
// schema is gone.
func (w *watchers) notify(tenant string, exists bool) {
	if !exists {
		tenantpath.SchemasChanged()
	}
	w.mu.Lock()
	ids := make([]int, 0, len(w.fns))
	for id := range w.fns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fns := make([]func(string, bool), len(ids))
	for i, id := range ids {
		fns[i] = w.fns[id]
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn(tenant, exists)
	}
}
