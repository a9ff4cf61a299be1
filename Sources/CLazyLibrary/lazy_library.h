// Loading a C library on first use instead of linking it (issue 12, idle
// memory): the code shared by the `CPostgres` (libpq) and `COpenSSL` shims,
// which include this header. Not a module of its own: only macros, so each
// shim expands them under its own prefix and the two never clash when the
// gateway imports both.
//
// SWITCHBOARD_LAZY_LIBRARY(prefix, soname) defines, for one library:
//   prefix##_load_error(): why the library could not be loaded (dlerror's
//       text), NULL when it was or was not tried yet;
//   prefix##_symbol(name): the library's symbol `name`, opening the library
//       on its first call; NULL when it cannot be loaded.
// SWITCHBOARD_LAZY_POINTER(prefix, name), first in a wrapper's body, declares
//   `f`: the library's `name`, looked up once and then remembered, typed as
//   the library's own declaration `prefix##_declared_##name` (the shim
//   includes the library's header with its functions renamed so), or NULL
//   when the library cannot be loaded.
#ifndef SWITCHBOARD_LAZY_LIBRARY_H
#define SWITCHBOARD_LAZY_LIBRARY_H

#include <dlfcn.h>
#include <stddef.h>

#define SWITCHBOARD_LAZY_LIBRARY(prefix, soname) \
    static inline const char *prefix##_load_error_slot(const char *set, int write) { \
        static const char *error; \
        if (write) __atomic_store_n(&error, set, __ATOMIC_RELEASE); \
        return __atomic_load_n(&error, __ATOMIC_ACQUIRE); \
    } \
    static inline const char *prefix##_load_error(void) { return prefix##_load_error_slot(NULL, 0); } \
    static inline void *prefix##_symbol(const char *name) { \
        static void *library; \
        void *handle = __atomic_load_n(&library, __ATOMIC_ACQUIRE); \
        if (handle == NULL) { \
            /* dlopen is reference-counted and thread-safe: two threads racing here get the same handle. */ \
            handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL); \
            if (handle == NULL) { \
                const char *error = dlerror(); \
                prefix##_load_error_slot(error ? error : soname " could not be loaded", 1); \
                return NULL; \
            } \
            __atomic_store_n(&library, handle, __ATOMIC_RELEASE); \
        } \
        return dlsym(handle, name); \
    }

#define SWITCHBOARD_LAZY_POINTER(prefix, name) \
    static __typeof__(&prefix##_declared_##name) function; \
    __typeof__(&prefix##_declared_##name) f = __atomic_load_n(&function, __ATOMIC_ACQUIRE); \
    if (f == NULL) { \
        f = (__typeof__(f))prefix##_symbol(#name); \
        __atomic_store_n(&function, f, __ATOMIC_RELEASE); \
    }

#endif
