// SQLite (Debian libsqlite3-dev) for Swift.
#ifndef SWITCHBOARD_CSQLITE_SHIM_H
#define SWITCHBOARD_CSQLITE_SHIM_H
#include <sqlite3.h>

/// Turns SQLite's memory statistics off (SQLITE_CONFIG_MEMSTATUS, 0):
/// with them on, every allocation SQLite makes takes a process-wide mutex
/// to count it — a tenth of a ticket's statement CPU. Nothing reads the
/// statistics. `sqlite3_config` is variadic, which Swift cannot call; it
/// works only before SQLite is initialised (SQLITE_MISUSE after: harmless).
static inline int switchboard_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
