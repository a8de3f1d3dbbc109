// SQLite 3 (Debian: libsqlite3-dev). Used only inside HealthStore, for the bulk insert loop.
#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call: turn off the global memory statistics
/// (a process-wide mutex on every allocation). Must run before SQLite initialises; harmless after.
static inline int schoolhealth_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
