// SQLite (Debian libsqlite3-dev) for Swift.
#ifndef SWITCHBOARD_CSQLITE_SHIM_H
#define SWITCHBOARD_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
