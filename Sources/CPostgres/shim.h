// libpq, PostgreSQL's client library (Debian libpq5 / libpq-dev), for Swift.
//
// Loaded when first used, not linked: libpq pulls in some twenty libraries
// (GnuTLS, Kerberos, LDAP, SASL, p11-kit, ...), about 3.4 MB resident in a
// gateway that stores in SQLite and never calls libpq (issue 12, idle
// memory; scripts/bench-rss). Each function below has libpq's name and
// signature and calls the library's own through a pointer found with
// dlopen/dlsym on its first call. When libpq.so.5 cannot be loaded, the
// connect functions return NULL and shim_pq_load_error() says why; the
// others are only reached with a connection or result, so never then.
#ifndef SWITCHBOARD_CPOSTGRES_SHIM_H
#define SWITCHBOARD_CPOSTGRES_SHIM_H

#include "../CLazyLibrary/lazy_library.h"
#include <stddef.h>

// libpq's own declarations under other names, for the types and signatures.
#define PQconnectdbParams shim_pq_declared_PQconnectdbParams
#define PQconnectdb shim_pq_declared_PQconnectdb
#define PQfinish shim_pq_declared_PQfinish
#define PQreset shim_pq_declared_PQreset
#define PQstatus shim_pq_declared_PQstatus
#define PQtransactionStatus shim_pq_declared_PQtransactionStatus
#define PQserverVersion shim_pq_declared_PQserverVersion
#define PQerrorMessage shim_pq_declared_PQerrorMessage
#define PQdb shim_pq_declared_PQdb
#define PQuser shim_pq_declared_PQuser
#define PQhost shim_pq_declared_PQhost
#define PQport shim_pq_declared_PQport
#define PQconsumeInput shim_pq_declared_PQconsumeInput
#define PQsetNoticeProcessor shim_pq_declared_PQsetNoticeProcessor
#define PQexec shim_pq_declared_PQexec
#define PQprepare shim_pq_declared_PQprepare
#define PQexecPrepared shim_pq_declared_PQexecPrepared
#define PQresultStatus shim_pq_declared_PQresultStatus
#define PQresultErrorMessage shim_pq_declared_PQresultErrorMessage
#define PQresultErrorField shim_pq_declared_PQresultErrorField
#define PQntuples shim_pq_declared_PQntuples
#define PQnfields shim_pq_declared_PQnfields
#define PQgetvalue shim_pq_declared_PQgetvalue
#define PQgetisnull shim_pq_declared_PQgetisnull
#define PQcmdTuples shim_pq_declared_PQcmdTuples
#define PQclear shim_pq_declared_PQclear
#include <postgresql/libpq-fe.h>
#undef PQconnectdbParams
#undef PQconnectdb
#undef PQfinish
#undef PQreset
#undef PQstatus
#undef PQtransactionStatus
#undef PQserverVersion
#undef PQerrorMessage
#undef PQdb
#undef PQuser
#undef PQhost
#undef PQport
#undef PQconsumeInput
#undef PQsetNoticeProcessor
#undef PQexec
#undef PQprepare
#undef PQexecPrepared
#undef PQresultStatus
#undef PQresultErrorMessage
#undef PQresultErrorField
#undef PQntuples
#undef PQnfields
#undef PQgetvalue
#undef PQgetisnull
#undef PQcmdTuples
#undef PQclear

SWITCHBOARD_LAZY_LIBRARY(shim_pq, "libpq.so.5")

#define SHIM_PQ_POINTER(name) SWITCHBOARD_LAZY_POINTER(shim_pq, name)

static inline PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname) {
    SHIM_PQ_POINTER(PQconnectdbParams) return f != NULL ? f(keywords, values, expand_dbname) : NULL;
}
static inline PGconn *PQconnectdb(const char *conninfo) {
    SHIM_PQ_POINTER(PQconnectdb) return f != NULL ? f(conninfo) : NULL;
}
static inline void PQfinish(PGconn *conn) {
    SHIM_PQ_POINTER(PQfinish) if (f != NULL) f(conn);
}
static inline void PQreset(PGconn *conn) {
    SHIM_PQ_POINTER(PQreset) if (f != NULL) f(conn);
}
static inline ConnStatusType PQstatus(const PGconn *conn) {
    SHIM_PQ_POINTER(PQstatus) return f != NULL ? f(conn) : CONNECTION_BAD;
}
static inline PGTransactionStatusType PQtransactionStatus(const PGconn *conn) {
    SHIM_PQ_POINTER(PQtransactionStatus) return f != NULL ? f(conn) : PQTRANS_UNKNOWN;
}
static inline int PQserverVersion(const PGconn *conn) {
    SHIM_PQ_POINTER(PQserverVersion) return f != NULL ? f(conn) : 0;
}
static inline char *PQerrorMessage(const PGconn *conn) {
    SHIM_PQ_POINTER(PQerrorMessage) return f != NULL ? f(conn) : NULL;
}
static inline char *PQdb(const PGconn *conn) {
    SHIM_PQ_POINTER(PQdb) return f != NULL ? f(conn) : NULL;
}
static inline char *PQuser(const PGconn *conn) {
    SHIM_PQ_POINTER(PQuser) return f != NULL ? f(conn) : NULL;
}
static inline char *PQhost(const PGconn *conn) {
    SHIM_PQ_POINTER(PQhost) return f != NULL ? f(conn) : NULL;
}
static inline char *PQport(const PGconn *conn) {
    SHIM_PQ_POINTER(PQport) return f != NULL ? f(conn) : NULL;
}
static inline int PQconsumeInput(PGconn *conn) {
    SHIM_PQ_POINTER(PQconsumeInput) return f != NULL ? f(conn) : 0;
}
static inline PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) {
    SHIM_PQ_POINTER(PQsetNoticeProcessor) return f != NULL ? f(conn, proc, arg) : NULL;
}
static inline PGresult *PQexec(PGconn *conn, const char *query) {
    SHIM_PQ_POINTER(PQexec) return f != NULL ? f(conn, query) : NULL;
}
static inline PGresult *PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes) {
    SHIM_PQ_POINTER(PQprepare) return f != NULL ? f(conn, stmtName, query, nParams, paramTypes) : NULL;
}
static inline PGresult *PQexecPrepared(PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) {
    SHIM_PQ_POINTER(PQexecPrepared) return f != NULL ? f(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat) : NULL;
}
static inline ExecStatusType PQresultStatus(const PGresult *res) {
    SHIM_PQ_POINTER(PQresultStatus) return f != NULL ? f(res) : PGRES_FATAL_ERROR;
}
static inline char *PQresultErrorMessage(const PGresult *res) {
    SHIM_PQ_POINTER(PQresultErrorMessage) return f != NULL ? f(res) : NULL;
}
static inline char *PQresultErrorField(const PGresult *res, int fieldcode) {
    SHIM_PQ_POINTER(PQresultErrorField) return f != NULL ? f(res, fieldcode) : NULL;
}
static inline int PQntuples(const PGresult *res) {
    SHIM_PQ_POINTER(PQntuples) return f != NULL ? f(res) : 0;
}
static inline int PQnfields(const PGresult *res) {
    SHIM_PQ_POINTER(PQnfields) return f != NULL ? f(res) : 0;
}
static inline char *PQgetvalue(const PGresult *res, int tup_num, int field_num) {
    SHIM_PQ_POINTER(PQgetvalue) return f != NULL ? f(res, tup_num, field_num) : NULL;
}
static inline int PQgetisnull(const PGresult *res, int tup_num, int field_num) {
    SHIM_PQ_POINTER(PQgetisnull) return f != NULL ? f(res, tup_num, field_num) : 1;
}
static inline char *PQcmdTuples(PGresult *res) {
    SHIM_PQ_POINTER(PQcmdTuples) return f != NULL ? f(res) : NULL;
}
static inline void PQclear(PGresult *res) {
    SHIM_PQ_POINTER(PQclear) if (f != NULL) f(res);
}

#endif
