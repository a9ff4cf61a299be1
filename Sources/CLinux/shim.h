// Linux system interfaces that Swift's Glibc module does not export:
// epoll (readiness), eventfd (the event loop's wake-up) and accept4 (accept with SOCK_NONBLOCK | SOCK_CLOEXEC in
// one call, so an accepted socket is never inherited by a child spawned in
// between) and prctl (a thread's name, for Core's `nameCurrentThread`). Used
// by the Core and Transport targets; the switchboard executable uses
// mallopt (malloc.h) to cap malloc's arenas.
#ifndef SWITCHBOARD_CLINUX_SHIM_H
#define SWITCHBOARD_CLINUX_SHIM_H

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

// accept4 is declared by <sys/socket.h> only under _GNU_SOURCE, which the
// Glibc module is built without; this is glibc's own prototype.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

static inline int shim_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    return accept4(fd, addr, addrlen, flags);
}

// Names the calling thread (at most 15 bytes are kept): prctl is variadic,
// which Swift cannot call. Core's `nameCurrentThread` calls it, so per-thread
// figures (/proc/self/task/*/comm, perf) can tell the threads apart.
static inline void shim_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

#endif
