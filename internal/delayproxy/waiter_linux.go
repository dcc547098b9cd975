package delayproxy

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd_create(2) flags and clocks.
const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

// itimerspec is struct itimerspec of timerfd_settime(2).
type itimerspec struct {
	interval, value syscall.Timespec
}

// timerfdWaiter waits on a timerfd read through the Go runtime's network
// poller: the kernel's high-resolution timer wakes it, where Go's own
// timers would round a wait under a millisecond up to the poller's tick.
type timerfdWaiter struct {
	f *os.File
}

func newWaiter() (waiter, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, os.NewSyscallError("timerfd_create", errno)
	}
	// A non-blocking descriptor: os.NewFile registers it with the poller.
	return &timerfdWaiter{f: os.NewFile(fd, "timerfd")}, nil
}

func (w *timerfdWaiter) wait(d time.Duration) error {
	spec := itimerspec{value: syscall.NsecToTimespec(d.Nanoseconds())}
	var errno syscall.Errno
	err := w.fd(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("timerfd_settime", errno)
	}
	var expirations [8]byte
	_, err = w.f.Read(expirations[:])
	return err
}

func (w *timerfdWaiter) fd(f func(fd uintptr)) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(f)
}

// interrupt sets a read deadline in the past: the wait under way returns
// at once with an error, and so does every later one.
func (w *timerfdWaiter) interrupt() { w.f.SetReadDeadline(time.Unix(1, 0)) }

func (w *timerfdWaiter) close() error { return w.f.Close() }
