// libcsv 3 (Debian: libcsv-dev). Wrapped only by HealthIngest/CSVReader.swift.
#include <csv.h>
