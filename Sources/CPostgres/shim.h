// libpq, PostgreSQL's client library (Debian libpq-dev), for Swift.
#ifndef SWITCHBOARD_CPOSTGRES_SHIM_H
#define SWITCHBOARD_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
