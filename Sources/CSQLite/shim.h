// SQLite 3 (Debian: libsqlite3-dev). Used only inside HealthStore, for the bulk insert loop.
#include <sqlite3.h>
